"""Telling an OOM kill from any other death of a kernel.

A kernel's death is an OOM kill when the process died of SIGKILL (or the cause is unknown) and the
OOM kill counter (:mod:`..worker.cgroup_memory`) rose shortly before, with the rise not yet explained by
another death. A kernel that was shut down never reaches here (jupyter_client's restarter fires
only for kernels that die by themselves); one that exits or is killed while the counter stands
still is not an OOM kill.
"""

from __future__ import annotations

import collections
import signal
import time
from dataclasses import dataclass, field

from ..worker.cgroup_memory import OomCounter

# How long a rise of the counter waits for the death that explains it. The kernel dies when the
# counter rises; jupyter_client's restarter notices within its time_to_dead (3 s by default).
MATCH_WINDOW_S = 30.0
# Most unexplained rises kept (a burst of kills of a kernel's own children, say).
MAX_PENDING = 64
MAX_EVENTS = 100


@dataclass(frozen=True, slots=True)
class OomEvent:
    """One kernel ended by the OOM killer, with the figures of the last sample before it died."""

    id: int  # 1, 2, ... in this server's life: clients tell new events from those they showed
    time: float  # seconds since the epoch, when the death was noticed
    kernel_id: str
    kernel_name: str | None
    path: str | None  # the notebook or console of its session, if any
    session_type: str | None  # "notebook", "console", ...
    kernel_memory: int | None  # bytes, PSS of the kernel's processes at the last sample
    server_memory: int | None  # bytes, the figure compared with the limit at that sample
    memory_figure: str  # "working_set" (the cgroup's) or "pss" (the processes')
    limit: int  # bytes, 0 if unknown
    limit_source: str
    counter_source: str  # "cgroup" or "host": which OOM kill counter rose
    exit_signal: str | None  # "SIGKILL", or None when the exit status is unknown
    sample_time: float | None  # seconds since the epoch of the sample with those figures
    memory_before: list[list] = field(default_factory=list)  # [t_ms, kernel memory] before death
    type: str = "oom_kill"


class OomDetector:
    """Pairs rises of the OOM kill counter with kernel deaths. Pure logic: time comes in."""

    def __init__(self, clock=time.monotonic, window_s: float = MATCH_WINDOW_S):
        self.clock = clock
        self.window_s = window_s
        self.source: str | None = None  # where the counter is read, once known
        self._last: int | None = None
        self._pending: collections.deque[float] = collections.deque(maxlen=MAX_PENDING)

    def observe(self, counter: OomCounter | None) -> None:
        """A reading of the counter. The first one is the baseline: kills before it are not
        ours to explain."""
        if counter is None:
            return
        now = self.clock()
        if self._last is not None and counter.source == self.source and counter.kills > self._last:
            self._pending.extend([now] * min(counter.kills - self._last, MAX_PENDING))
        self._last, self.source = counter.kills, counter.source

    def kernel_died(self, exit_code: int | None) -> bool:
        """Whether this death is an OOM kill; if so, it explains one rise of the counter.

        ``exit_code`` is the process's return code as ``subprocess`` gives it (``-9`` for
        SIGKILL), or ``None`` when unknown (e.g. a kernel started by a custom provisioner).
        """
        now = self.clock()
        while self._pending and now - self._pending[0] > self.window_s:
            self._pending.popleft()
        # -9: killed by SIGKILL; 137: a wrapper (a shell, `conda run`) whose child was.
        if exit_code is not None and exit_code not in (-signal.SIGKILL, 128 + signal.SIGKILL):
            return False
        if not self._pending:
            return False
        self._pending.popleft()
        return True
