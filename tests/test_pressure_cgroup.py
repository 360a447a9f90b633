"""Pressure of the server's own cgroup: a real server moved into a new cgroup of the unified
hierarchy (the cgroup itself on a v2 host, /sys/fs/cgroup/unified/<name> on a hybrid one) reads
that cgroup's pressure files, between two readings of them made here."""

from __future__ import annotations

import os
import secrets
import time

import pytest

from . import cgroups, servers

ROOT = "/sys/fs/cgroup"


def unified_mount() -> str | None:
    if os.path.exists(os.path.join(ROOT, "cgroup.controllers")):
        return ROOT
    unified = os.path.join(ROOT, "unified")
    return unified if os.path.exists(os.path.join(unified, "cgroup.procs")) else None


def unavailable() -> str | None:
    mount = unified_mount()
    if os.geteuid() != 0:
        return "creating a cgroup needs root"
    if mount is None:
        return "no unified (v2) hierarchy"
    if not os.path.exists("/proc/pressure/cpu"):
        return "this kernel has no PSI"
    return None if os.access(mount, os.W_OK) else "the unified hierarchy is read-only"


def total_s(path: str, kind: str = "some") -> float:
    with open(path) as f:
        for line in f:
            if line.startswith(kind):
                return int(line.split("total=")[1]) / 1e6
    raise AssertionError(f"no {kind} line in {path}")


@pytest.fixture
def unified_cgroup():
    cgroups.skip_unless_possible(unavailable(), "no cgroup of our own in the unified hierarchy")
    path = os.path.join(unified_mount(), f"{cgroups.MemoryCgroup.PREFIX}psi-{secrets.token_hex(4)}")
    os.mkdir(path)
    yield path
    with open(os.path.join(path, "cgroup.procs")) as f:
        for pid in f.read().split():
            try:
                os.kill(int(pid), 9)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + 10
    while True:
        try:
            os.rmdir(path)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_a_server_in_its_own_cgroup_reads_that_cgroups_pressure(tmp_path, unified_cgroup):
    if not os.path.exists(os.path.join(unified_cgroup, "cpu.pressure")):
        pytest.skip("this kernel has PSI for the host only")  # then "host" is right: see below
    folder = tmp_path / "work"
    folder.mkdir()
    server = servers.ServerProcess(folder, "--ResourceMonitor.sample_interval=0.5")
    try:
        with open(os.path.join(unified_cgroup, "cgroup.procs"), "w") as f:
            f.write(str(server.proc.pid))  # before the first request: the worker starts inside
        server.wait_until("api/metrics/v1", lambda b: b["sample"]["ready"], timeout=60)
        files = {r: os.path.join(unified_cgroup, f"{r}.pressure") for r in ("cpu", "memory", "io")}
        before = {r: total_s(path) for r, path in files.items()}
        after_time = time.time()
        body = server.wait_until("api/metrics/v1", lambda b: b["sample"]["taken_at"] > after_time + 0.1)
        after = {r: total_s(path) for r, path in files.items()}
    finally:
        server.stop()
    psi = body["psi"]
    assert psi["source"] == "cgroup"
    for resource in ("cpu", "memory", "io"):
        # Read by the worker between our two readings of the same counter (the host's would be
        # far larger: it holds every process on the machine).
        assert before[resource] <= psi[resource]["some"]["total_s"] <= after[resource]
        assert 0 <= psi[resource]["some"]["avg10"] <= 100


async def test_a_server_in_the_root_cgroup_reads_the_hosts_pressure(metrics_until):
    with open("/proc/self/cgroup") as f:
        unified = [line.strip() for line in f if line.startswith("0::")]
    if unified != ["0::/"]:
        pytest.skip("this test process runs in a cgroup of its own, not the root")
    if not os.path.exists("/proc/pressure/cpu"):
        body = await metrics_until(lambda b: b["sample"]["ready"])
        assert body["psi"] is None  # a kernel without PSI: absent, never an error
        return
    before, t0 = total_s("/proc/pressure/cpu"), time.time()
    body = await metrics_until(lambda b: (b["sample"]["taken_at"] or 0) > t0 + 0.1)
    after = total_s("/proc/pressure/cpu")
    assert body["psi"]["source"] == "host"  # the root cgroup's pressure is every tenant's
    assert before <= body["psi"]["cpu"]["some"]["total_s"] <= after
