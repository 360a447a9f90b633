"""The sampler against real process trees: CPU deltas, PSS exact and estimated, the cap."""

import os
import subprocess
import sys
import time

import psutil
import pytest

from jupyter_resource_monitor.worker import procfs
from jupyter_resource_monitor.worker import sampler as sampler_module
from jupyter_resource_monitor.worker.sampler import Sampler

from . import workloads


@pytest.fixture
def forked():
    proc = workloads.start(mb=100, children=12)
    # The last children may not have run yet: their first steps after fork() (the interpreter's
    # own) move their RSS a little, which would make a reading taken at once due again.
    time.sleep(0.5)
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
    sampler = Sampler(forked.pid, pss_budget=1.0)
    assert sampler.sample().pss_reads == 13  # a budget for all of them from the first sample
    total = sampler.sample().total
    truth = workloads.tree_truth(forked.pid)
    assert total.processes == 13
    assert total.rss > 10 * truth["pss"]  # 13 copies of 100 MiB each count in full in RSS
    assert total.pss == pytest.approx(truth["pss"], rel=0.1)
    assert total.pss_estimated < 0.05 * total.pss  # all read exactly


def test_siblings_not_read_are_estimated_from_those_that_were(forked):
    # a budget for a few readings only: the rest of the siblings get their group's ratio
    sampler = Sampler(forked.pid, **ONE_READING)
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
    sampler = Sampler(forked.pid, pss_budget=1.0)
    assert sampler.sample().pss_reads == 13
    sampler.pss_budget = 0  # no more readings: the first ones age
    time.sleep(0.3)
    sample = sampler.sample()
    assert sample.pss_reads == 0
    assert sample.oldest_exact_age_s >= 0.3


def test_unchanged_processes_are_not_read_again_until_their_reading_is_old(forked, monkeypatch):
    sampler = Sampler(forked.pid, pss_budget=1.0)
    assert sampler.sample().pss_reads == 13
    time.sleep(0.3)
    assert sampler.sample().pss_reads == 0  # budget to spare, nothing due
    monkeypatch.setattr(sampler_module, "REREAD_AGE_S", 0.1)
    time.sleep(0.3)
    assert sampler.sample().pss_reads == 13  # all readings are now old


def test_a_process_whose_rss_moved_is_read_again():
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time\n"
                "blocks = []\n"
                "print('READY', flush=True)\n"
                "for line in sys.stdin:\n"
                "    blocks.append(bytearray(64 << 20))\n"
                "    for o in range(0, len(blocks[-1]), 4096): blocks[-1][o] = 1\n"
                "    print('GREW', flush=True)\n"
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        assert proc.stdout.readline() == b"READY\n"
        sampler = Sampler(proc.pid, pss_budget=1.0)
        assert sampler.sample().pss_reads == 1
        time.sleep(0.2)
        assert sampler.sample().pss_reads == 0
        proc.stdin.write(b"grow\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == b"GREW\n"
        time.sleep(0.2)
        sample = sampler.sample()
        assert sample.pss_reads == 1
        assert sample.total.pss_estimated == 0
        rss_at_reading = sample.total.rss
        # No budget left: the growth since the reading is the only estimated part.
        sampler.pss_budget = 0
        proc.stdin.write(b"grow\n")
        proc.stdin.flush()
        assert proc.stdout.readline() == b"GREW\n"
        sample = sampler.sample()
        assert sample.total.rss - rss_at_reading > 32 << 20  # it did grow
        assert sample.total.pss_estimated == sample.total.rss - rss_at_reading
        assert sample.total.pss_estimated < sample.total.pss
    finally:
        proc.kill()
        proc.communicate()


def test_exact_readings_spend_at_most_the_budget_over_any_window(forked):
    # 4 ms of readings per 2 s window (2 ms refining): a few of the 13 members at a time.
    sampler = Sampler(forked.pid, pss_budget=0.002, pss_window_s=2.0)
    first = sampler.sample()
    assert 1 <= first.pss_reads < 13  # from the first sample on, within the window's budget
    spent = [(time.monotonic(), sampler.last_pss_cost_s, first.pss_reads)]
    while time.monotonic() - spent[0][0] < 4.5:
        time.sleep(0.1)
        reads = sampler.sample().pss_reads
        spent.append((time.monotonic(), sampler.last_pss_cost_s, reads))
    limit = 0.002 * 2.0
    one = max(cost / reads for _, cost, reads in spent if reads)  # the dearest reading (on average)
    for start, _, _ in spent:
        in_window = sum(cost for at, cost, _ in spent if start <= at < start + 2.0)
        # A reading starts only when its predicted cost fits: at most one misjudged reading over.
        assert in_window <= limit + 2 * one
    # The window moves on: readings go on after the first window's budget is spent.
    assert sum(reads for at, _, reads in spent if at >= spent[0][0] + 2.0) >= 1


def test_a_reading_dearer_than_the_window_allows_still_comes_when_paid_for(forked):
    # 0.5 ms per 2 s for refining: one member's reading (1-2 ms) never fits a window; it comes
    # once nothing was read for as long as the budget needs to pay for it.
    sampler = Sampler(forked.pid, pss_budget=0.0005, pss_window_s=2.0)
    assert sampler.sample().pss_reads == 1  # the family's first
    cost = sampler.last_pss_cost_s
    reads, start = 0, time.monotonic()
    while reads == 0 and time.monotonic() - start < 30:
        time.sleep(0.2)
        reads = sampler.sample().pss_reads
    waited = time.monotonic() - start
    assert reads == 1
    assert waited >= 0.8 * cost / (0.0005 * sampler_module.REFINE_SHARE)


def test_readings_that_only_refine_leave_half_the_budget_for_new_kinds(forked):
    sampler = Sampler(forked.pid, pss_budget=0.002, pss_window_s=60.0)  # 120 ms, refining 60
    sampler.sample()
    for _ in range(5):
        sampler.sample()
    spent = sampler._window_spent(time.monotonic())
    assert spent <= 0.002 * 60.0 * sampler_module.REFINE_SHARE * 1.5


def test_a_parent_of_a_thousand_children_has_all_of_them_seen():
    # Its children file spans several pages (a read returns one page at a time).
    proc = workloads.start(mb=1, children=1000)
    try:
        assert len(procfs.read_children(proc.pid, 1)) == 1000
        sample = Sampler(proc.pid, pss_budget=0).sample()
        assert (sample.seen, sample.sampled) == (1001, 1001)
    finally:
        workloads.stop(proc)


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
            f"77 (x) S 1 77 77 0 -1 0 0 0 0 0 {cpu} 0 0 0 20 0 1 0 {start} 1 100 0\n".encode()
        )
        (root / "smaps_rollup").write_bytes(b"0-0 ---p 0 00:00 0 [rollup]\nRss: 400 kB\nPss: 400 kB\n")

    write(start=500, cpu=0)
    sampler = Sampler(77, proc_root=str(tmp_path))
    sampler.sample()
    write(start=500, cpu=10)
    assert sampler.sample().total.cpu_percent > 0
    write(start=900, cpu=10**6)  # same pid, new process: its CPU time is not a delta
    assert sampler.sample().total.cpu_percent is None


def settled_pss(pid, **sampler_kw):
    """The sampler's PSS for the tree at ``pid`` with a budget for about one exact reading per
    sample (the rest estimated), after a few samples; and the truth measured the same moment."""
    sampler = Sampler(pid, **sampler_kw)
    for _ in range(3):
        sample = sampler.sample()
        time.sleep(0.1)
    return sample, workloads.tree_truth(pid)


# About one smaps_rollup reading of a 200 MiB process per sample: most members are estimated.
ONE_READING = dict(pss_budget=0.0004)  # 4 ms per 10 s window


@pytest.mark.parametrize("shape", ["chain", "tree"])
def test_fork_families_of_any_shape_share_their_ratio(shape):
    proc = workloads.start_shaped(shape, mb=200)
    try:
        sample, truth = settled_pss(proc.pid, **ONE_READING)
    finally:
        workloads.stop(proc)
    assert sample.total.processes >= 7
    assert sample.total.pss_estimated > 0.3 * sample.total.pss  # estimates were exercised
    assert sample.total.pss == pytest.approx(truth["pss"], rel=0.10)


def test_execd_processes_do_not_borrow_a_fork_familys_ratio():
    # Same name and parent as the family's children, but exec'd: their 60 MiB are their own.
    proc = workloads.start_shaped("tree", mb=200, execs=3, exec_mb=60)
    try:
        sample, truth = settled_pss(proc.pid, **ONE_READING)
    finally:
        workloads.stop(proc)
    assert sample.total.processes >= 11
    assert sample.total.pss == pytest.approx(truth["pss"], rel=0.10)


def test_lineage_groups_and_their_fallbacks(tmp_path):
    """Relatives (equal lineage fields) share a group at any depth; a process whose fields read 0
    (another user's) is alone; without ASLR, the parent and name narrow the group."""

    def stat(pid, ppid, comm, lineage):
        fields = (
            ["S", ppid] + [0] * 23 + [lineage[0]] + [0] * 18 + [lineage[1], lineage[2], 0, lineage[3], 0, 0]
        )
        return procfs.Stat(pid, comm, "S", ppid, 0, 1, 100, 4096, 0, lineage), " ".join(map(str, fields))

    (tmp_path / "sys" / "kernel").mkdir(parents=True)
    (tmp_path / "sys" / "kernel" / "randomize_va_space").write_text("2\n")
    sampler = Sampler(1, proc_root=str(tmp_path))
    parent, _ = stat(10, 1, "python", (7, 8, 9, 10))
    grandchild, _ = stat(12, 11, "python", (7, 8, 9, 10))
    execd, _ = stat(13, 10, "python", (70, 80, 90, 100))
    hidden, _ = stat(14, 10, "python", (0, 0, 0, 0))
    assert sampler._group(parent) == sampler._group(grandchild)
    assert sampler._group(execd) != sampler._group(parent)
    assert sampler._group(hidden) not in {sampler._group(s) for s in (parent, grandchild, execd)}
    (tmp_path / "sys" / "kernel" / "randomize_va_space").write_text("0\n")
    no_aslr = Sampler(1, proc_root=str(tmp_path))
    assert no_aslr._group(parent) != no_aslr._group(grandchild)  # errs high: RSS-like, never low


def cpu_over(sampler, pid, seconds):
    """Integrate the sampler's CPU over ``seconds`` (samples every 0.5 s) and the truth over the
    same window; both in percent of one CPU."""
    sampler.sample()
    before, t0 = workloads.cpu_seconds_with_reaped(pid), time.monotonic()
    busy = 0.0
    last = t0
    while time.monotonic() - t0 < seconds:
        time.sleep(0.5)
        cpu = sampler.sample().total.cpu_percent or 0.0
        now = time.monotonic()
        busy += cpu * (now - last)
        last = now
    truth = 100 * (workloads.cpu_seconds_with_reaped(pid) - before) / (last - t0)
    return busy / (last - t0), truth


def test_cpu_of_processes_too_short_to_be_sampled_is_counted():
    proc = workloads.start_bursts(burst_ms=40, gap_ms=10)
    try:
        cpu, truth = cpu_over(Sampler(proc.pid), proc.pid, 3.0)
    finally:
        workloads.stop(proc)
    assert truth > 30  # the bursts really ran (on a loaded machine, whatever they got)
    assert cpu == pytest.approx(truth, abs=15)


def test_a_sampled_child_reaped_later_is_not_counted_twice():
    # One child spins for 1.5 s (sampled while it runs), exits and is reaped.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import os, time\n"
                "pid = os.fork()\n"
                "if pid == 0:\n"
                "    end = time.process_time() + 1.5\n"
                "    while time.process_time() < end: pass\n"
                "    os._exit(0)\n"
                "print('READY', flush=True)\n"
                "os.waitpid(pid, 0)\n"
                "time.sleep(600)\n"
            ),
        ],
        stdout=subprocess.PIPE,
    )
    assert proc.stdout.readline().startswith(b"READY")
    try:
        cpu, truth = cpu_over(Sampler(proc.pid), proc.pid, 3.5)
    finally:
        workloads.stop(proc)
    assert truth > 20
    assert cpu == pytest.approx(truth, abs=15)  # counted twice would read about double


def test_left_out_counts_only_what_the_cap_left_unread(tmp_path):
    """A listed child that exited before it was read is not "left out": it is gone."""

    def proc_dir(pid, ppid, children):
        d = tmp_path / str(pid)
        (d / "task" / str(pid)).mkdir(parents=True)
        (d / "task" / str(pid) / "children").write_text(" ".join(map(str, children)))
        (d / "stat").write_text(f"{pid} (x) S {ppid} 0 0 0 -1 0 0 0 0 0 1 0 0 0 20 0 1 0 100 1 10 0\n")
        (d / "smaps_rollup").write_text("0-0 ---p 0 00:00 0 [rollup]\nRss: 40 kB\nPss: 40 kB\n")

    proc_dir(10, 1, [11, 12, 13])  # 13 exited: listed by its parent, its /proc entry gone
    proc_dir(11, 10, [])
    proc_dir(12, 10, [])
    whole = Sampler(10, proc_root=str(tmp_path)).sample()
    assert (whole.seen, whole.sampled) == (3, 3)  # nothing left out: 13 is gone, not unread
    capped = Sampler(10, max_processes=2, proc_root=str(tmp_path)).sample()
    assert (capped.seen, capped.sampled) == (3, 2)  # 12 left unread by the cap; 13 still gone


def test_a_childs_cpu_moves_from_the_children_level_to_the_roots_reaped_level_when_reaped():
    """Per subtree, the live descendants' CPU (own and reaped) and the root's reaped CPU: when the
    root reaps a child, the child's whole account leaves the first and joins the second, to the
    tick, so their sum (with the root's own) is continuous (what per-cell figures rely on)."""
    kernel = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import os, sys, time\n"
                "pid = os.fork()\n"
                "if pid == 0:\n"
                "    end = time.process_time() + 0.5\n"
                "    while time.process_time() < end: pass\n"
                "    os._exit(0)\n"
                "print(pid, flush=True)\n"
                "sys.stdin.readline()\n"
                "os.waitpid(pid, 0)\n"
                "print('reaped', flush=True)\n"
                "time.sleep(600)\n"
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        child = int(kernel.stdout.readline())
        deadline = time.monotonic() + 30
        while procfs.read_stat(child).state != "Z":  # exited, not reaped: its account is final
            assert time.monotonic() < deadline
            time.sleep(0.05)
        st = procfs.read_stat(child)
        account = (st.cpu_ticks + st.reaped_ticks) / procfs.CLOCK_TICKS
        sampler = Sampler(os.getpid())
        before = sampler.sample().subtrees[kernel.pid]
        kernel.stdin.write(b"\n")
        kernel.stdin.flush()
        assert kernel.stdout.readline() == b"reaped\n"
        after = sampler.sample().subtrees[kernel.pid]
    finally:
        kernel.stdin.close()
        workloads.stop(kernel)
    assert account >= 0.4  # the child did its work
    assert before.children_cpu_s == pytest.approx(account, abs=1e-6)
    assert after.children_cpu_s == 0.0 and after.processes == 1
    assert after.reaped_cpu_s - before.reaped_cpu_s == pytest.approx(account, abs=1e-6)
