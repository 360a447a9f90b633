"""The /proc readers against fixture files, and against this very process."""

import os

import pytest

from jupyter_resource_monitor.worker import procfs

# proc_pid_stat(5): a comm with spaces and parentheses, state S, ppid 42, utime 150, stime 50,
# cutime 30, cstime 7, 3 threads, start time 9000 ticks, 2560 pages resident, startstack 777,
# start_brk 501, arg_start 502, env_start 503 (fields 28, 47, 48, 50): a Linux >= 3.5 line.
# The same process on Linux < 3.3: no fields past 44.
OLD_STAT = (
    b"1234 (my (odd) name) S 42 1234 1234 0 -1 4194560 100 0 0 0 150 50 30 7 20 0 3 0 9000 "
    b"123456789 2560 18446744073709551615 1 1 777 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
)
STAT = OLD_STAT[:-1] + b" 0 0 501 502 0 503 0 0\n"  # fields 45-52
ROLLUP = b"""55d0c0a00000-7ffd7b1f2000 ---p 00000000 00:00 0                          [rollup]
Rss:              204800 kB
Pss:               10240 kB
Pss_Anon:           9000 kB
Shared_Dirty:     190000 kB
Swap:                  0 kB
SwapPss:             512 kB
"""


@pytest.fixture
def proc(tmp_path):
    d = tmp_path / "1234"
    (d / "task" / "1234").mkdir(parents=True)
    (d / "task" / "1240").mkdir(parents=True)
    (d / "stat").write_bytes(STAT)
    (d / "smaps_rollup").write_bytes(ROLLUP)
    (d / "task" / "1234" / "children").write_bytes(b"2000 2001 ")
    (d / "task" / "1240" / "children").write_bytes(b"2002 ")
    return str(tmp_path)


def test_stat_fields_after_the_last_parenthesis(proc):
    st = procfs.read_stat(1234, proc)
    assert st.comm == "my (odd) name"
    assert (st.state, st.ppid, st.cpu_ticks, st.num_threads, st.start_ticks) == ("S", 42, 200, 3, 9000)
    assert st.rss == 2560 * procfs.PAGE_SIZE
    assert st.reaped_ticks == 37
    assert st.lineage == (777, 501, 502, 503)


def test_old_stat_line_has_no_lineage(proc, tmp_path):
    (tmp_path / "1234" / "stat").write_bytes(OLD_STAT)
    st = procfs.read_stat(1234, proc)
    assert st.lineage == (0, 0, 0, 0) and st.cpu_ticks == 200 and st.reaped_ticks == 37


def test_children_of_every_thread(proc):
    assert sorted(procfs.read_children(1234, 3, proc)) == [2000, 2001, 2002]
    # a single-threaded process: only the main thread's file is read
    assert procfs.read_children(1234, 1, proc) == [2000, 2001]


def test_pss_in_bytes(proc):
    assert procfs.read_pss(1234, proc) == procfs.Pss(pss=10240 * 1024, rss=204800 * 1024, swap_pss=512 * 1024)


def test_empty_rollup_is_zero(proc, tmp_path):
    (tmp_path / "1234" / "smaps_rollup").write_bytes(b"")
    assert procfs.read_pss(1234, proc) == procfs.Pss(0, 0, 0)


def test_missing_process_is_gone(proc):
    with pytest.raises(procfs.ProcessGone) as info:
        procfs.read_stat(999, proc)
    assert info.value.pid == 999
    with pytest.raises(procfs.ProcessGone):
        procfs.read_children(999, 0, proc)
    with pytest.raises(procfs.ProcessGone):
        procfs.read_pss(999, proc)


@pytest.mark.skipif(os.geteuid() == 0, reason="root may read any file")
def test_unreadable_file_is_access_denied(proc, tmp_path):
    (tmp_path / "1234" / "smaps_rollup").chmod(0)
    with pytest.raises(procfs.AccessDenied):
        procfs.read_pss(1234, proc)


def test_this_process():
    st = procfs.read_stat(os.getpid())
    assert st.pid == os.getpid() and st.ppid == os.getppid() and st.rss > 0
    assert procfs.read_pss(os.getpid()).pss > 0
    assert procfs.children_supported()


def test_scan_parents_matches_stat(proc):
    assert procfs.scan_parents(proc) == {1234: 42}


def test_kept_files_read_fresh_figures_and_never_another_process():
    """A kept stat or children file reads what is true now; once its process is reaped, reading
    it fails (ESRCH), whatever process has the pid by then."""
    import subprocess
    import sys

    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import os, sys, time\nfor _ in range(2000):\n    if os.fork() == 0:\n"
            "        time.sleep(60)\n        os._exit(0)\n"
            "print('forked', flush=True)\nsys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    kept = procfs.KeptFiles(child.pid)
    try:
        assert child.stdout.readline() == b"forked\n"
        # 2,000 children: more than a page of the children file, read whole
        assert sorted(kept.children()) == sorted(procfs.read_children(child.pid, 1))
        assert len(kept.children()) == 2000
        assert procfs.parse_stat(child.pid, kept.stat()) == procfs.read_stat(child.pid)
    finally:
        for pid in procfs.read_children(child.pid, 1):
            os.kill(pid, 9)
        child.kill()
        child.wait()
        child.stdin.close()
        child.stdout.close()
    with pytest.raises(procfs.ProcessGone):
        kept.stat()
    kept.close()
