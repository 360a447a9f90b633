"""A real worker process: what it says it costs against what /proc says of it, and the share of a
CPU its samples keep to from the first one."""

from __future__ import annotations

import json
import os
import select
import subprocess
import time

import pytest

from jupyter_resource_monitor.tracking.supervisor import worker_command
from jupyter_resource_monitor.worker import procfs
from jupyter_resource_monitor.worker.main import SELF_WINDOW_S, WorkerOptions

from . import workloads


def cpu_s(pid: int) -> float:
    """utime + stime of ``pid`` (every thread), in seconds, as /proc shows it."""
    return procfs.read_stat(pid).cpu_ticks / procfs.CLOCK_TICKS


class RunningWorker:
    """The worker as the supervisor starts it, demanded every 0.5 s, with its snapshots and a
    reading of its /proc CPU every 50 ms."""

    def __init__(self, options: WorkerOptions):
        self.proc = subprocess.Popen(
            worker_command(options), stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/"
        )
        self.snapshots: list[dict] = []
        self.cpu: list[tuple[float, float]] = []  # (monotonic, /proc CPU seconds)
        self._buffer = b""

    def run(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        next_demand = 0.0
        while time.monotonic() < end:
            now = time.monotonic()
            if now >= next_demand:
                self.proc.stdin.write(b"d\n")
                self.proc.stdin.flush()
                next_demand = now + 0.5
            self.cpu.append((now, cpu_s(self.proc.pid)))
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.05)
            if ready:
                self._buffer += os.read(self.proc.stdout.fileno(), 1 << 20)
                *lines, self._buffer = self._buffer.split(b"\n")
                self.snapshots += [json.loads(line) for line in lines if line.startswith(b'{"taken_at"')]

    def proc_cpu_between(self, start: float, end: float) -> float:
        """/proc CPU seconds of the worker between two monotonic times (nearest readings)."""

        def at(t):
            return min(self.cpu, key=lambda item: abs(item[0] - t))[1]

        return at(end) - at(start)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        self.proc.stdin.close()
        self.proc.stdout.close()


@pytest.fixture
def tree():
    proc = workloads.start(mb=20, children=1000)
    yield proc
    workloads.stop(proc)


def test_the_workers_own_cpu_report_matches_proc_over_its_window(tree):
    # Busy enough for /proc's 10 ms ticks: as many samples as the walk's share allows, and a
    # thousand small siblings to read exactly.
    worker = RunningWorker(WorkerOptions(root_pid=tree.pid, interval_s=0.1, pss_budget=0.05))
    try:
        worker.run(SELF_WINDOW_S + 4)
    finally:
        worker.stop()
    last = worker.snapshots[-1]
    window = last["monitor_cpu_window_s"]
    assert window >= SELF_WINDOW_S  # a fixed window, not the last interval
    end = last["taken_monotonic"]
    truth = 100 * worker.proc_cpu_between(end - window, end) / window
    assert truth > 1.0  # 10 ticks or more over the window
    assert last["monitor_cpu_percent"] == pytest.approx(truth, rel=0.2)


def test_the_walk_and_the_exact_readings_keep_to_their_shares_from_the_first_sample(tree):
    # A thousand new processes at once: the first samples read all of them.
    worker = RunningWorker(WorkerOptions(root_pid=tree.pid))
    try:
        worker.run(SELF_WINDOW_S + 2)
    finally:
        worker.stop()
    first = worker.snapshots[0]
    assert first["seen"] == 1001
    # The worker's whole CPU (start-up aside: from its first sample on) over the run, against
    # the walk's 2 % and the readings' 2 %, with room for the probe-free idle thread and ticks.
    start, end = first["taken_monotonic"], worker.snapshots[-1]["taken_monotonic"]
    used = 100 * worker.proc_cpu_between(start, end) / (end - start)
    assert used <= 4.0
