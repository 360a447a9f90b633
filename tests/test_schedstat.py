"""CPU waiting in the sampler against real processes: idle processes are not read, counters never
decrease when a process exits, and what a process waited before it exited stays counted."""

from __future__ import annotations

import os
import time

import psutil
import pytest

from jupyter_resource_monitor.worker import schedstat
from jupyter_resource_monitor.worker.sampler import Sampler

from . import cgroups, workloads


def wait_s(pid: int) -> float:
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            total += int(f.read().split()[1])
    return total / 1e9


def test_a_thousand_idle_descendants_are_read_once_then_left_alone():
    proc = workloads.start(children=1000, busy=1)
    try:
        sampler = Sampler(proc.pid, max_processes=2000, pss_budget=0)
        first = sampler.sample()
        assert first.total.processes == 1002
        assert first.total.cpu_wait_percent is None  # no interval yet: null, not 0
        assert sampler.cpu_wait.last_reads >= 1000  # a baseline for each, once
        time.sleep(0.5)
        second = sampler.sample()
        # The spinner (state R, CPU moving) and at most a few that woke: never the idle ones.
        assert 1 <= sampler.cpu_wait.last_reads <= 10
        assert second.total.cpu_wait_percent is not None and second.total.cpu_wait_percent >= 0
    finally:
        workloads.stop(proc)


@pytest.fixture
def favoured():
    cgroups.skip_unless_possible(cgroups.cpu_unavailable(), "no cpu cgroup to shield the spinners")
    cgroup = cgroups.CpuCgroup(None, favoured=True)
    yield cgroup
    cgroup.remove()


def test_what_an_exited_process_waited_stays_counted(favoured):
    proc = workloads.start(busy=2)
    try:
        cpu = max(os.sched_getaffinity(0))
        spinners = psutil.Process(proc.pid).children()
        for spinner in spinners:
            os.sched_setaffinity(spinner.pid, {cpu})  # two spinners on one CPU: both wait
            favoured.add(spinner.pid)
        sampler = Sampler(proc.pid, pss_budget=0)
        sampler.sample()
        before = {s.pid: wait_s(s.pid) for s in spinners}
        time.sleep(1.0)
        waited = sampler.sample().total.cpu_wait_s
        truth = sum(wait_s(s.pid) - before[s.pid] for s in spinners)
        assert waited == pytest.approx(truth, abs=0.1) and truth > 0.6
        victim = spinners[0]
        victim.kill()  # a zombie until its parent exits: its threads' figures are gone
        time.sleep(0.5)
        after = sampler.sample().total
        assert after.cpu_wait_s >= waited  # a counter: an exit never takes anything back
        # The survivor now runs alone on its CPU: it barely waits.
        assert after.cpu_wait_percent is not None and after.cpu_wait_percent < 25
    finally:
        workloads.stop(proc)


def test_the_reader_sums_every_thread_and_raises_for_a_gone_process():
    waits = schedstat.read_thread_waits(os.getpid(), len(os.listdir("/proc/self/task")))
    assert set(waits) == {int(t) for t in os.listdir("/proc/self/task")}
    proc = workloads.start()
    pid = proc.pid
    workloads.stop(proc)
    with pytest.raises(schedstat.procfs.ProcessGone):
        schedstat.read_thread_waits(pid, 1)
    with pytest.raises(schedstat.procfs.ProcessGone):
        schedstat.read_thread_waits(pid, 2)
