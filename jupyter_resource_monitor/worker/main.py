"""The worker process: samples the server's process tree and writes one snapshot per line.

Started by :mod:`..tracking.supervisor` in a fresh interpreter that calls :func:`main` with the
options as JSON (forking the multi-threaded server without exec is unsafe). Protocol:

- stdin, from the server: ``d`` means "someone is polling"; ``g <json>`` is a command for the
  memory guard (see :meth:`..guard.fence.Guard.command`), ``t <json>`` for the kernels' trail
  (see :mod:`..cells.trail`). With no demand for ``idle_timeout_s``
  the worker pauses (writes ``{"event": "paused"}``) until the next one: no samples and no
  event-loop probes, so a server nobody polls is woken by neither. The guard's thread runs on
  while the main thread waits. End of file means the server is gone: the worker gives every
  fenced process its limit back and exits.
- stdout, to the server: one JSON :class:`~.snapshot.Snapshot` per sample (see
  :func:`.snapshot.encode`), or a status line (``paused``, the guard's ``guard``). The
  event-loop prober's thread writes its probes on a pipe of their own (see :mod:`.loop_probe`).

Its sampling runs at lowered priority (the guard's thread does not) and never counts itself in the
totals, but reports its own CPU use.
"""

from __future__ import annotations

import collections
import json
import os
import resource
import select
import shutil
import sys
import threading
import time
from dataclasses import asdict, dataclass

from ..cells.trail import TrailWriter
from ..guard import fence
from ..snapshot import Disk, Snapshot, encode
from . import (  # why is it slow: quota throttling, pressure stalls
    cgroup_memory,
    cpu_quota,
    limits,
    loop_probe,
    pressure,
)
from .cgroups import Cgroups
from .sampler import Sampler, own_cpu_seconds

# Share of one CPU the tree walk (cheap reads of every process) and everything else a sample does
# besides exact PSS readings may use: when a sample costs more (thousands of processes), the
# interval stretches instead of the cost growing. It holds sample by sample (each one's cost is
# paid back by the wait after it), so from the first sample on, in any window of a few intervals.
WALK_CPU_SHARE = 0.02
NICENESS = 10
# The worker reports its own CPU over about this many seconds, every thread included.
SELF_WINDOW_S = 10.0
# Descriptors the worker asks for (up to the hard limit): it keeps two open per sampled process.
OPEN_FILES_WANTED = 8192


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
    trail_fd: int | None = None  # the kernels' trail (cells/trail.py), inherited; None: none

    def to_arg(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_arg(cls, arg: str) -> WorkerOptions:
        return cls(**json.loads(arg))


class OwnCpu:
    """The worker's own CPU use (all its threads, ``time.process_time``) over the last
    ``window_s`` seconds, as /proc would show it for the worker over the same stretch.

    :meth:`mark` records the clock and the CPU counter (after each sample is written, and when
    sampling resumes); :meth:`percent` measures from the newest mark at least ``window_s`` old
    (or the oldest one, early on) to now, so a report never stands for one interval alone.
    """

    def __init__(self, window_s: float = SELF_WINDOW_S):
        self.window_s = window_s
        self._marks: collections.deque[tuple[float, float]] = collections.deque()
        self.mark()

    def mark(self) -> None:
        now = time.monotonic()
        marks = self._marks
        marks.append((now, own_cpu_seconds()))
        while len(marks) >= 2 and marks[1][0] <= now - self.window_s:
            marks.popleft()

    def percent(self) -> tuple[float | None, float]:
        """(percent of one CPU, seconds covered) up to now; percent is None over no time."""
        now, cpu = time.monotonic(), own_cpu_seconds()
        then, cpu_then = self._marks[0]
        elapsed = now - then
        return (round(100 * (cpu - cpu_then) / elapsed, 2) if elapsed > 0 else None), round(elapsed, 3)


class Monitor:
    """What one worker owns across samples: the sampler (its per-process cache), the resolved
    cgroups (looked up once, again only when the worker is moved) and the throttling window.
    Other threads of the worker share ``cgroups`` (its methods are thread-safe), e.g. for
    :meth:`.cgroups.Cgroups.working_set` at a cadence of their own."""

    def __init__(self, options: WorkerOptions, cgroups: Cgroups | None = None):
        self.options = options
        self.sampler = Sampler(
            options.root_pid,
            exclude=[os.getpid()],
            max_processes=options.max_processes,
            pss_budget=options.pss_budget,
        )
        self.cgroups = cgroups if cgroups is not None else Cgroups()
        self.throttle_window = cpu_quota.ThrottleWindow()

    def snapshot(self, interval_s: float, own: OwnCpu, guard: fence.Guard | None = None) -> Snapshot:
        """One sample of the tree, limits and disk, with the worker's own cost."""
        options, cgroups = self.options, self.cgroups
        t0 = time.thread_time()  # this thread's: a guard or probe thread's CPU is not the sample's
        tree = self.sampler.sample()
        disk = None
        if options.disk_path:
            try:
                usage = shutil.disk_usage(options.disk_path)
                disk = Disk(used=usage.used, total=usage.total)
            except OSError:
                pass  # a missing path reports no disk figures rather than failing the sample
        cgroups.refresh()  # each limit file is read once below
        guard_state = None
        if guard is not None:
            with guard.lock:
                guard_state = guard.state()
        own_percent, own_window = own.percent()
        # Keyword arguments are evaluated in order: the cgroup readings come before the cost.
        return Snapshot(
            memory_limit=limits.memory_limit(
                options.mem_limit or None, options.mem_limit_env, cgroups=cgroups
            ),
            cpu_limit=limits.cpu_limit(options.cpu_limit or None, options.cpu_limit_env, cgroups=cgroups),
            cpu_count=limits.effective_cpu_count(cgroups=cgroups),
            cgroup_memory=cgroup_memory.read_cgroup_memory(cgroups=cgroups),
            oom=cgroup_memory.read_oom_counter(cgroups=cgroups),
            cpu_throttle=cpu_quota.read_cpu_throttle(cgroups, self.throttle_window),
            psi=pressure.read_psi(cgroups=cgroups),
            taken_at=time.time(),
            taken_monotonic=time.monotonic(),
            cost_s=time.thread_time() - t0,
            total=tree.total,
            seen=tree.seen,
            sampled=tree.sampled,
            oldest_exact_age_s=tree.oldest_exact_age_s,
            subtrees=tree.subtrees,
            interval_s=interval_s,
            monitor_cpu_percent=own_percent,
            monitor_cpu_window_s=own_window,
            disk=disk,
            guard=guard_state,
        )


class Commands:
    """Lines from the server on stdin: ``d`` (someone polls), ``g <json>`` (for the guard) or
    ``t <json>`` (for the trail)."""

    def __init__(self, guard: fence.Guard | None = None, trail: TrailWriter | None = None):
        self.guard = guard
        self.trail = trail
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
            if line.startswith((b"g ", b"t ")):
                target = self.guard if line[0] == ord("g") else self.trail
                if target is not None:
                    try:
                        target.command(json.loads(line[2:]))
                    except (ValueError, TypeError, KeyError):
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

    def status(self, status: dict) -> None:
        """A status line: a JSON object with an ``event`` key, which no sample has."""
        try:
            self.write(json.dumps(status, separators=(",", ":")).encode() + b"\n")
        except (BrokenPipeError, ValueError):
            pass  # the server is gone: the main loop sees the end of stdin


def run(options: WorkerOptions) -> None:
    out = Output(sys.stdout.buffer)
    _more_open_files()
    monitor = Monitor(options)
    guard = thread = None
    if options.memory_guard is not None:
        guard, thread = fence.start(
            options.root_pid,
            fence.GuardOptions(**options.memory_guard),
            emit=out.status,
            exclude=(os.getpid(),),
            cgroups=monitor.cgroups,
        )
    trail = None
    if options.trail_fd is not None:
        trail = TrailWriter(options.trail_fd)
        # Started before the sampling lowers its priority, like the guard's: a reading taken late
        # is no boundary.
        threading.Thread(target=trail.run, name="trail", daemon=True).start()
    try:
        _sample(options, monitor, out, Commands(guard, trail))
    finally:
        if trail is not None:
            trail.stop()
        if guard is not None:
            guard.stop()
            thread.join(5.0)  # every fence is taken down before the worker goes


def _sample(options: WorkerOptions, monitor: Monitor, out: Output, commands: Commands) -> None:
    try:
        # The user's kernels come first. Linux sets a thread's nice value, not the process's:
        # the guard's thread, started before, keeps the server's priority, as a fence that lags
        # behind a runaway cell is no fence.
        os.nice(NICENESS)
    except OSError:
        pass
    guard = commands.guard
    sampler = monitor.sampler
    own = OwnCpu()
    interval = options.interval_s
    last_demand = -float("inf") if options.start_paused else time.monotonic()
    # A thread of its own; it pauses with the sampling (nobody is polling), and other threads of
    # the worker (the guard) run on while its main thread waits for demand.
    prober = loop_probe.start(options.loop_probe) if options.loop_probe else None
    while True:
        if options.idle_timeout_s > 0 and time.monotonic() - last_demand > options.idle_timeout_s:
            if prober is not None:
                prober.pause()
            out.write(b'{"event":"paused"}\n')
            while (got := commands.wait(None)) is False:
                pass  # a command for the guard: still paused
            if got is None:
                return
            if prober is not None:
                prober.resume()
            last_demand = time.monotonic()
            own.mark()  # the report's window starts again here, not before the pause
        started, cpu_started = time.monotonic(), time.thread_time()
        snapshot = monitor.snapshot(interval, own, guard)
        out.write(encode(snapshot))
        own.mark()
        # Everything this sample cost but its exact readings (encoding and writing included).
        walk_cost = time.thread_time() - cpu_started - sampler.last_pss_cost_s
        interval = max(options.interval_s, walk_cost / WALK_CPU_SHARE)
        next_at = started + interval
        while (left := next_at - time.monotonic()) > 0:
            got = commands.wait(left)
            if got is None:
                return
            if got:
                last_demand = time.monotonic()


def _more_open_files() -> None:
    """Raise the soft limit on open files towards :data:`OPEN_FILES_WANTED` (never past the hard
    limit): servers often start with 1,024, and the sampler keeps two files open per process."""
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = OPEN_FILES_WANTED if hard == resource.RLIM_INFINITY else min(OPEN_FILES_WANTED, hard)
        if soft != resource.RLIM_INFINITY and soft < wanted:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    except (OSError, ValueError):
        pass  # the sampler reads by path what it cannot keep open


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    options = WorkerOptions.from_arg(argv[0])
    try:
        run(options)
    except (BrokenPipeError, KeyboardInterrupt):
        pass  # the server went away


if __name__ == "__main__":
    main()
