"""The cgroups of one process, resolved once, and the small parsers every cgroup reader shares.

Linux only, standard library only. Nothing here raises on a missing, unreadable or malformed file:
readers return ``None`` ("no information"), and one bad level of a hierarchy never hides a good
limit at another level. Every root is a parameter, so tests point it at fixture trees.

API
---
Parsers and readers (pure functions):

- :func:`read_text` (a whole file, or ``None``), :func:`parse_int`, :func:`parse_keyed` (``key
  value`` lines as ints: memory.stat, memory.events, cpu.stat, vmstat), :func:`read_keyed`,
  :func:`parse_limit_bytes` ("max" and the v1 sentinel are ``None``), :func:`parse_quota`,
  :func:`controller_paths` (the text of ``/proc/<pid>/cgroup``), :func:`levels`, :func:`is_v2`,
  :func:`host_memory_total`.
- :func:`resolve` turns ``/proc/<pid>/cgroup`` into a :class:`Layout`: for memory, cpu and the
  unified hierarchy, the version and the directories from the process's own cgroup up to the
  mount, innermost first.

:class:`Cgroups` (one per worker, shared by its threads):

- ``Cgroups(sys_root="/sys/fs/cgroup", proc_root="/proc", pid="self")`` resolves the layout once.
  It is resolved again only when ``/proc/<pid>/cgroup`` changes (the process was moved): its
  bytes are compared with the last ones at most every :data:`CHECK_EVERY_S` seconds, on any call,
  or at once by :meth:`Cgroups.refresh`.
- :meth:`Cgroups.memory_limit` gives the level whose memory limit binds
  (:class:`MemoryLimit`: version, directory, bytes); :meth:`Cgroups.cpu_quota` the level whose
  CPU quota binds (:class:`CpuQuota`). Limits can be changed at run time, so the levels' files
  are read again when the reading is older than ``limits_max_age_s`` (1 s), or after
  :meth:`Cgroups.refresh`, which the worker calls once per sample: a sample reads each file once.
- :meth:`Cgroups.working_set` (also :func:`working_set`) is the cheap reading for a fast
  cadence (a memory guard): the limiting memory cgroup's working set, usage minus inactive file
  cache, with the limit (:class:`WorkingSet`). v1: ``memory.usage_in_bytes`` minus
  ``total_inactive_file`` of ``memory.stat``; v2: ``memory.current`` minus ``inactive_file``. The
  three files stay open and are re-read with ``os.pread``: on a shared 2-core VM with cgroup v1
  one call took 7-12 µs, against 36-50 µs opening the files each time
  (``benchmarks/cgroup_reads.py``). The
  limit is read from the limiting level on every call, so a limit lowered there counts at once;
  which level binds is decided again every ``limits_max_age_s``. Safe to call from any thread.
- :meth:`Cgroups.close` closes the kept files.

References: man 7 cgroups, man 7 cgroup_namespaces, the kernel's
Documentation/admin-guide/cgroup-v2.rst, Documentation/admin-guide/cgroup-v1/memory.rst and
Documentation/scheduler/sched-bwc.rst.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

__all__ = [
    "CHECK_EVERY_S",
    "PROC_ROOT",
    "SYS_ROOT",
    "Cgroups",
    "CpuQuota",
    "Hierarchy",
    "Layout",
    "MemoryLimit",
    "WorkingSet",
    "controller_paths",
    "host_memory_total",
    "is_v2",
    "levels",
    "parse_int",
    "parse_keyed",
    "parse_limit_bytes",
    "parse_quota",
    "read_keyed",
    "read_text",
    "resolve",
    "working_set",
]

SYS_ROOT = "/sys/fs/cgroup"
PROC_ROOT = "/proc"

# How often /proc/<pid>/cgroup is compared with its last bytes (a process moved to another cgroup,
# by systemd or an orchestrator, is rare; the read costs a few µs).
CHECK_EVERY_S = 5.0
# How old a reading of every level's limit files may be before the levels are read again.
LIMITS_MAX_AGE_S = 1.0

# cgroup v1 reports "no memory limit" as PAGE_COUNTER_MAX pages in bytes: LONG_MAX rounded down to
# the page size (9223372036854771712 with 4 KiB pages). Any value this large is no real limit.
_UNLIMITED_BYTES = 1 << 62
# memory.stat is about 1 KB (v1) to 2 KB (v2 on recent kernels); one pread of this size reads it.
_STAT_READ = 16384


# -- parsers and readers ----------------------------------------------------------------------


def read_text(path: str) -> str | None:
    """The whole text of ``path``, or ``None`` if it cannot be read or decoded."""
    try:
        with open(path, encoding="ascii") as f:
            return f.read()
    except (OSError, UnicodeDecodeError):
        return None


def parse_int(text: str | bytes | None) -> int | None:
    """One integer (surrounding white space allowed), or ``None`` ("max", garbage, nothing)."""
    try:
        return int((text or "").strip())
    except ValueError:
        return None


def parse_keyed(text: str | None) -> dict[str, int]:
    """``key value`` lines (memory.stat, memory.events, memory.oom_control, cpu.stat, vmstat) as
    ints; lines of another shape are skipped."""
    out: dict[str, int] = {}
    for line in (text or "").splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].lstrip("-").isdigit():
            out[parts[0]] = int(parts[1])
    return out


def read_keyed(path: str) -> dict[str, int]:
    """:func:`parse_keyed` of the file at ``path`` (empty when it cannot be read)."""
    return parse_keyed(read_text(path))


def parse_limit_bytes(text: str | None) -> int | None:
    """A memory limit in bytes, or ``None`` for "max", the v1 sentinel, garbage or <= 0."""
    value = parse_int(text)  # v2 "max" is None (cgroup-v2.rst, memory.max)
    return value if value is not None and 0 < value < _UNLIMITED_BYTES else None


def parse_quota(quota: str | None, period: str | None) -> float | None:
    """CPUs granted by ``quota`` per ``period`` (both microseconds), or ``None``.

    v1 writes -1 for no quota (sched-bwc.rst); v2 writes "max" (cgroup-v2.rst, cpu.max).
    A non-positive or unparsable quota or period gives ``None``.
    """
    q, p = parse_int(quota), parse_int(period)
    return q / p if q is not None and p is not None and q > 0 and p > 0 else None


def controller_paths(text: str | None) -> dict[str, str]:
    """Map controller name to cgroup path from the text of ``/proc/<pid>/cgroup``.

    Lines are ``hierarchy-ID:controller-list:path`` (man 7 cgroups). The v2 line is ``0::/path``
    and is stored under the key ``""``; v1 lines such as ``4:cpu,cpuacct:/x`` are stored once
    per controller.
    """
    paths: dict[str, str] = {}
    for line in (text or "").splitlines():
        fields = line.split(":", 2)
        if len(fields) != 3:
            continue
        # The v2 line's empty controller list splits to [""], which files it under "".
        for name in fields[1].split(","):
            paths[name] = fields[2]
    return paths


def levels(mount: str, path: str | None) -> tuple[str, ...]:
    """Directories from the process's own cgroup up to the mount root, innermost first.

    Without a cgroup namespace a container sees its host-side path in /proc/<pid>/cgroup while
    the mount shows only its own cgroup at the root (man 7 cgroup_namespaces). If the own path
    does not exist under ``mount`` (or is unknown, or climbs out with ".."), only the root counts.
    """
    parts = [p for p in (path or "").split("/") if p and p != "."]
    if ".." in parts or not os.path.isdir(os.path.join(mount, *parts)):
        parts = []
    return tuple(os.path.join(mount, *parts[:i]) for i in range(len(parts), -1, -1))


def is_v2(sys_root: str) -> bool:
    """Whether ``sys_root`` is a pure v2 (unified) mount.

    Pure v2 has cgroup.controllers at the mount root; a hybrid host keeps its v2 tree under
    unified/ (usually without memory or cpu controllers) and its limits in the v1 hierarchies.
    """
    return os.path.exists(os.path.join(sys_root, "cgroup.controllers"))


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


def _v1_mount(sys_root: str, names: tuple[str, ...]) -> str | None:
    for name in names:
        candidate = os.path.join(sys_root, name)
        if os.path.isdir(candidate):
            return candidate
    return None


# -- the resolved layout ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """One controller's cgroup of the process: the version (1 or 2) and the directories from the
    process's own cgroup up to the mount root, innermost first."""

    version: int
    levels: tuple[str, ...]

    @property
    def own(self) -> str:
        return self.levels[0]


@dataclass(frozen=True, slots=True)
class Layout:
    """Where a process's cgroups are. ``None``: that controller is not mounted (or, for
    ``unified``, there is no v2 hierarchy at all)."""

    memory: Hierarchy | None
    cpu: Hierarchy | None
    unified: Hierarchy | None  # where pressure (PSI) files live: the mount itself on v2 hosts


def resolve(
    sys_root: str = SYS_ROOT, proc_root: str = PROC_ROOT, pid: str = "self", text: str | None = None
) -> Layout:
    """The :class:`Layout` of ``pid`` (``text``: the content of its ``/proc/<pid>/cgroup``, read
    here when not given)."""
    if text is None:
        text = read_text(os.path.join(proc_root, str(pid), "cgroup"))
    paths = controller_paths(text)
    if is_v2(sys_root):
        own = Hierarchy(2, levels(sys_root, paths.get("")))
        return Layout(memory=own, cpu=own, unified=own)
    memory_mount = _v1_mount(sys_root, ("memory",))
    # The cpu hierarchy is mounted as cpu/, or co-mounted with cpuacct as cpu,cpuacct/ (often
    # with cpu/ as a symlink to it).
    cpu_mount = _v1_mount(sys_root, ("cpu", "cpu,cpuacct", "cpuacct,cpu"))
    unified_mount = os.path.join(sys_root, "unified")
    return Layout(
        memory=None if memory_mount is None else Hierarchy(1, levels(memory_mount, paths.get("memory"))),
        cpu=None if cpu_mount is None else Hierarchy(1, levels(cpu_mount, paths.get("cpu"))),
        unified=Hierarchy(2, levels(unified_mount, paths.get(""))) if os.path.isdir(unified_mount) else None,
    )


@dataclass(frozen=True, slots=True)
class MemoryLimit:
    """The level whose memory limit binds: version, directory and limit in bytes."""

    version: int
    directory: str
    limit: int


@dataclass(frozen=True, slots=True)
class CpuQuota:
    """The level whose CPU quota binds: version, directory and quota in CPUs (1.5 = 150000 µs per
    100000 µs period)."""

    version: int
    directory: str
    cpus: float


@dataclass(frozen=True, slots=True)
class WorkingSet:
    """The limiting memory cgroup's working set (usage minus inactive file cache, what comes close
    to an OOM kill), its usage and inactive file cache, and its limit, all bytes."""

    working_set: int
    usage: int
    inactive_file: int
    limit: int
    version: int
    directory: str
    # The active file cache too: reclaimable before an OOM kill like the inactive (the memory
    # guard counts neither against the limit, so reading a large file does not look like use).
    active_file: int = 0

    @property
    def unreclaimable(self) -> int:
        """Usage less all file cache: anonymous and shared memory, and the kernel's own."""
        return max(0, self.usage - self.inactive_file - self.active_file)


def _memory_limit(layout: Layout, host_total: int) -> MemoryLimit | None:
    hierarchy = layout.memory
    if hierarchy is None:
        return None
    name = "memory.max" if hierarchy.version == 2 else "memory.limit_in_bytes"
    # Limits are hierarchical: a child can never use more than any ancestor allows.
    found = [
        (value, d)
        for d in hierarchy.levels
        if (value := parse_limit_bytes(read_text(os.path.join(d, name)))) is not None
    ]
    if not found:
        return None
    limit, directory = min(found, key=lambda item: item[0])
    # A limit at or above the host's memory restricts nothing.
    return None if 0 < host_total <= limit else MemoryLimit(hierarchy.version, directory, limit)


def _cpu_quota(layout: Layout) -> CpuQuota | None:
    hierarchy = layout.cpu
    if hierarchy is None:
        return None
    found: list[tuple[float, str]] = []
    for d in hierarchy.levels:
        if hierarchy.version == 2:
            fields = (read_text(os.path.join(d, "cpu.max")) or "").split()
            quota = parse_quota(*fields) if len(fields) == 2 else None
        else:
            quota = parse_quota(
                read_text(os.path.join(d, "cpu.cfs_quota_us")),
                read_text(os.path.join(d, "cpu.cfs_period_us")),
            )
        if quota is not None:
            found.append((quota, d))
    if not found:
        return None
    # Bandwidth is enforced at every level; min keeps the first (innermost) of equal quotas.
    quota, directory = min(found, key=lambda item: item[0])
    return CpuQuota(hierarchy.version, directory, quota)


class _KeptFile:
    """A file kept open and re-read from offset 0: cgroup files are generated anew on each read
    from the start, so a kept descriptor reads fresh figures without a path lookup."""

    __slots__ = ("fd",)

    def __init__(self, path: str):
        self.fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)

    def read(self, size: int = 4096) -> bytes:
        return os.pread(self.fd, size, 0)

    def close(self) -> None:
        try:
            os.close(self.fd)
        except OSError:
            pass  # already closed


def _stat_value(data: bytes, key: bytes) -> int | None:
    """The value of ``key`` in memory.stat bytes, without parsing the other lines."""
    start = data.find(b"\n" + key + b" ")
    if start < 0:
        if not data.startswith(key + b" "):
            return None
        start = len(key) + 1
    else:
        start += len(key) + 2
    end = data.find(b"\n", start)
    return parse_int(data[start : end if end >= 0 else len(data)])


class Cgroups:
    """The cgroups of process ``pid`` as this process sees them: resolved once, resolved again
    when ``/proc/<pid>/cgroup`` changes. One per worker; its methods are safe from any thread.
    See the module docstring for the API."""

    def __init__(
        self,
        sys_root: str = SYS_ROOT,
        proc_root: str = PROC_ROOT,
        pid: str = "self",
        *,
        check_every_s: float = CHECK_EVERY_S,
        limits_max_age_s: float = LIMITS_MAX_AGE_S,
    ):
        self.sys_root = sys_root
        self.proc_root = proc_root
        self.pid = str(pid)
        self.check_every_s = check_every_s
        self.limits_max_age_s = limits_max_age_s
        self.resolutions = 0  # how many times the layout was resolved (for tests and cost checks)
        self._lock = threading.RLock()
        self._source: bytes | None = None
        self._checked_at = -float("inf")
        self._layout: Layout | None = None
        self._host_total = host_memory_total(proc_root)
        self._limits_at = -float("inf")
        self._memory_limit: MemoryLimit | None = None
        self._cpu_quota: CpuQuota | None = None
        self._kept: tuple[str, dict[str, _KeptFile]] | None = None  # directory, files by name
        self._check(time.monotonic())

    # -- resolution ---------------------------------------------------------------------------

    def _read_source(self) -> bytes:
        try:
            with open(os.path.join(self.proc_root, self.pid, "cgroup"), "rb") as f:
                return f.read()
        except OSError:
            return b""

    def _check(self, now: float) -> None:
        self._checked_at = now
        source = self._read_source()
        if source == self._source and self._layout is not None:
            return
        self._source = source
        self._layout = resolve(self.sys_root, self.proc_root, self.pid, source.decode("ascii", "replace"))
        self.resolutions += 1
        self._limits_at = -float("inf")
        self._drop_kept()

    def _current(self, now: float) -> Layout:
        if now - self._checked_at >= self.check_every_s:
            self._check(now)
        return self._layout

    @property
    def layout(self) -> Layout:
        """The resolved :class:`Layout` (checked against ``/proc/<pid>/cgroup`` when due)."""
        with self._lock:
            return self._current(time.monotonic())

    @property
    def host_memory_total(self) -> int:
        """MemTotal read when this object was made (bytes; 0 if unknown)."""
        return self._host_total

    def refresh(self) -> None:
        """Compare ``/proc/<pid>/cgroup`` now and read the limits again on their next use: the
        start of a sample."""
        with self._lock:
            self._check(time.monotonic())
            self._limits_at = -float("inf")

    # -- limits -------------------------------------------------------------------------------

    def _limits(self, now: float) -> None:
        layout = self._current(now)
        if now - self._limits_at < self.limits_max_age_s:
            return
        self._limits_at = now
        memory = _memory_limit(layout, self._host_total)
        if memory is None or self._memory_limit is None or memory.directory != self._memory_limit.directory:
            self._drop_kept()
        self._memory_limit = memory
        self._cpu_quota = _cpu_quota(layout)

    def memory_limit(self) -> MemoryLimit | None:
        """The level whose memory limit is tightest, or ``None`` (no limit below the host's
        MemTotal, or no information)."""
        with self._lock:
            self._limits(time.monotonic())
            return self._memory_limit

    def cpu_quota(self) -> CpuQuota | None:
        """The level whose CPU quota is tightest (ties go to the innermost), or ``None``."""
        with self._lock:
            self._limits(time.monotonic())
            return self._cpu_quota

    # -- the fast working-set reading ---------------------------------------------------------

    def _drop_kept(self) -> None:
        if self._kept is not None:
            for kept in self._kept[1].values():
                kept.close()
            self._kept = None

    def _open_kept(self, found: MemoryLimit) -> dict[str, _KeptFile] | None:
        if self._kept is not None and self._kept[0] == found.directory:
            return self._kept[1]
        self._drop_kept()
        v2 = found.version == 2
        names = {
            "usage": "memory.current" if v2 else "memory.usage_in_bytes",
            "stat": "memory.stat",
            "limit": "memory.max" if v2 else "memory.limit_in_bytes",
        }
        files: dict[str, _KeptFile] = {}
        try:
            for key, name in names.items():
                files[key] = _KeptFile(os.path.join(found.directory, name))
        except OSError:
            for kept in files.values():
                kept.close()
            return None
        self._kept = (found.directory, files)
        return files

    def working_set(self) -> WorkingSet | None:
        """The limiting memory cgroup's working set and limit now, or ``None`` when no cgroup
        limit applies or its files cannot be read."""
        with self._lock:
            self._limits(time.monotonic())
            found = self._memory_limit
            if found is None:
                return None
            files = self._open_kept(found)
            if files is None:
                return None
            try:
                usage = parse_int(files["usage"].read(64))
                stat = files["stat"].read(_STAT_READ)
                limit = parse_limit_bytes(files["limit"].read(64))
            except OSError:
                self._drop_kept()  # the cgroup was removed: resolve and reopen on the next call
                self._limits_at = -float("inf")
                return None
            inactive = _stat_value(stat, b"inactive_file" if found.version == 2 else b"total_inactive_file")
            active = _stat_value(stat, b"active_file" if found.version == 2 else b"total_active_file")
            if usage is None:
                return None
            if limit is None or limit > found.limit:
                # Raised (or removed) at this level: another level may bind now.
                limit = found.limit
                self._limits_at = -float("inf")
            inactive = inactive or 0
            return WorkingSet(
                working_set=max(0, usage - inactive),
                usage=usage,
                inactive_file=inactive,
                limit=limit,
                version=found.version,
                directory=found.directory,
                active_file=active or 0,
            )

    def close(self) -> None:
        """Close the files kept open for :meth:`working_set`."""
        with self._lock:
            self._drop_kept()


def working_set(cgroups: Cgroups) -> WorkingSet | None:
    """:meth:`Cgroups.working_set`: for callers that hold the worker's :class:`Cgroups`."""
    return cgroups.working_set()
