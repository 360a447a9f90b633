"""Quota throttling and pressure stall files: fixture trees in the v1, v2 and host formats, the
real files of this machine, and missing or unreadable files that give absent figures, never
errors. Also the two warning thresholds' configuration."""

from __future__ import annotations

import logging
import os

import pytest
from traitlets.config import Config

from jupyter_resource_monitor.config import load_config
from jupyter_resource_monitor.worker import cpu_quota, pressure
from jupyter_resource_monitor.worker.cgroups import Cgroups, CpuQuota

from .test_limits import build

V2_CGROUP = "0::/user.slice/jupyter.scope\n"
V2_OWN = "user.slice/jupyter.scope"
HYBRID_CGROUP = "4:cpu,cpuacct:/docker/abc\n0::/docker/abc\n"

# The formats of Documentation/accounting/psi.rst (cgroup and host files are alike).
CPU_PRESSURE = (
    "some avg10=12.50 avg60=8.25 avg300=2.00 total=4500000\n"
    "full avg10=1.50 avg60=0.75 avg300=0.10 total=250000\n"
)
MEMORY_PRESSURE = (
    "some avg10=0.00 avg60=0.10 avg300=0.00 total=1200\nfull avg10=0.00 avg60=0.05 avg300=0.00 total=600\n"
)
IO_PRESSURE = (
    "some avg10=3.00 avg60=2.00 avg300=1.00 total=7000000\n"
    "full avg10=2.00 avg60=1.00 avg300=0.50 total=3000000\n"
)
# Before Linux 5.13 the CPU file had no "full" line.
OLD_CPU_PRESSURE = "some avg10=0.00 avg60=0.00 avg300=0.00 total=42\n"
V2_CPU_STAT = (
    "usage_usec 900000\nuser_usec 800000\nsystem_usec 100000\nnr_periods 200\n"
    "nr_throttled 150\nthrottled_usec 2500000\nnr_bursts 0\nburst_usec 0\n"
)
V1_CPU_STAT = "nr_periods 40\nnr_throttled 10\nthrottled_time 1500000000\n"


def pressure_files(directory: str) -> dict[str, str]:
    return {
        os.path.join(directory, "cpu.pressure"): CPU_PRESSURE,
        os.path.join(directory, "memory.pressure"): MEMORY_PRESSURE,
        os.path.join(directory, "io.pressure"): IO_PRESSURE,
    }


def host_pressure(proc_root: str, files: dict[str, str]) -> None:
    os.makedirs(os.path.join(proc_root, "pressure"))
    for name, text in files.items():
        with open(os.path.join(proc_root, "pressure", name), "w") as f:
            f.write(text)


def test_v2_cgroup_pressure_is_read_from_the_servers_own_cgroup(tmp_path):
    files = {
        "cgroup.controllers": "cpu memory\n",
        os.path.join(V2_OWN, "cgroup.events"): "populated 1\n",
        **pressure_files(V2_OWN),
        "cpu.pressure": OLD_CPU_PRESSURE,
    }  # the root's (the host's): not the one to read
    sys_root, proc_root = build(tmp_path, V2_CGROUP, files)
    psi = pressure.read_psi(sys_root, proc_root)
    assert psi == {
        "source": "cgroup",
        "cpu": {
            "some": {"avg10": 12.5, "avg60": 8.25, "total_s": 4.5},
            "full": {"avg10": 1.5, "avg60": 0.75, "total_s": 0.25},
        },
        "memory": {
            "some": {"avg10": 0.0, "avg60": 0.1, "total_s": 0.0012},
            "full": {"avg10": 0.0, "avg60": 0.05, "total_s": 0.0006},
        },
        "io": {
            "some": {"avg10": 3.0, "avg60": 2.0, "total_s": 7.0},
            "full": {"avg10": 2.0, "avg60": 1.0, "total_s": 3.0},
        },
    }


def test_hybrid_hosts_read_the_unified_hierarchy(tmp_path):
    files = {
        "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "-1\n",
        "unified/docker/abc/cgroup.events": "populated 1\n",
        **pressure_files("unified/docker/abc"),
    }
    sys_root, proc_root = build(tmp_path, HYBRID_CGROUP, files)
    psi = pressure.read_psi(sys_root, proc_root)
    assert psi["source"] == "cgroup" and psi["io"]["some"]["total_s"] == 7.0


def test_the_root_cgroup_and_cgroups_without_pressure_read_the_hosts(tmp_path):
    # In the root cgroup (no cgroup.events there): its pressure is the host's, and says so.
    files = {"cgroup.controllers": "cpu memory\n", "cpu.pressure": CPU_PRESSURE}
    sys_root, proc_root = build(tmp_path, "0::/\n", files)
    host_pressure(proc_root, {"cpu": OLD_CPU_PRESSURE, "io": IO_PRESSURE})
    psi = pressure.read_psi(sys_root, proc_root)
    # A host file missing (memory) is absent; an old kernel's CPU file has no "full" line.
    assert psi == {
        "source": "host",
        "cpu": {"some": {"avg10": 0.0, "avg60": 0.0, "total_s": 4.2e-05}},
        "memory": None,
        "io": pressure.parse_pressure(IO_PRESSURE),
    }
    # A cgroup whose pressure files are missing (PSI off for cgroups): the host's too.
    files = {"cgroup.controllers": "cpu\n", os.path.join(V2_OWN, "cgroup.events"): "populated 1\n"}
    sys_root, proc_root = build(tmp_path / "other", V2_CGROUP, files)
    host_pressure(proc_root, {"cpu": CPU_PRESSURE})
    assert pressure.read_psi(sys_root, proc_root)["source"] == "host"


def test_no_psi_at_all_is_none_and_garbage_is_absent(tmp_path):
    sys_root, proc_root = build(tmp_path, "0::/\n", {})
    assert pressure.read_psi(sys_root, proc_root) is None  # a kernel without PSI
    sys_root, proc_root = build(tmp_path / "garbage", None, {})  # no /proc/self/cgroup either
    host_pressure(proc_root, {"cpu": "some avg10=x avg60=1 total=2\nnonsense\n", "memory": "", "io": "full"})
    assert pressure.read_psi(sys_root, proc_root) is None
    assert pressure.parse_pressure(None) is None


def test_this_machines_pressure_files():
    psi = pressure.read_psi()
    if not os.path.exists("/proc/pressure/cpu") and psi is None:
        return  # a kernel without PSI: absent, as it should be
    assert psi["source"] in ("cgroup", "host")
    with open("/proc/pressure/cpu") as f:
        total_us = int(f.readline().split("total=")[1])
    cpu = psi["cpu"]["some"]
    if psi["source"] == "host":  # read before ours: the counter only grows
        assert cpu["total_s"] >= total_us / 1e6
    assert 0 <= cpu["avg10"] <= 100 and 0 <= cpu["avg60"] <= 100
    assert set(psi) == {"source", "cpu", "memory", "io"}


def test_v2_quota_and_cpu_stat(tmp_path):
    files = {
        "cgroup.controllers": "cpu memory\n",
        "user.slice/cpu.max": "150000 100000\n",
        "user.slice/cpu.stat": V2_CPU_STAT,
        os.path.join(V2_OWN, "cpu.max"): "max 100000\n",
        os.path.join(V2_OWN, "cpu.stat"): "usage_usec 5\n",
    }  # no quota here: no nr_periods
    sys_root, proc_root = build(tmp_path, V2_CGROUP, files)
    cgroups = Cgroups(sys_root, proc_root)
    assert cgroups.cpu_quota() == CpuQuota(2, os.path.join(sys_root, "user.slice"), 1.5)
    window = cpu_quota.ThrottleWindow(60)
    first = cpu_quota.read_cpu_throttle(cgroups, window, now=100.0)
    assert first.quota_cpus == 1.5 and first.periods == 200 and first.throttled_periods == 150
    assert first.throttled_s == 2.5
    assert (first.throttled_percent, first.throttled_seconds, first.window_s) == (None, None, 0.0)
    with open(os.path.join(sys_root, "user.slice/cpu.stat"), "w") as f:
        f.write(
            V2_CPU_STAT.replace("nr_periods 200", "nr_periods 300")
            .replace("nr_throttled 150", "nr_throttled 175")
            .replace("2500000", "3000000")
        )
    second = cpu_quota.read_cpu_throttle(cgroups, window, now=110.0)
    assert (second.throttled_percent, second.throttled_seconds, second.window_s) == (25.0, 0.5, 10.0)


def test_v1_quota_and_cpu_stat(tmp_path):
    files = {
        "cpu,cpuacct/docker/cpu.cfs_quota_us": "200000\n",
        "cpu,cpuacct/docker/cpu.cfs_period_us": "100000\n",
        "cpu,cpuacct/docker/cpu.stat": "nr_periods 1\nnr_throttled 0\nthrottled_time 0\n",
        "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "50000\n",
        "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
        "cpu,cpuacct/docker/abc/cpu.stat": V1_CPU_STAT,
    }
    sys_root, proc_root = build(tmp_path, HYBRID_CGROUP, files)
    throttle = cpu_quota.read_cpu_throttle(Cgroups(sys_root, proc_root), cpu_quota.ThrottleWindow())
    assert throttle.version == 1 and throttle.quota_cpus == 0.5  # the tighter, inner one
    assert (throttle.periods, throttle.throttled_periods, throttle.throttled_s) == (40, 10, 1.5)


def test_no_quota_or_no_counters_is_none(tmp_path):
    files = {
        "cpu,cpuacct/docker/abc/cpu.cfs_quota_us": "-1\n",
        "cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
    }
    sys_root, proc_root = build(tmp_path, HYBRID_CGROUP, files)
    assert cpu_quota.read_cpu_throttle(Cgroups(sys_root, proc_root), cpu_quota.ThrottleWindow()) is None
    files = {"cgroup.controllers": "memory\n", os.path.join(V2_OWN, "cpu.max"): "50000 100000\n"}
    sys_root, proc_root = build(tmp_path / "nostat", V2_CGROUP, files)
    assert cpu_quota.read_cpu_throttle(Cgroups(sys_root, proc_root), cpu_quota.ThrottleWindow()) is None
    sys_root, proc_root = build(tmp_path / "empty", None, {})
    assert cpu_quota.read_cpu_throttle(Cgroups(sys_root, proc_root), cpu_quota.ThrottleWindow()) is None


def test_the_window_keeps_the_last_minute_and_restarts_on_a_reset():
    window = cpu_quota.ThrottleWindow(60)
    stat = cpu_quota.CpuStat
    assert window.add(0, "d", stat(0, 0, 0)) is None
    for t in range(1, 100):
        elapsed, base = window.add(t, "d", stat(10 * t, t, t / 10))
    assert elapsed == 60 and base.periods == 390  # the reading at t=39, the newest a minute old
    assert window.add(100, "d", stat(5, 0, 0)) is None  # counters went back: a new cgroup life
    assert window.add(101, "other", stat(6, 0, 0)) is None  # another cgroup


@pytest.mark.parametrize(
    "name, value",
    [
        ("throttle_warning_threshold", 1.5),
        ("throttle_warning_threshold", -0.1),
        ("cpu_wait_warning_threshold", -1),
    ],
)
def test_bad_thresholds_are_logged_and_the_default_kept(caplog, name, value):
    caplog.set_level(logging.WARNING)
    monitor = load_config(Config({"ResourceMonitor": {name: value}}), logging.getLogger("test"))
    assert getattr(monitor, name) == 0.5
    assert [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and f"c.ResourceMonitor.{name}" in r.getMessage()
    ]


def test_thresholds_are_configurable_and_a_cpu_wait_above_one_cpu_is_fine(caplog):
    monitor = load_config(
        Config({"ResourceMonitor": {"throttle_warning_threshold": 0.25, "cpu_wait_warning_threshold": 2.0}}),
        logging.getLogger("test"),
    )
    assert (monitor.throttle_warning_threshold, monitor.cpu_wait_warning_threshold) == (0.25, 2.0)
