"""Tests for jupyter_resource_monitor.worker.limits against small cgroup/proc trees under tmp_path."""

from __future__ import annotations

import os

import pytest

from jupyter_resource_monitor.worker import limits
from jupyter_resource_monitor.worker.cgroups import Cgroups
from jupyter_resource_monitor.worker.limits import (
    Limit,
    affinity_cpu_count,
    cgroup_cpu_limit,
    cgroup_memory_limit,
    cpu_limit,
    effective_cpu_count,
    host_memory_total,
    memory_limit,
)

GiB = 1 << 30
HOST_KB = 16 * 1024 * 1024  # a 16 GiB host
HOST_BYTES = HOST_KB * 1024
V1_UNLIMITED = "9223372036854771712\n"  # PAGE_COUNTER_MAX pages in bytes, 4 KiB pages

V2_CGROUP = "0::/user.slice/jupyter.scope\n"
V2_OWN = "user.slice/jupyter.scope"
V1_CGROUP = "5:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n0::/\n"


def build(tmp_path, cgroup: str | None, files: dict[str, str | None], meminfo_kb: int = HOST_KB):
    """Write a fake procfs and cgroup mount; return (sys_root, proc_root).

    ``files`` maps a path under the cgroup mount to its text; ``None`` makes a directory.
    """
    proc, sys_root = tmp_path / "proc", tmp_path / "sys"
    (proc / "self").mkdir(parents=True)
    sys_root.mkdir()
    if cgroup is not None:
        (proc / "self" / "cgroup").write_text(cgroup)
    (proc / "meminfo").write_text(f"MemTotal:       {meminfo_kb} kB\nMemFree:         1024 kB\n")
    for rel, text in files.items():
        path = sys_root / rel
        if text is None:
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return str(sys_root), str(proc)


def v2(tmp_path, memory: dict[str, str], cpu: dict[str, str], cgroup: str | None = V2_CGROUP):
    """A pure v2 tree; keys of ``memory``/``cpu`` are cgroup dirs ("" for the root)."""
    files: dict[str, str | None] = {"cgroup.controllers": "cpu memory pids\n", V2_OWN: None}
    files.update({os.path.join(d, "memory.max"): t for d, t in memory.items()})
    files.update({os.path.join(d, "cpu.max"): t for d, t in cpu.items()})
    return build(tmp_path, cgroup, files)


def v1(
    tmp_path,
    memory,
    quota,
    period="100000\n",
    cpu_dir="cpu,cpuacct",
    own="docker/abc",
    cgroup=V1_CGROUP,
    extra=None,
):
    """A v1 tree with one memory and one cpu level at ``own`` and unlimited roots."""
    files: dict[str, str | None] = {
        "memory/memory.limit_in_bytes": V1_UNLIMITED,
        f"{cpu_dir}/cpu.cfs_quota_us": "-1\n",
        f"{cpu_dir}/cpu.cfs_period_us": "100000\n",
    }
    if memory is not None:
        files[f"memory/{own}/memory.limit_in_bytes"] = memory
    if quota is not None:
        files[f"{cpu_dir}/{own}/cpu.cfs_quota_us"] = quota
    if period is not None:
        files[f"{cpu_dir}/{own}/cpu.cfs_period_us"] = period
    files.update(extra or {})
    return build(tmp_path, cgroup, files)


@pytest.fixture
def affinity(monkeypatch):
    """Set the affinity mask size seen by limits; returns a setter."""

    def set_count(n: int) -> None:
        monkeypatch.setattr(limits.os, "sched_getaffinity", lambda pid: set(range(n)))

    return set_count


# --- cgroup v2 -----------------------------------------------------------------------------------


def test_v2_limited(tmp_path):
    roots = v2(tmp_path, {V2_OWN: "2147483648\n"}, {V2_OWN: "150000 100000\n"})
    assert cgroup_memory_limit(*roots) == 2 * GiB
    assert cgroup_cpu_limit(*roots) == 1.5


def test_v2_unlimited(tmp_path):
    roots = v2(tmp_path, {V2_OWN: "max\n", "": "max\n"}, {V2_OWN: "max 100000\n"})
    assert cgroup_memory_limit(*roots) is None
    assert cgroup_cpu_limit(*roots) is None


@pytest.mark.parametrize(
    ("parent_mem", "child_mem", "parent_cpu", "child_cpu", "want_mem", "want_cpu"),
    [
        (GiB, 4 * GiB, "50000 100000", "200000 100000", GiB, 0.5),  # parent tighter
        (4 * GiB, GiB, "200000 100000", "50000 100000", GiB, 0.5),  # child tighter
        ("max", 3 * GiB, "max 100000", "300000 100000", 3 * GiB, 3.0),
        (3 * GiB, "max", "300000 100000", "max 100000", 3 * GiB, 3.0),
    ],
)
def test_v2_nested_takes_minimum(tmp_path, parent_mem, child_mem, parent_cpu, child_cpu, want_mem, want_cpu):
    roots = v2(
        tmp_path,
        {"user.slice": f"{parent_mem}\n", V2_OWN: f"{child_mem}\n"},
        {"user.slice": f"{parent_cpu}\n", V2_OWN: f"{child_cpu}\n"},
    )
    assert cgroup_memory_limit(*roots) == want_mem
    assert cgroup_cpu_limit(*roots) == want_cpu


def test_v2_container_own_path_absent_uses_root(tmp_path):
    # /proc/self/cgroup shows the host-side path; the mount shows the container at its root.
    files = {"cgroup.controllers": "cpu memory\n", "memory.max": "3221225472\n", "cpu.max": "100000 100000\n"}
    roots = build(tmp_path, "0::/kubepods/burstable/pod1/ctr\n", files)
    assert cgroup_memory_limit(*roots) == 3 * GiB
    assert cgroup_cpu_limit(*roots) == 1.0


def test_v2_container_ignores_ancestors_of_absent_own_path(tmp_path):
    # A "kubepods" directory inside the container's mount is not the host's kubepods cgroup.
    files = {
        "cgroup.controllers": "cpu memory\n",
        "memory.max": "3221225472\n",
        "cpu.max": "100000 100000\n",
        "kubepods/memory.max": "1073741824\n",
        "kubepods/cpu.max": "50000 100000\n",
    }
    roots = build(tmp_path, "0::/kubepods/burstable/pod1/ctr\n", files)
    assert cgroup_memory_limit(*roots) == 3 * GiB
    assert cgroup_cpu_limit(*roots) == 1.0


def test_v2_path_escaping_mount_uses_root(tmp_path):
    roots = v2(tmp_path, {"": "1073741824\n"}, {"": "200000 100000\n"}, cgroup="0::/../outside\n")
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "memory.max").write_text("268435456\n")
    (tmp_path / "outside" / "cpu.max").write_text("50000 100000\n")
    assert cgroup_memory_limit(*roots) == GiB
    assert cgroup_cpu_limit(*roots) == 2.0


# --- cgroup v1 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cpu_dir", ["cpu", "cpu,cpuacct"])
def test_v1_limited(tmp_path, cpu_dir):
    controllers = "cpu" if cpu_dir == "cpu" else "cpu,cpuacct"
    cgroup = f"5:memory:/docker/abc\n3:{controllers}:/docker/abc\n2:cpuacct:/docker/abc\n"
    roots = v1(tmp_path, "536870912\n", "250000\n", cpu_dir=cpu_dir, cgroup=cgroup)
    assert cgroup_memory_limit(*roots) == 512 * 1024 * 1024
    assert cgroup_cpu_limit(*roots) == 2.5


def test_v1_unlimited(tmp_path):
    roots = v1(tmp_path, V1_UNLIMITED, "-1\n")
    assert cgroup_memory_limit(*roots) is None
    assert cgroup_cpu_limit(*roots) is None


def test_v1_nested_parent_tighter(tmp_path):
    extra = {
        "memory/docker/memory.limit_in_bytes": "268435456\n",
        "cpu,cpuacct/docker/cpu.cfs_quota_us": "50000\n",
        "cpu,cpuacct/docker/cpu.cfs_period_us": "100000\n",
    }
    roots = v1(tmp_path, "536870912\n", "250000\n", extra=extra)
    assert cgroup_memory_limit(*roots) == 256 * 1024 * 1024
    assert cgroup_cpu_limit(*roots) == 0.5


def test_v1_container_own_path_absent_uses_root(tmp_path):
    files = {
        "memory/memory.limit_in_bytes": "1073741824\n",
        "cpu,cpuacct/cpu.cfs_quota_us": "75000\n",
        "cpu,cpuacct/cpu.cfs_period_us": "50000\n",
    }
    roots = build(tmp_path, V1_CGROUP, files)
    assert cgroup_memory_limit(*roots) == GiB
    assert cgroup_cpu_limit(*roots) == 1.5


def test_hybrid_resolves_to_v1(tmp_path):
    # v1 controllers plus a unified/ v2 mount with no memory or cpu controllers (like this host).
    extra = {
        "unified/cgroup.controllers": "\n",
        "unified/cgroup.procs": "1\n",
        "unified/cpu.stat": "usage_usec 1\n",
    }
    roots = v1(tmp_path, "536870912\n", "150000\n", extra=extra)
    assert cgroup_memory_limit(*roots) == 512 * 1024 * 1024
    assert cgroup_cpu_limit(*roots) == 1.5


def test_v1_missing_controller_mounts(tmp_path):
    roots = build(tmp_path, V1_CGROUP, {"pids/cgroup.procs": "1\n"})
    assert cgroup_memory_limit(*roots) is None
    assert cgroup_cpu_limit(*roots) is None


# --- malformed input -----------------------------------------------------------------------------

BAD_MEMORY = ["garbage\n", "", "\n", "12abc\n", "-5\n", "0\n", "1.5e9\n", "\xff\xfe\n"]
BAD_CPU_MAX = [
    "garbage\n",
    "",
    "150000\n",
    "150000 0\n",
    "150000 -100000\n",
    "-1 100000\n",
    "0 100000\n",
    "a b\n",
    "1 2 3\n",
]


@pytest.mark.parametrize("text", BAD_MEMORY)
def test_v2_malformed_memory_is_none(tmp_path, text):
    assert cgroup_memory_limit(*v2(tmp_path, {V2_OWN: text}, {})) is None


@pytest.mark.parametrize("text", BAD_CPU_MAX)
def test_v2_malformed_cpu_is_none(tmp_path, text):
    assert cgroup_cpu_limit(*v2(tmp_path, {}, {V2_OWN: text})) is None


@pytest.mark.parametrize("text", BAD_MEMORY)
def test_v1_malformed_memory_is_none(tmp_path, text):
    assert cgroup_memory_limit(*v1(tmp_path, text, None)) is None


@pytest.mark.parametrize(
    ("quota", "period"),
    [
        ("abc\n", "100000\n"),
        ("", "100000\n"),
        ("150000\n", "0\n"),
        ("150000\n", "-100000\n"),
        ("150000\n", "x\n"),
        ("150000\n", None),
        ("0\n", "100000\n"),
        ("-5\n", "100000\n"),
    ],
)
def test_v1_malformed_cpu_is_none(tmp_path, quota, period):
    assert cgroup_cpu_limit(*v1(tmp_path, None, quota, period=period)) is None


def test_unreadable_files_are_none(tmp_path):
    # A directory where a file should be raises IsADirectoryError (an OSError), like EACCES would
    # for a non-root user; tests run as root here, so chmod 000 would not stop the read.
    roots = v2(tmp_path, {}, {}, cgroup=V2_CGROUP)
    os.mkdir(os.path.join(roots[0], V2_OWN, "memory.max"))
    os.mkdir(os.path.join(roots[0], V2_OWN, "cpu.max"))
    assert cgroup_memory_limit(*roots) is None
    assert cgroup_cpu_limit(*roots) is None


def test_missing_files_are_none(tmp_path):
    roots = v2(tmp_path, {}, {})
    assert cgroup_memory_limit(*roots) is None
    assert cgroup_cpu_limit(*roots) is None


def test_empty_roots_are_none(tmp_path):
    assert cgroup_memory_limit(str(tmp_path / "nosys"), str(tmp_path / "noproc")) is None
    assert cgroup_cpu_limit(str(tmp_path / "nosys"), str(tmp_path / "noproc")) is None


@pytest.mark.parametrize("child", ["garbage\n", "max\n", ""])
def test_bad_level_does_not_hide_good_level(tmp_path, child):
    roots = v2(
        tmp_path,
        {V2_OWN: child, "user.slice": "1073741824\n"},
        {V2_OWN: child, "user.slice": "50000 100000\n"},
    )
    assert cgroup_memory_limit(*roots) == GiB
    assert cgroup_cpu_limit(*roots) == 0.5


def test_bad_parent_does_not_hide_child(tmp_path):
    roots = v2(
        tmp_path,
        {V2_OWN: "1073741824\n", "user.slice": "junk\n"},
        {V2_OWN: "50000 100000\n", "user.slice": "junk\n"},
    )
    assert cgroup_memory_limit(*roots) == GiB
    assert cgroup_cpu_limit(*roots) == 0.5


@pytest.mark.parametrize("cgroup", [None, "", "garbage without colons\n"])
def test_unknown_proc_cgroup_falls_back_to_root(tmp_path, cgroup):
    files = {"cgroup.controllers": "cpu memory\n", "memory.max": "1073741824\n", "cpu.max": "200000 100000\n"}
    roots = build(tmp_path, cgroup, files)
    assert cgroup_memory_limit(*roots) == GiB
    assert cgroup_cpu_limit(*roots) == 2.0


def test_pid_argument_selects_proc_entry(tmp_path):
    roots = v2(tmp_path, {"user.slice": "1073741824\n", V2_OWN: "536870912\n"}, {})
    (tmp_path / "proc" / "42").mkdir()
    (tmp_path / "proc" / "42" / "cgroup").write_text("0::/user.slice\n")
    assert cgroup_memory_limit(*roots, pid="42") == GiB
    assert cgroup_memory_limit(*roots) == 512 * 1024 * 1024


# --- host memory and the MemTotal cap ------------------------------------------------------------


def test_host_memory_total_from_meminfo(tmp_path):
    (tmp_path / "meminfo").write_text(
        "MemTotal:       24684084 kB\nMemFree:          123456 kB\nMemAvailable:   999 kB\n"
    )
    assert host_memory_total(str(tmp_path)) == 24684084 * 1024


@pytest.mark.parametrize("text", ["", "MemFree: 1 kB\n", "MemTotal: lots kB\n"])
def test_host_memory_total_falls_back_to_sysconf(tmp_path, monkeypatch, text):
    monkeypatch.setattr(limits.os, "sysconf", {"SC_PAGE_SIZE": 4096, "SC_PHYS_PAGES": 1000}.get)
    (tmp_path / "meminfo").write_text(text)
    assert host_memory_total(str(tmp_path)) == 4096 * 1000


def test_host_memory_total_falls_back_without_meminfo(tmp_path):
    assert host_memory_total(str(tmp_path)) == os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") > 0


@pytest.mark.parametrize("value", [HOST_BYTES, HOST_BYTES + 4096, 100 * GiB])
def test_memory_limit_at_or_above_host_total_is_none(tmp_path, value):
    roots = v2(tmp_path, {V2_OWN: f"{value}\n"}, {})
    assert cgroup_memory_limit(*roots) is None
    assert memory_limit(None, None, Cgroups(*roots)) == Limit(HOST_BYTES, "host")


def test_v1_sentinel_is_none_even_when_host_total_unknown(tmp_path, monkeypatch):
    # With MemTotal unknown (0) only the PAGE_COUNTER_MAX check stands between us and an 8 EiB
    # "limit".
    def no_sysconf(name):
        raise ValueError(name)

    monkeypatch.setattr(limits.os, "sysconf", no_sysconf)
    roots = v1(tmp_path, V1_UNLIMITED, None)
    (tmp_path / "proc" / "meminfo").write_text("garbage\n")
    assert host_memory_total(roots[1]) == 0
    assert cgroup_memory_limit(*roots) is None
    (tmp_path / "sys" / "memory" / "docker" / "abc" / "memory.limit_in_bytes").write_text(f"{1 << 62}\n")
    assert cgroup_memory_limit(*roots) is None
    (tmp_path / "sys" / "memory" / "docker" / "abc" / "memory.limit_in_bytes").write_text(
        f"{(1 << 62) - 4096}\n"
    )
    assert cgroup_memory_limit(*roots) == (1 << 62) - 4096


def test_memory_limit_just_below_host_total_counts(tmp_path):
    roots = v2(tmp_path, {V2_OWN: f"{HOST_BYTES - 4096}\n"}, {})
    assert cgroup_memory_limit(*roots) == HOST_BYTES - 4096


# --- memory_limit precedence ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cgroup", "configured", "env", "want"),
    [
        (2 * GiB, GiB, None, Limit(GiB, "config")),
        (2 * GiB, 4 * GiB, str(3 * GiB), Limit(2 * GiB, "cgroup")),
        (2 * GiB, 4 * GiB, str(GiB), Limit(GiB, "env")),
        (None, 4 * GiB, str(3 * GiB), Limit(3 * GiB, "env")),
        (None, 4 * GiB, None, Limit(4 * GiB, "config")),
        (None, None, None, Limit(HOST_BYTES, "host")),
        (2 * GiB, 2 * GiB, str(2 * GiB), Limit(2 * GiB, "cgroup")),  # ties: cgroup first
        (None, GiB, str(GiB), Limit(GiB, "config")),  # then config
        (2 * GiB, 0, None, Limit(2 * GiB, "cgroup")),  # 0 means "not configured"
        (None, -5, None, Limit(HOST_BYTES, "host")),
    ],
)
def test_memory_limit_precedence(tmp_path, cgroup, configured, env, want):
    roots = v2(tmp_path, {V2_OWN: f"{cgroup}\n" if cgroup else "max\n"}, {})
    got = memory_limit(configured, env, Cgroups(*roots))
    assert got == want
    assert isinstance(got.value, int)


@pytest.mark.parametrize("env", ["", " ", "abc", "-1", "0", "1.5e9", "1G", "0x10"])
def test_memory_limit_ignores_invalid_env(tmp_path, env):
    roots = v2(tmp_path, {}, {})
    assert memory_limit(None, env, Cgroups(*roots)) == Limit(HOST_BYTES, "host")


def test_memory_limit_config_is_whole_bytes(tmp_path):
    roots = v2(tmp_path, {}, {})
    configured = 1.5 * GiB  # a float from a careless caller still yields whole bytes
    got = memory_limit(configured, None, Cgroups(*roots))  # type: ignore
    assert got == Limit(3 * GiB // 2, "config") and isinstance(got.value, int)


def test_memory_limit_env_allows_whitespace(tmp_path):
    roots = v2(tmp_path, {}, {})
    assert memory_limit(None, " 1073741824\n", Cgroups(*roots)) == Limit(GiB, "env")


# --- CPU: affinity, cpu_limit precedence, effective count ----------------------------------------


def test_affinity_cpu_count_uses_mask(affinity):
    affinity(3)
    assert affinity_cpu_count() == 3


def test_affinity_cpu_count_falls_back_to_cpu_count(monkeypatch):
    monkeypatch.delattr(limits.os, "sched_getaffinity")
    monkeypatch.setattr(limits.os, "cpu_count", lambda: 6)
    assert affinity_cpu_count() == 6
    monkeypatch.setattr(limits.os, "cpu_count", lambda: None)
    assert affinity_cpu_count() == 1


def test_affinity_cpu_count_survives_oserror(monkeypatch):
    def fail(pid):
        raise OSError("no")

    monkeypatch.setattr(limits.os, "sched_getaffinity", fail)
    monkeypatch.setattr(limits.os, "cpu_count", lambda: 5)
    assert affinity_cpu_count() == 5


@pytest.mark.parametrize(
    ("quota", "configured", "env", "mask", "want"),
    [
        ("150000 100000", None, None, 4, Limit(1.5, "cgroup")),
        ("150000 100000", 1.0, None, 4, Limit(1.0, "config")),
        ("150000 100000", 1.0, "0.5", 4, Limit(0.5, "env")),
        ("max 100000", None, None, 4, Limit(4.0, "affinity")),
        ("300000 100000", None, None, 2, Limit(2.0, "affinity")),
        ("max 100000", 8.0, "16", 4, Limit(4.0, "affinity")),
        ("200000 100000", 2.0, "2", 2, Limit(2.0, "cgroup")),  # ties: cgroup first
        ("max 100000", 2.0, "2", 2, Limit(2.0, "config")),  # then config
        ("max 100000", None, "2", 2, Limit(2.0, "env")),  # then env
        ("max 100000", 0, None, 4, Limit(4.0, "affinity")),  # 0 means "not configured"
        ("max 100000", -1.0, None, 4, Limit(4.0, "affinity")),
    ],
)
def test_cpu_limit_precedence(tmp_path, affinity, quota, configured, env, mask, want):
    affinity(mask)
    roots = v2(tmp_path, {}, {V2_OWN: f"{quota}\n"})
    assert cpu_limit(configured, env, Cgroups(*roots)) == want


@pytest.mark.parametrize("env", ["", "abc", "-1", "0", "nan", "inf", "-inf", "1,5"])
def test_cpu_limit_ignores_invalid_env(tmp_path, affinity, env):
    affinity(4)
    roots = v2(tmp_path, {}, {})
    assert cpu_limit(None, env, Cgroups(*roots)) == Limit(4.0, "affinity")


def test_cpu_limit_prefers_affinity_over_host_count(tmp_path, affinity, monkeypatch):
    affinity(2)
    monkeypatch.setattr(limits.os, "cpu_count", lambda: 64)
    roots = v2(tmp_path, {}, {})
    assert cpu_limit(None, None, Cgroups(*roots)) == Limit(2.0, "affinity")


@pytest.mark.parametrize(
    ("quota", "mask", "want"), [("150000 100000", 4, 1.5), ("150000 100000", 1, 1.0), ("max 100000", 3, 3.0)]
)
def test_effective_cpu_count(tmp_path, affinity, quota, mask, want):
    affinity(mask)
    roots = v2(tmp_path, {}, {V2_OWN: f"{quota}\n"})
    assert effective_cpu_count(*roots) == want


# --- contracts -----------------------------------------------------------------------------------


def test_limit_is_frozen_and_slotted():
    limit = Limit(1.5, "cgroup")
    with pytest.raises(AttributeError):
        limit.value = 2.0  # type: ignore[misc]
    assert not hasattr(limit, "__dict__")


def test_real_machine_does_not_raise():
    memory = cgroup_memory_limit()
    cpu = cgroup_cpu_limit()
    assert memory is None or (isinstance(memory, int) and memory > 0)
    assert cpu is None or (isinstance(cpu, float) and cpu > 0)
    assert 0 < effective_cpu_count() <= (os.cpu_count() or 1)
    assert host_memory_total() > 0
    assert memory_limit(None, None).value > 0
    assert cpu_limit(None, None).value > 0
