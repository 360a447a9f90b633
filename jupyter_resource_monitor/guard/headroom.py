"""How much memory is left under the limit that applies (worker side).

The limit and the memory counted against it come from one of three sources, in this order:

- ``cgroup``: the limiting memory cgroup's limit, against its usage less all file cache (active
  and inactive): the cgroup reclaims file pages before its OOM killer acts, so a notebook that
  read a large file (its pages promoted to the active list by a second read) is not refused
  memory for it;
- ``configured``: ``mem_limit`` or ``MEM_LIMIT``, against the resident anonymous and shared memory
  of the server's processes (nothing kills at this limit, but its owner asked to stay under it);
- ``host``: with neither, only when the guard is switched on: the host's memory, against what it
  has not available (``MemTotal - MemAvailable``).

The cgroup's files are kept open by the worker's :class:`~..worker.cgroups.Cgroups` and re-read
with ``pread``: the guard reads them up to 50 times a second while memory moves.
"""

from __future__ import annotations

import os
from typing import NamedTuple

from ..worker.cgroups import PROC_ROOT, Cgroups, WorkingSet

MiB = 1 << 20


class Headroom(NamedTuple):
    source: str  # "cgroup", "configured" or "host"
    limit: int  # bytes
    used: int  # bytes counted against the limit
    reserve: int  # bytes kept for the server and what the fence cannot see

    @property
    def left(self) -> int:
        """What a fenced process may still take (negative past the reserve)."""
        return self.limit - self.used - self.reserve


def reserve_for(limit: int, fraction: float, minimum: int) -> int:
    return max(int(limit * fraction), minimum)


class CgroupSource:
    """The limiting memory cgroup's limit and its memory less file cache, from the worker's cgroups
    (files kept open and re-read with ``pread``: a few microseconds)."""

    name = "cgroup"

    def __init__(self, cgroups: Cgroups, first: WorkingSet):
        self.cgroups = cgroups
        self.limit = first.limit

    @classmethod
    def find(cls, cgroups: Cgroups | None = None) -> CgroupSource | None:
        cgroups = cgroups if cgroups is not None else Cgroups()
        first = cgroups.working_set()
        return None if first is None else cls(cgroups, first)

    def used(self) -> int:
        now = self.cgroups.working_set()
        if now is None:
            raise OSError("the limiting memory cgroup cannot be read")
        self.limit = now.limit  # a limit raised or lowered at run time
        return now.unreclaimable

    def close(self) -> None:
        pass  # the cgroups object is its owner's to close


class HostSource:
    """The host's memory: what is not available counts as used."""

    name = "host"

    def __init__(self, proc_root: str = PROC_ROOT):
        self._meminfo = os.open(os.path.join(proc_root, "meminfo"), os.O_RDONLY)
        total, _available = self._read()
        self.limit = total

    def _read(self) -> tuple[int, int]:
        fields = {}
        for line in os.pread(self._meminfo, 8192, 0).splitlines():
            key, _, rest = line.partition(b":")
            if key in (b"MemTotal", b"MemAvailable"):
                fields[key] = int(rest.split()[0]) * 1024
        return fields[b"MemTotal"], fields[b"MemAvailable"]

    def used(self) -> int:
        total, available = self._read()
        return total - available

    def close(self) -> None:
        try:
            os.close(self._meminfo)
        except OSError:
            pass


class ConfiguredSource:
    """A configured limit, against the resident memory the guard sums over the server's
    processes (it passes that sum to :meth:`used`)."""

    name = "configured"

    def __init__(self, limit: int):
        self.limit = limit

    def close(self) -> None:
        pass


def find_source(configured_limit: int, host: bool, cgroups: Cgroups | None = None):
    """The source the guard fences against, or None (no limit applies and the guard was not
    switched on for the host's memory). ``cgroups``: the worker's, shared with its sampling."""
    cgroup = CgroupSource.find(cgroups)
    if cgroup is not None:
        return cgroup
    if configured_limit > 0:
        return ConfiguredSource(configured_limit)
    if host:
        try:
            return HostSource()
        except (OSError, KeyError, ValueError):
            return None
    return None
