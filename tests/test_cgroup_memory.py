"""The cgroup's memory as the OOM killer counts it, and OOM kill counters, from fixture trees."""

from __future__ import annotations

from jupyter_resource_monitor.worker.cgroup_memory import (
    CgroupMemory,
    OomCounter,
    read_cgroup_memory,
    read_oom_counter,
)

from .test_limits import V1_CGROUP, V1_UNLIMITED, V2_CGROUP, V2_OWN, build

MiB = 1 << 20

V2_STAT = (
    f"anon {300 * MiB}\nfile {500 * MiB}\nkernel {40 * MiB}\nkernel_stack 1048576\n"
    f"shmem {200 * MiB}\nactive_file {100 * MiB}\ninactive_file {200 * MiB}\nslab 9\n"
)
V2_EVENTS = "low 0\nhigh 3\nmax 7\noom 2\noom_kill 2\noom_group_kill 0\n"


def v2_tree(tmp_path, own_files, root_files=None):
    files = {"cgroup.controllers": "cpu memory\n", V2_OWN: None}
    files.update({f"{V2_OWN}/{k}": v for k, v in own_files.items()})
    files.update(root_files or {})
    return build(tmp_path, V2_CGROUP, files)


def test_v2_working_set_and_breakdown(tmp_path):
    sys_root, proc = v2_tree(
        tmp_path,
        {
            "memory.max": f"{1024 * MiB}\n",
            "memory.current": f"{850 * MiB}\n",
            "memory.stat": V2_STAT,
            "memory.events": V2_EVENTS,
        },
    )
    got = read_cgroup_memory(sys_root, proc)
    assert got == CgroupMemory(
        version=2,
        usage=850 * MiB,
        working_set=650 * MiB,
        anon=300 * MiB,
        page_cache=300 * MiB,
        inactive_file=200 * MiB,
        shmem=200 * MiB,
        kernel=40 * MiB,
        pressure_events=10,
    )


def test_v2_kernel_parts_before_5_18(tmp_path):
    stat = V2_STAT.replace(f"kernel {40 * MiB}\n", "").replace("slab 9\n", f"slab {3 * MiB}\n")
    sys_root, proc = v2_tree(
        tmp_path, {"memory.max": f"{1024 * MiB}\n", "memory.current": f"{850 * MiB}\n", "memory.stat": stat}
    )
    got = read_cgroup_memory(sys_root, proc)
    assert got.kernel == 1048576 + 3 * MiB
    assert got.pressure_events == 0  # no memory.events: no pressure known


def test_v2_limit_from_parent_reads_the_parent(tmp_path):
    """The figure compared with the limit is the usage of the level that sets it."""
    sys_root, proc = v2_tree(
        tmp_path,
        {"memory.max": "max\n", "memory.current": f"{10 * MiB}\n", "memory.stat": "anon 1\nfile 0\n"},
        {
            "user.slice/memory.max": f"{512 * MiB}\n",
            "user.slice/memory.current": f"{400 * MiB}\n",
            "user.slice/memory.stat": f"anon {100 * MiB}\nfile {300 * MiB}\ninactive_file {250 * MiB}\n",
        },
    )
    got = read_cgroup_memory(sys_root, proc)
    assert (got.usage, got.working_set) == (400 * MiB, 150 * MiB)


def test_v1_working_set_and_breakdown(tmp_path):
    sys_root, proc = build(
        tmp_path,
        V1_CGROUP,
        {
            "memory/memory.limit_in_bytes": V1_UNLIMITED,
            "memory/docker/abc/memory.limit_in_bytes": f"{2048 * MiB}\n",
            "memory/docker/abc/memory.usage_in_bytes": f"{1000 * MiB}\n",
            "memory/docker/abc/memory.kmem.usage_in_bytes": f"{20 * MiB}\n",
            "memory/docker/abc/memory.failcnt": "4\n",
            # Own-level figures (without total_) must not be used: they leave out child cgroups.
            "memory/docker/abc/memory.stat": (
                f"rss 1\ncache 1\ninactive_file 1\ntotal_rss {600 * MiB}\ntotal_cache {380 * MiB}\n"
                f"total_shmem {80 * MiB}\ntotal_inactive_file {250 * MiB}\n"
            ),
        },
    )
    got = read_cgroup_memory(sys_root, proc)
    assert got == CgroupMemory(
        version=1,
        usage=1000 * MiB,
        working_set=750 * MiB,
        anon=600 * MiB,
        page_cache=300 * MiB,
        inactive_file=250 * MiB,
        shmem=80 * MiB,
        kernel=20 * MiB,
        pressure_events=4,
    )


def test_no_cgroup_limit_is_none(tmp_path):
    sys_root, proc = v2_tree(
        tmp_path, {"memory.max": "max\n", "memory.current": "5\n", "memory.stat": V2_STAT}
    )
    assert read_cgroup_memory(sys_root, proc) is None


def test_unreadable_usage_is_none(tmp_path):
    sys_root, proc = v2_tree(
        tmp_path, {"memory.max": f"{MiB}\n", "memory.current": "garbage\n", "memory.stat": V2_STAT}
    )
    assert read_cgroup_memory(sys_root, proc) is None


def test_v2_oom_counter_from_own_cgroup(tmp_path):
    sys_root, proc = v2_tree(tmp_path, {"memory.events": V2_EVENTS})
    assert read_oom_counter(sys_root, proc) == OomCounter(2, "cgroup")


def test_v1_oom_counter_from_own_cgroup(tmp_path):
    sys_root, proc = build(
        tmp_path,
        V1_CGROUP,
        {
            "memory/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 9\n",
            "memory/docker/abc/memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
        },
    )
    assert read_oom_counter(sys_root, proc) == OomCounter(1, "cgroup")


def test_oom_counter_falls_back_to_host(tmp_path):
    """The v2 root has no memory.events: every OOM kill on the host is counted instead."""
    sys_root, proc = build(tmp_path, "0::/\n", {"cgroup.controllers": "memory\n"})
    (tmp_path / "proc" / "vmstat").write_text("nr_free_pages 5\noom_kill 3\n")
    assert read_oom_counter(sys_root, proc) == OomCounter(3, "host")


def test_no_counter_anywhere_is_none(tmp_path):
    sys_root, proc = build(tmp_path, None, {})
    assert read_oom_counter(sys_root, proc) is None


def test_real_machine_does_not_raise():
    read_cgroup_memory()
    counter = read_oom_counter()
    assert counter is None or counter.kills >= 0
