"""The worker process: samples the server's process tree and writes one snapshot per line.

Started by :mod:`..tracking.supervisor` in a fresh interpreter that calls :func:`main` with the
options as JSON (forking the multi-threaded server without exec is unsafe). Protocol:

- stdin, from the server: any line means "someone is polling". With no line for
  ``idle_timeout_s`` the worker pauses (writes ``{"event": "paused"}``) until the next line.
  End of file means the server is gone: the worker exits.
- stdout, to the server: one JSON :class:`~.snapshot.Snapshot` per sample (see
  :func:`.snapshot.encode`), or an event line. The event-loop prober's thread writes its probes on
  a pipe of their own (see :mod:`.loop_probe`).

It runs at lowered priority and never counts itself in the totals, but reports its own CPU use.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import sys
import threading
import time
from dataclasses import asdict, dataclass

from ..guard import fence
from ..snapshot import Disk, Snapshot, encode
from . import (  # why is it slow: quota throttling, pressure stalls
    cgroup_memory,
    cpu_quota,
    limits,
    loop_probe,
    pressure,
)
from .sampler import Sampler, own_cpu_seconds

# Share of one CPU the tree walk (cheap reads of every process) may use on average: when a walk
# costs more (thousands of processes), the interval stretches instead of the cost growing.
WALK_CPU_SHARE = 0.02
NICENESS = 10


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    """Everything the worker needs, passed as JSON on its command line."""

    root_pid: int
    interval_s: float = 1.0
    max_processes: int = 2000
    pss_budget: float = 0.02
    idle_timeout_s: float = 60.0  # 0: never pause
    mem_limit: int = 0  # configured bytes, 0 = none
    cpu_limit: float = 0.0  # configured CPUs, 0 = none
    mem_limit_env: str | None = None  # MEM_LIMIT as the server saw it
    cpu_limit_env: str | None = None  # CPU_LIMIT as the server saw it
    disk_path: str | None = None  # None: disk use not tracked
    loop_probe: dict | None = None  # loop_probe.ProbeOptions as a dict; None: loop not watched
    start_paused: bool = False  # started for the loop probe alone: sample only once demanded
    memory_guard: dict | None = None  # guard.fence.GuardOptions as a dict; None: no guard

    def to_arg(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_arg(cls, arg: str) -> WorkerOptions:
        return cls(**json.loads(arg))


def take_snapshot(
    sampler: Sampler,
    options: WorkerOptions,
    interval_s: float,
    cpu_before: float,
    cpu_before_at: float,
    guard: fence.Guard | None = None,
) -> Snapshot:
    """One sample of the tree, limits and disk, with the worker's own cost."""
    t0 = own_cpu_seconds()
    tree = sampler.sample()
    disk = None
    if options.disk_path:
        try:
            usage = shutil.disk_usage(options.disk_path)
            disk = Disk(used=usage.used, total=usage.total)
        except OSError:
            pass  # a missing path reports no disk figures rather than failing the sample
    guard_state = None
    if guard is not None:
        with guard.lock:
            guard_state = guard.state()
    memory_limit = limits.memory_limit(options.mem_limit or None, options.mem_limit_env)
    cpu_limit = limits.cpu_limit(options.cpu_limit or None, options.cpu_limit_env)
    now = time.monotonic()
    cpu_now = own_cpu_seconds()
    elapsed = now - cpu_before_at
    return Snapshot(
        taken_at=time.time(),
        taken_monotonic=now,
        total=tree.total,
        seen=tree.seen,
        sampled=tree.sampled,
        oldest_exact_age_s=tree.oldest_exact_age_s,
        cost_s=cpu_now - t0,
        interval_s=interval_s,
        monitor_cpu_percent=round(100 * (cpu_now - cpu_before) / elapsed, 2) if elapsed > 0 else None,
        cpu_count=limits.effective_cpu_count(),
        memory_limit=memory_limit,
        cpu_limit=cpu_limit,
        disk=disk,
        subtrees=tree.subtrees,
        cgroup_memory=cgroup_memory.read_cgroup_memory(),
        oom=cgroup_memory.read_oom_counter(),
        cpu_throttle=cpu_quota.read_cpu_throttle(),
        psi=pressure.read_psi(),
        guard=guard_state,
    )


class Commands:
    """Lines from the server on stdin: ``d`` (someone polls) or ``g <json>`` (for the guard)."""

    def __init__(self, guard: fence.Guard | None = None):
        self.guard = guard
        self._partial = b""

    def wait(self, timeout: float | None) -> bool | None:
        """Wait up to ``timeout`` seconds (None: forever) for lines on stdin.

        Returns True if a demand arrived, False on timeout or other lines only, None at end of
        file (the server is gone).
        """
        ready, _, _ = select.select([sys.stdin.buffer], [], [], timeout)
        if not ready:
            return False
        data = os.read(sys.stdin.fileno(), 4096)
        if not data:
            return None
        *lines, self._partial = (self._partial + data).split(b"\n")
        demanded = False
        for line in lines:
            if line.startswith(b"g "):
                if self.guard is not None:
                    try:
                        self.guard.command(json.loads(line[2:]))
                    except ValueError:
                        pass  # a malformed command changes nothing
            elif line:
                demanded = True
        return demanded


class Output:
    """stdout, shared by the sampling loop and the guard's thread: one line at a time."""

    def __init__(self, stream):
        self.stream = stream
        self.lock = threading.Lock()

    def write(self, line: bytes) -> None:
        with self.lock:
            self.stream.write(line)
            self.stream.flush()

    def event(self, event: dict) -> None:
        try:
            self.write(json.dumps(event, separators=(",", ":")).encode() + b"\n")
        except (BrokenPipeError, ValueError):
            pass  # the server is gone: the main loop sees the end of stdin


def run(options: WorkerOptions) -> None:
    out = Output(sys.stdout.buffer)
    guard = None
    if options.memory_guard is not None:
        guard, _thread = fence.start(
            options.root_pid,
            fence.GuardOptions(**options.memory_guard),
            emit=out.event,
            exclude=(os.getpid(),),
        )
    try:
        _sample(options, out, guard)
    finally:
        if guard is not None:
            guard.stop()
            _thread.join(5.0)  # every fence is taken down before the worker goes


def _sample(options: WorkerOptions, out: Output, guard: fence.Guard | None) -> None:
    try:
        # The user's kernels come first. Linux sets a thread's nice value, not the process's:
        # the guard's thread, started before, keeps the server's priority, as a fence that lags
        # behind a runaway cell is no fence.
        os.nice(NICENESS)
    except OSError:
        pass
    commands = Commands(guard)
    sampler = Sampler(
        options.root_pid,
        exclude=[os.getpid()],
        max_processes=options.max_processes,
        pss_budget=options.pss_budget,
    )
    interval = options.interval_s
    last_demand = -float("inf") if options.start_paused else time.monotonic()
    if options.loop_probe:
        loop_probe.start(options.loop_probe)  # a thread: probes go on while sampling pauses
    cpu_before, cpu_before_at = own_cpu_seconds(), time.monotonic()
    while True:
        if options.idle_timeout_s > 0 and time.monotonic() - last_demand > options.idle_timeout_s:
            out.write(b'{"event":"paused"}\n')
            while (got := commands.wait(None)) is False:
                pass  # a command for the guard: still paused
            if got is None:
                return
            last_demand = time.monotonic()
        started = time.monotonic()
        snapshot = take_snapshot(sampler, options, interval, cpu_before, cpu_before_at, guard)
        cpu_before, cpu_before_at = own_cpu_seconds(), time.monotonic()
        out.write(encode(snapshot))
        walk_cost = snapshot.cost_s - sampler.last_pss_cost_s
        interval = max(options.interval_s, walk_cost / WALK_CPU_SHARE)
        next_at = started + interval
        while (left := next_at - time.monotonic()) > 0:
            got = commands.wait(left)
            if got is None:
                return
            if got:
                last_demand = time.monotonic()


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    options = WorkerOptions.from_arg(argv[0])
    try:
        run(options)
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the server went away


if __name__ == "__main__":
    main()
