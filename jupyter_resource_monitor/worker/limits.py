"""Memory and CPU limits that apply to this server: cgroup, CPU affinity, config, environment.

Linux only, standard library only. Every reader takes the root paths it reads (``sys_root`` for
the cgroup mount, ``proc_root`` for procfs) so tests can point it at a fixture tree. Readers never
raise on missing, unreadable or malformed files: they return ``None`` ("no information"), and one
bad level of the cgroup hierarchy never hides a good limit at another level.

References: man 7 cgroups, man 7 cgroup_namespaces, the kernel's
Documentation/admin-guide/cgroup-v2.rst, Documentation/admin-guide/cgroup-v1/memory.rst and
Documentation/scheduler/sched-bwc.rst.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

__all__ = [
    "Limit",
    "affinity_cpu_count",
    "cgroup_cpu_limit",
    "cgroup_memory_limit",
    "cpu_limit",
    "effective_cpu_count",
    "host_memory_total",
    "limiting_memory_cgroup",
    "memory_cgroup_levels",
    "memory_limit",
    "quota_cgroup",
    "whole_cpus",
]

SYS_ROOT = "/sys/fs/cgroup"
PROC_ROOT = "/proc"

# cgroup v1 reports "no memory limit" as PAGE_COUNTER_MAX pages in bytes: LONG_MAX rounded down to
# the page size (9223372036854771712 with 4 KiB pages). Any value this large is no real limit.
_UNLIMITED_BYTES = 1 << 62


@dataclass(frozen=True, slots=True)
class Limit:
    """An effective limit and where it came from.

    ``value`` is bytes (an ``int``) for memory and CPUs (a ``float``, possibly fractional such as
    1.5) for CPU. ``source`` is one of "cgroup", "affinity", "config", "env" or "host".
    """

    value: float
    source: str


def read_text(path: str) -> str | None:
    """The whole text of ``path``, or ``None`` if it cannot be read or decoded."""
    try:
        with open(path, encoding="ascii") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def _cgroup_paths(proc_root: str, pid: str) -> dict[str, str]:
    """Map controller name to cgroup path from ``<proc_root>/<pid>/cgroup``.

    Lines are ``hierarchy-ID:controller-list:path`` (man 7 cgroups). The v2 line is ``0::/path``
    and is stored under the key ``""``; v1 lines such as ``4:cpu,cpuacct:/x`` are stored once
    per controller. Unreadable file: empty mapping.
    """
    paths: dict[str, str] = {}
    for line in (read_text(os.path.join(proc_root, pid, "cgroup")) or "").splitlines():
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        # The v2 line's empty controller list splits to [""], which files it under "".
        for name in fields[1].split(","):
            paths[name] = fields[2]
    return paths


def _levels(mount: str, path: str | None) -> list[str]:
    """Directories from the process's own cgroup up to the mount root, innermost first.

    Without a cgroup namespace a container sees its host-side path in /proc/<pid>/cgroup while
    the mount shows only its own cgroup at the root (man 7 cgroup_namespaces). If the own path
    does not exist under ``mount`` (or is unknown, or climbs out with ".."), only the root counts.
    """
    parts = [p for p in (path or "").split("/") if p and p != "."]
    if ".." in parts or not os.path.isdir(os.path.join(mount, *parts)):
        parts = []
    return [os.path.join(mount, *parts[:i]) for i in range(len(parts), -1, -1)]


def _is_v2(sys_root: str) -> bool:
    # Pure v2 has cgroup.controllers at the mount root; a hybrid host keeps its v2 tree under
    # unified/ (usually without memory or cpu controllers) and its limits in the v1 hierarchies.
    return os.path.exists(os.path.join(sys_root, "cgroup.controllers"))


def _parse_bytes(text: str | None) -> int | None:
    """A memory limit in bytes, or ``None`` for "max", the v1 sentinel, garbage or <= 0."""
    try:
        value = int((text or "").strip())
    except ValueError:
        return None  # includes v2 "max" (cgroup-v2.rst, memory.max)
    return value if 0 < value < _UNLIMITED_BYTES else None


def _parse_quota(quota: str | None, period: str | None) -> float | None:
    """CPUs granted by ``quota`` per ``period`` (both microseconds), or ``None``.

    v1 writes -1 for no quota (sched-bwc.rst); v2 writes "max" (cgroup-v2.rst, cpu.max).
    A non-positive or unparsable quota or period gives ``None``.
    """
    try:
        q, p = int((quota or "").strip()), int((period or "").strip())
    except ValueError:
        return None
    return q / p if q > 0 and p > 0 else None


def _v1_cpu_mount(sys_root: str) -> str | None:
    # The cpu hierarchy is mounted as cpu/, or co-mounted with cpuacct as cpu,cpuacct/ (often
    # with cpu/ as a symlink to it).
    for name in ("cpu", "cpu,cpuacct", "cpuacct,cpu"):
        candidate = os.path.join(sys_root, name)
        if os.path.isdir(candidate):
            return candidate
    return None


def host_memory_total(proc_root: str = PROC_ROOT) -> int:
    """The host's total memory in bytes: ``MemTotal`` from ``<proc_root>/meminfo``.

    Falls back to ``os.sysconf`` when meminfo is unreadable or malformed; returns 0 ("unknown")
    if that fails too. Never raises.
    """
    for line in (read_text(os.path.join(proc_root, "meminfo")) or "").splitlines():
        key, _, rest = line.partition(":")
        if key == "MemTotal":
            fields = rest.split()
            if fields and fields[0].isdigit():
                return int(fields[0]) * 1024  # always "kB" (man 5 proc_meminfo)
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 0


def cgroup_memory_limit(
    sys_root: str = SYS_ROOT, proc_root: str = PROC_ROOT, pid: str = "self"
) -> int | None:
    """The tightest cgroup memory limit over ``pid``'s cgroup and its ancestors, in bytes.

    Reads ``memory.max`` (v2) or ``memory/…/memory.limit_in_bytes`` (v1). ``None`` means no
    limit or no information: unlimited at every level, files missing or malformed, or a limit
    at or above the host's MemTotal (which restricts nothing).
    """
    found = limiting_memory_cgroup(sys_root, proc_root, pid)
    return None if found is None else found[2]


def memory_cgroup_levels(
    sys_root: str = SYS_ROOT, proc_root: str = PROC_ROOT, pid: str = "self"
) -> tuple[int, list[str]] | None:
    """The cgroup version (1 or 2) and ``pid``'s memory cgroup directories, innermost first;
    ``None`` when there is no memory controller to read."""
    paths = _cgroup_paths(proc_root, pid)
    if _is_v2(sys_root):
        return 2, _levels(sys_root, paths.get(""))
    mount = os.path.join(sys_root, "memory")
    if not os.path.isdir(mount):
        return None
    return 1, _levels(mount, paths.get("memory"))


def limiting_memory_cgroup(
    sys_root: str = SYS_ROOT, proc_root: str = PROC_ROOT, pid: str = "self"
) -> tuple[int, str, int] | None:
    """The version, directory and limit (bytes) of the level whose memory limit is tightest, or
    ``None`` (no limit below the host's MemTotal, or no information)."""
    found = memory_cgroup_levels(sys_root, proc_root, pid)
    if found is None:
        return None
    version, levels = found
    name = "memory.max" if version == 2 else "memory.limit_in_bytes"
    # Limits are hierarchical: a child can never use more than any ancestor allows.
    limited = [
        (value, d) for d in levels if (value := _parse_bytes(read_text(os.path.join(d, name)))) is not None
    ]
    if not limited:
        return None
    limit, directory = min(limited, key=lambda item: item[0])
    total = host_memory_total(proc_root)
    return None if 0 < total <= limit else (version, directory, int(limit))


def quota_cgroup(
    sys_root: str = SYS_ROOT, proc_root: str = PROC_ROOT, pid: str = "self"
) -> tuple[int, str, float] | None:
    """The version, directory and quota (CPUs) of the level of ``pid``'s cpu cgroup whose quota
    is tightest (bandwidth is enforced at every level; ties go to the innermost), or ``None``
    without a quota anywhere."""
    paths = _cgroup_paths(proc_root, pid)
    found: list[tuple[float, str]] = []
    if _is_v2(sys_root):
        version = 2
        for d in _levels(sys_root, paths.get("")):
            fields = (read_text(os.path.join(d, "cpu.max")) or "").split()
            quota = _parse_quota(*fields) if len(fields) == 2 else None
            if quota is not None:
                found.append((quota, d))
    else:
        version = 1
        mount = _v1_cpu_mount(sys_root)
        if mount is None:
            return None
        for d in _levels(mount, paths.get("cpu")):
            quota = _parse_quota(
                read_text(os.path.join(d, "cpu.cfs_quota_us")),
                read_text(os.path.join(d, "cpu.cfs_period_us")),
            )
            if quota is not None:
                found.append((quota, d))
    if not found:
        return None
    quota, directory = min(found, key=lambda item: item[0])  # min keeps the first (innermost) tie
    return version, directory, quota


def cgroup_cpu_limit(sys_root: str = SYS_ROOT, proc_root: str = PROC_ROOT, pid: str = "self") -> float | None:
    """The tightest cgroup CPU quota over ``pid``'s cgroup and its ancestors, in CPUs.

    The value is quota / period, e.g. 1.5 for "150000 100000". Reads ``cpu.max`` (v2) or
    ``cpu.cfs_quota_us`` and ``cpu.cfs_period_us`` (v1, under ``cpu/`` or ``cpu,cpuacct/``).
    ``None`` means no quota anywhere or no information.
    """
    found = quota_cgroup(sys_root, proc_root, pid)
    return None if found is None else found[2]


def affinity_cpu_count() -> int:
    """CPUs this process may run on (its affinity mask); the host's count if that is unknown."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def effective_cpu_count(sys_root: str = SYS_ROOT, proc_root: str = PROC_ROOT, pid: str = "self") -> float:
    """CPUs the machine grants this process: min(affinity count, cgroup quota if any).

    Ignores configuration and environment; this is the payload's ``cpu_count``.
    """
    quota = cgroup_cpu_limit(sys_root, proc_root, pid)
    count = float(affinity_cpu_count())
    return count if quota is None else min(count, quota)


def whole_cpus(cpus: float) -> int:
    """``cpu_count`` is an integer, as psutil.cpu_count() gave jupyter-resource-usage: a
    fractional quota (1.5 CPUs) rounds up to the CPUs its processes can run on at once (2), never
    below 1. The exact figure is ``limits.cpu.cpu``."""
    return max(1, math.ceil(cpus - 1e-9))


def _positive(text: str | None, kind: type[int] | type[float]) -> float | None:
    """``text`` parsed as ``kind`` if it is a number > 0, else ``None``."""
    try:
        value = kind((text or "").strip())
    except ValueError:
        return None
    return value if value > 0 else None


def memory_limit(
    configured: int | None,
    env_value: str | None,
    *,
    sys_root: str = SYS_ROOT,
    proc_root: str = PROC_ROOT,
    pid: str = "self",
) -> Limit:
    """The effective memory limit in bytes and its source.

    The smallest of the cgroup limit ("cgroup"), ``configured`` if > 0 ("config") and
    ``env_value`` (MEM_LIMIT, integer bytes; invalid or <= 0 is ignored; "env"). Ties go to
    the earlier source in that order. With none of them, the host's MemTotal ("host").
    """
    candidates = [
        Limit(v, s)
        for v, s in (
            (cgroup_memory_limit(sys_root, proc_root, pid), "cgroup"),
            (int(configured) if configured is not None and configured > 0 else None, "config"),
            (_positive(env_value, int), "env"),
        )
        if v is not None
    ]
    if not candidates:
        return Limit(host_memory_total(proc_root), "host")
    return min(candidates, key=lambda limit: limit.value)


def cpu_limit(
    configured: float | None,
    env_value: str | None,
    *,
    sys_root: str = SYS_ROOT,
    proc_root: str = PROC_ROOT,
    pid: str = "self",
) -> Limit:
    """The effective CPU limit in CPUs and its source.

    The smallest of the cgroup quota ("cgroup"), ``configured`` if > 0 ("config"),
    ``env_value`` (CPU_LIMIT, a float > 0; invalid is ignored; "env") and the affinity count
    ("affinity"). Ties go to the earlier source in that order. The host's ``os.cpu_count()`` is
    used only when the affinity mask cannot be read.
    """
    candidates = [
        Limit(v, s)
        for v, s in (
            (cgroup_cpu_limit(sys_root, proc_root, pid), "cgroup"),
            (float(configured) if configured is not None and configured > 0 else None, "config"),
            (_positive(env_value, float), "env"),
            (float(affinity_cpu_count()), "affinity"),
        )
        if v is not None
    ]
    return min(candidates, key=lambda limit: limit.value)
