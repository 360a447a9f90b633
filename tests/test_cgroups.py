"""The worker's cgroup module: parsers, a layout resolved once (and again only when the process is
moved), and the fast working-set reading, on v1 and v2 fixture trees and on this machine."""

from __future__ import annotations

import os

import pytest

from jupyter_resource_monitor.worker import cgroups
from jupyter_resource_monitor.worker.cgroups import (
    Cgroups,
    CpuQuota,
    MemoryLimit,
    WorkingSet,
    parse_int,
    parse_keyed,
    parse_limit_bytes,
    parse_quota,
)

from .test_limits import V1_CGROUP, V1_UNLIMITED, V2_CGROUP, V2_OWN, build

MiB = 1 << 20


def v2_tree(tmp_path, limit=f"{1024 * MiB}\n"):
    files = {
        "cgroup.controllers": "cpu memory\n",
        f"{V2_OWN}/memory.max": limit,
        f"{V2_OWN}/memory.current": f"{850 * MiB}\n",
        f"{V2_OWN}/memory.stat": f"anon {300 * MiB}\nactive_file {50 * MiB}\ninactive_file {200 * MiB}\n",
        f"{V2_OWN}/cpu.max": "50000 100000\n",
    }
    return build(tmp_path, V2_CGROUP, files)


def v1_tree(tmp_path, limit=f"{600 * MiB}\n"):
    files = {
        "memory/memory.limit_in_bytes": V1_UNLIMITED,
        "memory/docker/abc/memory.limit_in_bytes": limit,
        "memory/docker/abc/memory.usage_in_bytes": f"{500 * MiB}\n",
        # v1 lists both the cgroup's own and the hierarchical (total_) figures.
        "memory/docker/abc/memory.stat": (
            f"cache 5\ninactive_file 7\ntotal_cache 9\ntotal_rss 11\ntotal_inactive_file {100 * MiB}\n"
            f"active_file 3\ntotal_active_file {20 * MiB}\n"
        ),
        "cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
        "cpu,cpuacct/cpu.cfs_period_us": "100000\n",
        "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "150000\n",
        "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
    }
    return build(tmp_path, V1_CGROUP, files)


def test_parsers():
    assert parse_int(" 42\n") == 42 and parse_int(b"7\n") == 7
    assert parse_int("max") is None and parse_int(None) is None
    assert parse_keyed("a 1\nbad\nb -2\nc x\n") == {"a": 1, "b": -2}
    assert parse_limit_bytes("max\n") is None and parse_limit_bytes(V1_UNLIMITED) is None
    assert parse_limit_bytes("0") is None and parse_limit_bytes("4096\n") == 4096
    assert parse_quota("150000", "100000") == 1.5 and parse_quota("-1", "100000") is None
    assert parse_quota("max", "100000") is None and parse_quota("1", "0") is None


def test_v2_layout_limits_and_working_set(tmp_path):
    sys_root, proc_root = v2_tree(tmp_path)
    cg = Cgroups(sys_root, proc_root)
    own = os.path.join(sys_root, V2_OWN)
    assert cg.layout.memory.version == 2 and cg.layout.memory.own == own
    assert cg.layout.unified == cg.layout.memory == cg.layout.cpu
    assert cg.memory_limit() == MemoryLimit(2, own, 1024 * MiB)
    assert cg.cpu_quota() == CpuQuota(2, own, 0.5)
    found = cg.working_set()
    assert found == WorkingSet(650 * MiB, 850 * MiB, 200 * MiB, 1024 * MiB, 2, own, active_file=50 * MiB)
    assert found.unreclaimable == 600 * MiB  # what the memory guard counts: less all file cache
    cg.close()


def test_v1_layout_limits_and_working_set(tmp_path):
    sys_root, proc_root = v1_tree(tmp_path)
    cg = Cgroups(sys_root, proc_root)
    own = os.path.join(sys_root, "memory/docker/abc")
    assert cg.layout.memory.version == 1 and cg.layout.memory.levels[-1] == os.path.join(sys_root, "memory")
    assert cg.layout.unified is None  # no unified/ in this tree
    assert cg.memory_limit() == MemoryLimit(1, own, 600 * MiB)
    assert cg.cpu_quota() == CpuQuota(1, os.path.join(sys_root, "cpu,cpuacct/docker/abc"), 1.5)
    # total_inactive_file, not the cgroup's own inactive_file
    found = cg.working_set()
    assert found == WorkingSet(400 * MiB, 500 * MiB, 100 * MiB, 600 * MiB, 1, own, active_file=20 * MiB)
    assert found.unreclaimable == 380 * MiB
    cg.close()


@pytest.mark.parametrize("tree", [v1_tree, v2_tree])
def test_the_kept_files_read_fresh_figures_and_a_lowered_limit_at_once(tmp_path, tree):
    sys_root, proc_root = tree(tmp_path)
    cg = Cgroups(sys_root, proc_root, limits_max_age_s=3600)
    first = cg.working_set()
    directory = first.directory
    usage_name = "memory.current" if first.version == 2 else "memory.usage_in_bytes"
    limit_name = "memory.max" if first.version == 2 else "memory.limit_in_bytes"
    with open(os.path.join(directory, usage_name), "w") as f:  # same inode: the kept file
        f.write(f"{first.usage + 10 * MiB}\n")
    with open(os.path.join(directory, limit_name), "w") as f:
        f.write(f"{300 * MiB}\n")
    second = cg.working_set()
    assert second.working_set == first.working_set + 10 * MiB
    assert second.limit == 300 * MiB
    with open(os.path.join(directory, limit_name), "w") as f:
        f.write("max\n" if first.version == 2 else V1_UNLIMITED)
    # Raised at this level: the last limit stands until the levels are read again.
    assert cg.working_set().limit == first.limit
    assert cg.memory_limit() is None  # read again: no limit anywhere now
    assert cg.working_set() is None
    cg.close()


def test_resolved_once_and_again_only_when_moved(tmp_path):
    sys_root, proc_root = v1_tree(tmp_path)
    cg = Cgroups(sys_root, proc_root, check_every_s=0)
    for _ in range(5):
        cg.memory_limit(), cg.cpu_quota(), cg.working_set(), cg.layout
        cg.refresh()
    assert cg.resolutions == 1
    os.makedirs(os.path.join(sys_root, "memory/other"))
    with open(os.path.join(proc_root, "self", "cgroup"), "w") as f:
        f.write(V1_CGROUP.replace("5:memory:/docker/abc", "5:memory:/other"))
    assert cg.memory_limit() is None  # /other has no limit of its own, the root none
    assert cg.resolutions == 2
    assert cg.layout.memory.own == os.path.join(sys_root, "memory/other")


def test_the_check_is_occasional(tmp_path, monkeypatch):
    sys_root, proc_root = v1_tree(tmp_path)
    cg = Cgroups(sys_root, proc_root, check_every_s=60)
    reads = []
    real = cg._read_source
    monkeypatch.setattr(cg, "_read_source", lambda: reads.append(1) or real())
    for _ in range(100):
        cg.working_set()
    assert reads == []
    cg.refresh()  # the worker's sample start: checked now
    assert reads == [1]


def test_no_limit_or_no_files_is_none(tmp_path):
    sys_root, proc_root = v2_tree(tmp_path, limit="max\n")
    assert Cgroups(sys_root, proc_root).working_set() is None
    sys_root, proc_root = build(tmp_path / "empty", None, {})
    cg = Cgroups(sys_root, proc_root)
    assert (cg.memory_limit(), cg.cpu_quota(), cg.working_set()) == (None, None, None)


def test_a_removed_cgroup_reads_none_then_recovers(tmp_path):
    sys_root, proc_root = v2_tree(tmp_path)
    cg = Cgroups(sys_root, proc_root)
    assert cg.working_set() is not None
    cg._kept[1]["usage"].close()  # as if the cgroup went away under the kept descriptor
    assert cg.working_set() is None
    assert cg.working_set() is not None


def test_this_machine():
    cg = Cgroups()
    got = cg.working_set()
    found = cg.memory_limit()
    assert (got is None) == (found is None)
    if got is not None:
        assert 0 <= got.working_set <= got.usage and got.limit == found.limit
    assert (cgroups.working_set(cg) is None) == (got is None)
    cg.close()


def test_a_worker_resolves_its_cgroups_once_for_all_its_samples(tmp_path):
    from jupyter_resource_monitor.worker.main import Monitor, OwnCpu, WorkerOptions

    sys_root, proc_root = v1_tree(tmp_path)
    cg = Cgroups(sys_root, proc_root)
    monitor = Monitor(WorkerOptions(root_pid=os.getpid(), pss_budget=0), cgroups=cg)
    own = OwnCpu()
    for _ in range(3):
        snapshot = monitor.snapshot(1.0, own)
    assert cg.resolutions == 1
    assert snapshot.memory_limit.value == 600 * MiB and snapshot.memory_limit.source == "cgroup"
    assert snapshot.cpu_limit.source == "cgroup" and snapshot.cgroup_memory.working_set == 400 * MiB
    monitor.sampler.close()
