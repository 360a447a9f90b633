"""Real cgroups for tests: a memory cgroup with a limit (the kernel's OOM killer) and a cpu cgroup
with a quota (CFS throttling).

Creating one needs root and a writable controller: cgroup v1 (``/sys/fs/cgroup/memory``,
``/sys/fs/cgroup/cpu``) or v2 with the controller in the root's ``cgroup.subtree_control``.
:func:`unavailable` and :func:`cpu_unavailable` say why not; :func:`skip_unless_possible` skips a
test then, or fails it when ``RESOURCE_MONITOR_REQUIRE_CGROUPS`` is set (scripts/test-all.sh sets
it, so a machine where cgroup tests cannot run fails loudly instead of passing quietly).

As a script it runs a command inside a new cgroup and removes the cgroup when the command ends
(the UI tests start their OOM servers, and their servers under a CPU quota, this way)::

    python tests/cgroups.py --limit-mib 600 -- jupyter lab ...
    python tests/cgroups.py --cpus 1 -- jupyter lab ...
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time

ROOT = "/sys/fs/cgroup"


def _v2(controller: str = "memory") -> bool:
    try:
        with open(os.path.join(ROOT, "cgroup.subtree_control")) as f:
            return controller in f.read().split()
    except OSError:
        return False


def skip_unless_possible(reason: str | None, what: str) -> None:
    """Skip the calling test when ``reason`` says a cgroup cannot be made here, or fail it when
    the test command requires cgroup tests (``RESOURCE_MONITOR_REQUIRE_CGROUPS=1``)."""
    if not reason:
        return
    import pytest

    if os.environ.get("RESOURCE_MONITOR_REQUIRE_CGROUPS"):
        pytest.fail(f"{what}: {reason} (RESOURCE_MONITOR_REQUIRE_CGROUPS is set)")
    pytest.skip(f"{what}: {reason}")


def unavailable() -> str | None:
    """Why a memory cgroup cannot be created here, or None if it can."""
    if os.geteuid() != 0:
        return "creating a memory cgroup needs root"
    if os.path.isdir(os.path.join(ROOT, "memory")):
        return (
            None
            if os.access(os.path.join(ROOT, "memory"), os.W_OK)
            else "the v1 memory controller is read-only"
        )
    if _v2():
        return None if os.access(ROOT, os.W_OK) else "the cgroup v2 root is read-only"
    return "no memory controller to create a cgroup in (neither v1 nor v2 with memory enabled)"


class MemoryCgroup:
    """A new memory cgroup limited to ``limit`` bytes; processes added to it (and their
    children) are OOM-killed when they outgrow it."""

    PREFIX = "jrm-test-"

    def __init__(self, limit: int):
        reason = unavailable()
        if reason:
            raise RuntimeError(reason)
        self.version = 1 if os.path.isdir(os.path.join(ROOT, "memory")) else 2
        parent = os.path.join(ROOT, "memory") if self.version == 1 else ROOT
        # Remove empty cgroups of earlier runs that were killed before cleaning up (rmdir
        # refuses a cgroup that still has members, so a running test's is safe).
        for name in os.listdir(parent):
            if name.startswith(self.PREFIX):
                try:
                    os.rmdir(os.path.join(parent, name))
                except OSError:
                    pass
        self.path = os.path.join(parent, f"{self.PREFIX}{secrets.token_hex(4)}")
        os.mkdir(self.path)
        self._write("memory.limit_in_bytes" if self.version == 1 else "memory.max", str(limit))
        if self.version == 1:
            self._write("memory.memsw.limit_in_bytes", str(limit), optional=True)  # no swap escape
        else:
            self._write("memory.swap.max", "0", optional=True)

    def _write(self, name: str, value: str, optional: bool = False) -> None:
        try:
            with open(os.path.join(self.path, name), "w") as f:
                f.write(value)
        except OSError:
            if not optional:
                raise

    def add(self, pid: int) -> None:
        self._write("cgroup.procs", str(pid))

    def oom_kills(self) -> int:
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        with open(os.path.join(self.path, name)) as f:
            for line in f:
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        return 0

    def remove(self, timeout: float = 10.0) -> None:
        """Kill what is left inside and remove the cgroup."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with open(os.path.join(self.path, "cgroup.procs")) as f:
                    pids = [int(p) for p in f.read().split()]
            except FileNotFoundError:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            try:
                os.rmdir(self.path)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


def cpu_unavailable() -> str | None:
    """Why a cpu cgroup with a quota cannot be created here, or None if it can."""
    if os.geteuid() != 0:
        return "creating a cpu cgroup needs root"
    mount = _v1_cpu_mount()
    if mount:
        return None if os.access(mount, os.W_OK) else "the v1 cpu controller is read-only"
    if _v2("cpu"):
        return None if os.access(ROOT, os.W_OK) else "the cgroup v2 root is read-only"
    return "no cpu controller to create a cgroup in (neither v1 nor v2 with cpu enabled)"


def _v1_cpu_mount() -> str | None:
    for name in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        v2_only = os.path.exists(os.path.join(ROOT, "cgroup.controllers"))
        if os.path.isdir(os.path.join(ROOT, name)) and not v2_only:
            return os.path.join(ROOT, name)
    return None


class CpuCgroup(MemoryCgroup):
    """A new cpu cgroup whose processes (and their children) share ``cpus`` CPUs of quota per
    100 ms period (None: no quota); its ``cpu.stat`` counts periods, throttled periods and
    throttled time. ``favoured``: the largest weight, so the cgroup's processes get their CPUs
    before anything else on the machine (whose own groups, autogroups included, would otherwise
    take an equal share whatever the processes' nice values)."""

    PERIOD_US = 100_000

    def __init__(self, cpus: float | None, favoured: bool = False):
        reason = cpu_unavailable()
        if reason:
            raise RuntimeError(reason)
        mount = _v1_cpu_mount()
        self.version = 1 if mount else 2
        parent = mount or ROOT
        for name in os.listdir(parent):
            if name.startswith(self.PREFIX):
                try:
                    os.rmdir(os.path.join(parent, name))
                except OSError:
                    pass
        self.path = os.path.join(parent, f"{self.PREFIX}cpu-{secrets.token_hex(4)}")
        os.mkdir(self.path)
        if favoured:
            self._write(
                "cpu.shares" if self.version == 1 else "cpu.weight",
                "262144" if self.version == 1 else "10000",
            )
        if cpus is None:
            return
        quota = str(round(cpus * self.PERIOD_US))
        if self.version == 1:
            self._write("cpu.cfs_period_us", str(self.PERIOD_US))
            self._write("cpu.cfs_quota_us", quota)
        else:
            self._write("cpu.max", f"{quota} {self.PERIOD_US}")

    def stat(self) -> dict[str, float]:
        """``cpu.stat`` now: ``nr_periods``, ``nr_throttled`` and ``throttled_s`` (seconds, from
        v1 ``throttled_time`` ns or v2 ``throttled_usec``)."""
        with open(os.path.join(self.path, "cpu.stat")) as f:
            values = {k: int(v) for k, v in (line.split() for line in f if len(line.split()) == 2)}
        throttled = values["throttled_time"] / 1e9 if self.version == 1 else values["throttled_usec"] / 1e6
        return {
            "nr_periods": values["nr_periods"],
            "nr_throttled": values["nr_throttled"],
            "throttled_s": throttled,
        }

    def oom_kills(self) -> int:
        raise TypeError("a cpu cgroup counts no OOM kills")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit-mib", type=int)
    parser.add_argument("--cpus", type=float, help="a cpu cgroup with this CPU quota instead (UI tests)")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if args.cpus is not None:
        return run_in_cpu_quota(args.cpus, command)
    if args.limit_mib is None:
        parser.error("--limit-mib or --cpus is required")
    return _run_inside(MemoryCgroup(args.limit_mib << 20), command)


def run_in_cpu_quota(cpus: float, command: list[str]) -> int:
    """Run ``command`` inside a new :class:`CpuCgroup` of ``cpus`` CPUs, then remove the cgroup:
    the UI tests start their throttled servers this way (``--cpus 1 -- jupyter lab ...``).

    Its weight is raised (v1 ``cpu.shares``, v2 ``cpu.weight``) so that on a machine busy with
    other work its processes still get CPU until the quota stops them: what holds them back is
    the quota, as in a container, and the quota bounds what they take from the others."""
    cgroup = CpuCgroup(cpus)
    if cgroup.version == 1:
        cgroup._write("cpu.shares", "262144")
    else:
        cgroup._write("cpu.weight", "10000")
    return _run_inside(cgroup, command)


def _run_inside(cgroup: MemoryCgroup, command: list[str]) -> int:
    """Start ``command`` from inside ``cgroup`` (it and its children), pass SIGTERM and SIGINT on,
    and remove the cgroup when it ends."""
    try:
        cgroup.add(os.getpid())
        child = subprocess.Popen(command)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, _frame: child.send_signal(signum))
        return child.wait()
    finally:
        # Leave the cgroup before removing it (a cgroup with a member cannot be removed).
        parent = os.path.dirname(cgroup.path)
        with open(os.path.join(parent, "cgroup.procs"), "w") as f:
            f.write(str(os.getpid()))
        cgroup.remove()


if __name__ == "__main__":
    sys.exit(main())
