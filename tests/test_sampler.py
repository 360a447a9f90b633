"""The sampler against real process trees: CPU deltas, PSS exact and estimated, the cap."""

import os
import time

import psutil
import pytest

from jupyter_resource_monitor import procfs
from jupyter_resource_monitor.sampler import Sampler

from . import workloads


@pytest.fixture
def forked():
    proc = workloads.start(mb=100, children=12)
    yield proc
    workloads.stop(proc)


def test_spinning_child_reads_the_cpu_it_burned():
    proc = workloads.start(busy=1)
    try:
        spinner = psutil.Process(proc.pid).children()[0]
        sampler = Sampler(proc.pid)
        assert sampler.sample().total.cpu_percent is None  # no delta yet: no value, not a fake 0
        burned, t0 = sum(spinner.cpu_times()[:2]), time.monotonic()
        time.sleep(1.0)
        cpu = sampler.sample().total.cpu_percent
        truth = 100 * (sum(spinner.cpu_times()[:2]) - burned) / (time.monotonic() - t0)
    finally:
        workloads.stop(proc)
    # about one CPU on an idle machine; whatever the spinner really got on a busy one
    assert truth > 30
    assert cpu == pytest.approx(truth, abs=15)


def test_forked_children_read_their_pss_sum_not_rss_sum(forked):
    sampler = Sampler(forked.pid, pss_budget=1.0, pss_burst=5.0)
    total = sampler.sample().total
    truth = workloads.tree_truth(forked.pid)
    assert total.processes == 13
    assert total.rss > 10 * truth["pss"]  # 13 copies of 100 MiB each count in full in RSS
    assert total.pss == pytest.approx(truth["pss"], rel=0.1)
    assert total.pss_estimated < 0.05 * total.pss  # all read exactly


def test_siblings_not_read_are_estimated_from_those_that_were(forked):
    # a budget for a few readings only: the rest of the siblings get their group's ratio
    sampler = Sampler(forked.pid, pss_budget=1e-9, pss_burst=0.004)
    sample = sampler.sample()
    truth = workloads.tree_truth(forked.pid)
    assert 1 <= sample.pss_reads < 13
    assert sample.total.pss_estimated > 0
    assert sample.total.pss == pytest.approx(truth["pss"], rel=0.15)


def test_no_budget_means_every_figure_is_an_estimate(forked):
    sample = Sampler(forked.pid, pss_budget=0).sample()
    assert sample.pss_reads == 0
    assert sample.total.pss_estimated == sample.total.pss == sample.total.rss
    assert sample.oldest_exact_age_s is None


def test_exact_readings_age_and_are_reported(forked):
    sampler = Sampler(forked.pid, pss_budget=1.0, pss_burst=5.0)
    assert sampler.sample().pss_reads == 13
    sampler.pss_budget = 0  # no more readings: the first ones age
    time.sleep(0.3)
    sample = sampler.sample()
    assert sample.pss_reads == 0
    assert sample.oldest_exact_age_s >= 0.3


def test_cap_is_respected_and_the_rest_reported(forked):
    sample = Sampler(forked.pid, max_processes=5).sample()
    assert sample.sampled == 5 and sample.total.processes == 5
    assert sample.seen == 13


def test_excluded_pid_is_not_counted(forked):
    child = sorted(c for c in procfs.read_children(forked.pid))[0]
    sample = Sampler(forked.pid, exclude=[child]).sample()
    assert sample.seen == 12


def test_subtrees_group_each_direct_child_with_its_descendants(forked):
    sample = Sampler(os.getpid()).sample()
    sub = sample.subtrees[forked.pid]
    assert sub.processes == 13
    assert sample.total.processes > sub.processes  # this process, and the subtree


def test_reused_pid_is_a_new_process(tmp_path):
    """A pid whose start time changed is another process: no CPU delta against the old one."""
    root = tmp_path / "77"
    (root / "task" / "77").mkdir(parents=True)
    (root / "task" / "77" / "children").write_bytes(b"")

    def write(start, cpu):
        (root / "stat").write_bytes(
            f"77 (x) S 1 77 77 0 -1 0 0 0 0 0 {cpu} 0 0 0 20 0 1 0 {start} 1 100 0\n".encode())
        (root / "smaps_rollup").write_bytes(b"0-0 ---p 0 00:00 0 [rollup]\nRss: 400 kB\nPss: 400 kB\n")

    write(start=500, cpu=0)
    sampler = Sampler(77, proc_root=str(tmp_path))
    sampler.sample()
    write(start=500, cpu=10)
    assert sampler.sample().total.cpu_percent > 0
    write(start=900, cpu=10**6)  # same pid, new process: its CPU time is not a delta
    assert sampler.sample().total.cpu_percent is None
