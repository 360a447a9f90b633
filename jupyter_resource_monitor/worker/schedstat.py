"""CPU waiting: time the server's processes were runnable but not running, per kernel and in all.

Read in the worker after each tree walk (see :mod:`.main`). The kernel keeps one figure per thread,
``/proc/<pid>/task/<tid>/schedstat`` (``<ns on CPU> <ns waiting on a run queue> <timeslices>``,
Documentation/scheduler/sched-stats.rst); ``/proc/<pid>/schedstat`` is the main thread's alone, and
a thread's figures vanish when it exits, so waiting is kept as per-thread deltas added to counters
that never decrease.

Cost bound: only processes that can have waited since their last reading are read, those whose CPU
ticks moved since the previous sample or whose state is R (runnable). An idle process cannot wait on
a run queue, so a thousand sleeping descendants cost nothing beyond the walk. A process skipped now
loses nothing: its threads' counters are cumulative and the next reading takes the whole delta
(only a thread that exits while its process is skipped takes its last moments with it).

Time throttled by a CPU quota shows up here as waiting too (a process spinning under a 0.5-CPU
quota reads about as much waiting as running): :mod:`.cpu_quota` says how much of it that was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import procfs


def read_thread_waits(pid: int, num_threads: int, root: str = procfs.PROC) -> dict[int, int]:
    """Nanoseconds each thread of ``pid`` has waited on a run queue, by thread id.

    A single-threaded process is read without listing ``task/``. Raises
    :class:`~.procfs.ProcessGone` when the process is gone; a thread that exits meanwhile is
    left out."""
    if num_threads == 1:
        tids = [pid]
    else:
        try:
            tids = [int(t) for t in os.listdir(f"{root}/{pid}/task")]
        except FileNotFoundError:
            raise procfs.ProcessGone(pid, f"{root}/{pid}/task") from None
    waits: dict[int, int] = {}
    for tid in tids:
        try:
            data = procfs.read_file(pid, f"{root}/{pid}/task/{tid}/schedstat", one_record=True)
        except procfs.ProcessGone:
            continue  # that thread exited
        fields = data.split()
        if len(fields) >= 2:
            waits[tid] = int(fields[1])
    if not waits and num_threads == 1:
        raise procfs.ProcessGone(pid, f"{root}/{pid}/task/{pid}/schedstat")
    return waits


@dataclass(slots=True)
class _Process:
    cpu_ticks: int
    waits: dict[int, int] = field(default_factory=dict)  # tid -> ns waited at the last reading


@dataclass(frozen=True, slots=True)
class WaitSample:
    """What :meth:`CpuWait.update` returns: counters (seconds, never decreasing while the
    sampler lives) and the rate over the last interval (100 = one CPU's worth of waiting; None
    until two samples)."""

    total_s: float
    total_percent: float | None
    subtrees_s: dict[int, float]  # by the root's direct child (kernel) pid, as Snapshot.subtrees
    subtrees_percent: dict[int, float | None]
    reads: int  # processes whose threads were read this time


class CpuWait:
    """Per-thread waiting deltas, summed for the tree and for each direct child's subtree."""

    def __init__(self, proc_root: str = procfs.PROC):
        self.proc_root = proc_root
        self._procs: dict[tuple[int, int], _Process] = {}  # (pid, start ticks) -> last reading
        self._prev_boot: float | None = None
        self.total_ns = 0
        self.subtree_ns: dict[int, int] = {}
        self.last_reads = 0  # processes read by the last update (the cost bound's measure)

    def update(self, stats: list[procfs.Stat], top: dict[int, int], now_boot: float) -> WaitSample:
        """Account the waiting since the previous call. ``stats`` are this walk's processes,
        ``top`` maps each descendant to the root's direct child it descends from, ``now_boot``
        is the walk's time on the boot clock (the clock of ``start_ticks``)."""
        first = self._prev_boot is None
        dt = 0.0 if first else now_boot - self._prev_boot
        procs: dict[tuple[int, int], _Process] = {}
        before_total = self.total_ns
        before_sub = dict(self.subtree_ns)
        reads = 0
        for st in stats:
            key = (st.pid, st.start_ticks)
            old = self._procs.get(key)
            # New since the previous walk: everything it waited is in the interval.
            new = not first and st.start_ticks / procfs.CLOCK_TICKS >= self._prev_boot
            must_read = old is None or st.state == "R" or st.cpu_ticks != old.cpu_ticks
            if not must_read:
                procs[key] = old  # its ticks did not move: same reading
                continue
            try:
                waits = read_thread_waits(st.pid, st.num_threads, self.proc_root)
            except procfs.ProcfsError:
                continue  # gone (or unreadable): its last reading stays counted
            reads += 1
            procs[key] = _Process(st.cpu_ticks, waits)
            if old is None and not new:
                continue  # first seen, started earlier: this reading is only a baseline
            previous = old.waits if old is not None else {}
            # A thread not in the last reading started since (its whole wait is new).
            delta = sum(max(0, ns - previous.get(tid, 0)) for tid, ns in waits.items())
            if delta:
                self.total_ns += delta
                anchor = top.get(st.pid)
                if anchor is not None:
                    self.subtree_ns[anchor] = self.subtree_ns.get(anchor, 0) + delta
        self._procs = procs
        self._prev_boot = now_boot
        self.last_reads = reads
        # Counters of subtrees whose root is gone are dropped (a restarted kernel has a new pid).
        anchors = set(top.values())
        self.subtree_ns = {pid: ns for pid, ns in self.subtree_ns.items() if pid in anchors}
        for anchor in anchors:
            self.subtree_ns.setdefault(anchor, 0)

        def percent(after: int, before: int) -> float | None:
            return None if dt <= 0 else round(100 * (after - before) / 1e9 / dt, 1)

        return WaitSample(
            total_s=self.total_ns / 1e9,
            total_percent=percent(self.total_ns, before_total),
            subtrees_s={pid: ns / 1e9 for pid, ns in self.subtree_ns.items()},
            # A subtree seen for the first time has no interval of its own yet.
            subtrees_percent={
                pid: percent(ns, before_sub[pid]) if pid in before_sub else None
                for pid, ns in self.subtree_ns.items()
            },
            reads=reads,
        )
