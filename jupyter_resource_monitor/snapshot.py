"""The sample the worker produces and the server serves: immutable records and one JSON step.

The worker builds a :class:`Snapshot`, writes it as one JSON line with :func:`encode`, and the
server reads it back with :func:`decode`. Nothing else crosses the process boundary.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

from .worker.cgroup_memory import CgroupMemory, OomCounter
from .worker.cpu_quota import CpuThrottle
from .worker.limits import Limit


@dataclass(frozen=True, slots=True)
class Usage:
    """Resource use of a set of processes (the whole tree, or one kernel's subtree)."""

    rss: int = 0  # bytes, RSS summed: shared pages counted once per process
    pss: int = 0  # bytes, PSS summed: shared pages counted once (exact where read, else estimated)
    pss_estimated: int = 0  # bytes of `pss` that are estimates rather than exact readings
    cpu_percent: float | None = None  # 100 = one CPU; None until a second sample gives a delta
    processes: int = 0
    # Run-queue waiting of the processes' threads (worker/schedstat.py): a counter of seconds that
    # never decreases while the worker lives, and its rate (100 = one CPU's worth) over the last
    # interval, None until a second sample.
    cpu_wait_s: float = 0.0
    cpu_wait_percent: float | None = None
    # bytes: PSS of the processes below a subtree's root (a kernel's children), 0 for the total
    children_pss: int = 0
    # CPU levels in seconds, 0 for the total (per-cell figures take their differences, see
    # cells/kernel.py): the own and reaped CPU (utime + stime + cutime + cstime) summed over
    # the live processes below a subtree's root, and the root's reaped CPU (cutime + cstime). When
    # the root reaps a child, the child's account leaves the first and joins the second.
    children_cpu_s: float = 0.0
    reaped_cpu_s: float = 0.0


@dataclass(frozen=True, slots=True)
class Disk:
    used: int  # bytes
    total: int  # bytes


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One sample of the server's process tree."""

    taken_at: float  # time.time() when the sample finished
    taken_monotonic: float  # time.monotonic() then: system-wide, so the server can age it
    total: Usage
    seen: int  # descendants found (plus the server itself)
    sampled: int  # of those, how many were read (the cap may leave some out)
    oldest_exact_age_s: float | None  # age of the oldest exact PSS reading in `total`
    cost_s: float  # worker CPU seconds spent on this sample
    interval_s: float  # the worker's current interval between samples
    # the worker's own CPU use (all its threads) over the last monitor_cpu_window_s seconds
    monitor_cpu_percent: float | None
    cpu_count: float  # effective CPUs (affinity, cgroup quota)
    memory_limit: Limit
    cpu_limit: Limit
    disk: Disk | None = None
    # Usage of each direct child of the server with its descendants, keyed by the child's pid:
    # kernels and terminals are direct children, so per-kernel usage needs no extra /proc work.
    subtrees: dict[int, Usage] = field(default_factory=dict)
    # The limiting cgroup's memory (None: no cgroup limit) and the OOM kill counter.
    cgroup_memory: CgroupMemory | None = None
    oom: OomCounter | None = None
    # Throttling of the cgroup whose CPU quota binds (None: no quota), and pressure stall
    # information as worker/pressure.py reads it (None: the kernel has none).
    cpu_throttle: CpuThrottle | None = None
    psi: dict | None = None
    # seconds monitor_cpu_percent covers (about 10; less in the worker's first seconds)
    monitor_cpu_window_s: float | None = None
    # The memory guard's state (guard/fence.py, Guard.state); None: no guard.
    guard: dict | None = None

    @property
    def left_out(self) -> int:
        return self.seen - self.sampled


def encode(snapshot: Snapshot) -> bytes:
    """One JSON line for the pipe from the worker."""
    return json.dumps(asdict(snapshot), separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> Snapshot:
    """Inverse of :func:`encode`. Raises ``ValueError`` (or ``TypeError``/``KeyError``) on a
    malformed line."""
    raw = json.loads(line)
    return Snapshot(
        **{
            **raw,
            "total": Usage(**raw["total"]),
            "memory_limit": Limit(**raw["memory_limit"]),
            "cpu_limit": Limit(**raw["cpu_limit"]),
            "disk": Disk(**raw["disk"]) if raw.get("disk") else None,
            "subtrees": {int(pid): Usage(**u) for pid, u in raw.get("subtrees", {}).items()},
            "cgroup_memory": CgroupMemory(**raw["cgroup_memory"]) if raw.get("cgroup_memory") else None,
            "oom": OomCounter(**raw["oom"]) if raw.get("oom") else None,
            "cpu_throttle": CpuThrottle(**raw["cpu_throttle"]) if raw.get("cpu_throttle") else None,
        }
    )
