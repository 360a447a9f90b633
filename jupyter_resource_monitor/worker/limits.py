"""Memory and CPU limits that apply to this server: cgroup, CPU affinity, config, environment.

Linux only, standard library only. Every reader takes the root paths it reads (``sys_root`` for
the cgroup mount, ``proc_root`` for procfs) so tests can point it at a fixture tree, or the
worker's resolved :class:`~.cgroups.Cgroups` (``cgroups=``), which then answers without looking the
cgroup up again; :func:`memory_limit` and :func:`cpu_limit` take only the latter. Readers never
raise on missing, unreadable or malformed files: they return ``None`` ("no information"), and one
bad level of the cgroup hierarchy never hides a good limit at another level (see :mod:`.cgroups`,
also for the references).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from .cgroups import PROC_ROOT, SYS_ROOT, Cgroups, host_memory_total

__all__ = [
    "Limit",
    "affinity_cpu_count",
    "cgroup_cpu_limit",
    "cgroup_memory_limit",
    "cpu_limit",
    "effective_cpu_count",
    "host_memory_total",
    "memory_limit",
    "whole_cpus",
]


@dataclass(frozen=True, slots=True)
class Limit:
    """An effective limit and where it came from.

    ``value`` is bytes (an ``int``) for memory and CPUs (a ``float``, possibly fractional such as
    1.5) for CPU. ``source`` is one of "cgroup", "affinity", "config", "env" or "host".
    """

    value: float
    source: str


def _cgroups(cgroups: Cgroups | None, sys_root: str, proc_root: str, pid: str) -> Cgroups:
    return cgroups if cgroups is not None else Cgroups(sys_root, proc_root, pid)


def cgroup_memory_limit(
    sys_root: str = SYS_ROOT, proc_root: str = PROC_ROOT, pid: str = "self", *, cgroups: Cgroups | None = None
) -> int | None:
    """The tightest cgroup memory limit over ``pid``'s cgroup and its ancestors, in bytes.

    Reads ``memory.max`` (v2) or ``memory/…/memory.limit_in_bytes`` (v1). ``None`` means no
    limit or no information: unlimited at every level, files missing or malformed, or a limit
    at or above the host's MemTotal (which restricts nothing).
    """
    found = _cgroups(cgroups, sys_root, proc_root, pid).memory_limit()
    return None if found is None else found.limit


def cgroup_cpu_limit(
    sys_root: str = SYS_ROOT, proc_root: str = PROC_ROOT, pid: str = "self", *, cgroups: Cgroups | None = None
) -> float | None:
    """The tightest cgroup CPU quota over ``pid``'s cgroup and its ancestors, in CPUs.

    The value is quota / period, e.g. 1.5 for "150000 100000". Reads ``cpu.max`` (v2) or
    ``cpu.cfs_quota_us`` and ``cpu.cfs_period_us`` (v1, under ``cpu/`` or ``cpu,cpuacct/``).
    ``None`` means no quota anywhere or no information.
    """
    found = _cgroups(cgroups, sys_root, proc_root, pid).cpu_quota()
    return None if found is None else found.cpus


def affinity_cpu_count() -> int:
    """CPUs this process may run on (its affinity mask); the host's count if that is unknown."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def effective_cpu_count(
    sys_root: str = SYS_ROOT, proc_root: str = PROC_ROOT, pid: str = "self", *, cgroups: Cgroups | None = None
) -> float:
    """CPUs the machine grants this process: min(affinity count, cgroup quota if any).

    Ignores configuration and environment; this is the payload's ``cpu_count``.
    """
    quota = cgroup_cpu_limit(sys_root, proc_root, pid, cgroups=cgroups)
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


def _tightest(
    cgroup: float | None, configured: float | None, env_value: str | None, kind: type[int] | type[float]
) -> Limit | None:
    """The smallest limit set by the cgroup, config (if > 0) or env (a ``kind`` > 0; invalid is
    ignored); ties go to the earlier in that order. ``None`` when none sets one."""
    candidates = [
        Limit(v, s)
        for v, s in (
            (cgroup, "cgroup"),
            (kind(configured) if configured is not None and configured > 0 else None, "config"),
            (_positive(env_value, kind), "env"),
        )
        if v is not None
    ]
    return min(candidates, key=lambda limit: limit.value, default=None)


def memory_limit(configured: int | None, env_value: str | None, cgroups: Cgroups | None = None) -> Limit:
    """The effective memory limit in bytes and its source, for ``cgroups`` (this process's when
    ``None``).

    The smallest of the cgroup limit ("cgroup"), ``configured`` if > 0 ("config") and
    ``env_value`` (MEM_LIMIT, integer bytes; invalid or <= 0 is ignored; "env"). Ties go to
    the earlier source in that order. With none of them, the host's MemTotal ("host").
    """
    cgroups = cgroups if cgroups is not None else Cgroups()
    found = _tightest(cgroup_memory_limit(cgroups=cgroups), configured, env_value, int)
    return found if found is not None else Limit(cgroups.host_memory_total, "host")


def cpu_limit(configured: float | None, env_value: str | None, cgroups: Cgroups | None = None) -> Limit:
    """The effective CPU limit in CPUs and its source, for ``cgroups`` (this process's when
    ``None``).

    The smallest of the cgroup quota ("cgroup"), ``configured`` if > 0 ("config"),
    ``env_value`` (CPU_LIMIT, a float > 0; invalid is ignored; "env") and the affinity count
    ("affinity"). Ties go to the earlier source in that order. The host's ``os.cpu_count()`` is
    used only when the affinity mask cannot be read.
    """
    found = _tightest(cgroup_cpu_limit(cgroups=cgroups), configured, env_value, float)
    affinity = Limit(float(affinity_cpu_count()), "affinity")
    return found if found is not None and found.value <= affinity.value else affinity
