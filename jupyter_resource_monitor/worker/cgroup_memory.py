"""What the kernel's OOM killer counts: the cgroup's memory, its working set, and OOM kills.

Read by the worker once per sample (a few small files), never by a request handler. Like
:mod:`.limits`, every reader takes its roots so tests can point it at fixture trees, or the
worker's resolved :class:`~.cgroups.Cgroups`, and returns ``None`` rather than raising when files
are missing or malformed. The working set alone, cheaply enough for a fast cadence, is
:meth:`.cgroups.Cgroups.working_set`.

- The limit is enforced on the cgroup's usage, which holds page cache, tmpfs and /dev/shm files
  and kernel memory besides the processes' pages. The working set (usage minus inactive file
  cache, which the kernel reclaims before it kills) is what cAdvisor, Kubernetes and
  ``docker stats`` report and what comes close to an OOM kill.
- OOM kills are counted in the victim's cgroup: v2 ``memory.events`` ``oom_kill`` (hierarchical:
  descendants' kills included), v1 ``memory.oom_control`` ``oom_kill`` (that cgroup only), so the
  innermost cgroup, where the server and its kernels live, is read. Outside any memory cgroup the
  host's ``/proc/vmstat`` ``oom_kill`` counts every OOM kill on the host.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .cgroups import PROC_ROOT, SYS_ROOT, Cgroups, parse_int, parse_keyed, read_keyed, read_text


@dataclass(frozen=True, slots=True)
class CgroupMemory:
    """The limiting cgroup's memory, bytes. ``working_set`` is compared with the limit."""

    version: int  # 1 or 2
    usage: int  # everything charged to the cgroup
    working_set: int  # usage minus inactive file cache
    anon: int  # processes' anonymous memory (heap, stacks), not shared memory files
    page_cache: int  # file cache not counted as shmem, active and inactive
    inactive_file: int  # of page_cache: reclaimable first, left out of the working set
    shmem: int  # tmpfs, /dev/shm and shared anonymous memory
    kernel: int  # kernel memory charged to the cgroup (slab, stacks, page tables, sockets)
    pressure_events: int  # times usage hit the limit or high mark (v2 max+high, v1 failcnt)


@dataclass(frozen=True, slots=True)
class OomCounter:
    """A count of OOM kills and where it is read: "cgroup" (the server's own memory cgroup) or
    "host" (every OOM kill on the machine)."""

    kills: int
    source: str


def read_cgroup_memory(
    sys_root: str = SYS_ROOT, proc_root: str = PROC_ROOT, pid: str = "self", *, cgroups: Cgroups | None = None
) -> CgroupMemory | None:
    """The memory of the cgroup whose limit binds, or ``None`` when no cgroup limit applies (the
    status bar then compares the processes' PSS with the limit, as before)."""
    cgroups = cgroups if cgroups is not None else Cgroups(sys_root, proc_root, pid)
    found = cgroups.memory_limit()
    if found is None:
        return None
    version, directory = found.version, found.directory
    stat = read_keyed(os.path.join(directory, "memory.stat"))

    def join(name):
        return read_text(os.path.join(directory, name))

    if version == 2:
        usage = parse_int(join("memory.current"))
        events = parse_keyed(join("memory.events"))
        pressure = events.get("max", 0) + events.get("high", 0)
        anon, file, shmem = stat.get("anon"), stat.get("file"), stat.get("shmem", 0)
        inactive = stat.get("inactive_file", 0)
        # "kernel" appeared in 5.18; before it, its parts are listed one by one.
        kernel = stat.get(
            "kernel",
            sum(
                stat.get(k, 0)
                for k in ("kernel_stack", "pagetables", "sec_pagetables", "percpu", "sock", "slab")
            ),
        )
    else:
        # v1's total_* figures include descendants, like memory.usage_in_bytes.
        usage = parse_int(join("memory.usage_in_bytes"))
        pressure = parse_int(join("memory.failcnt")) or 0
        anon, file = stat.get("total_rss"), stat.get("total_cache")
        shmem = stat.get("total_shmem", 0)
        inactive = stat.get("total_inactive_file", 0)
        kernel = parse_int(join("memory.kmem.usage_in_bytes")) or 0
    if usage is None or anon is None or file is None:
        return None
    return CgroupMemory(
        version=version,
        usage=usage,
        working_set=max(0, usage - inactive),
        anon=anon,
        page_cache=max(0, file - shmem),
        inactive_file=inactive,
        shmem=shmem,
        kernel=kernel,
        pressure_events=pressure,
    )


def read_oom_counter(
    sys_root: str = SYS_ROOT, proc_root: str = PROC_ROOT, pid: str = "self", *, cgroups: Cgroups | None = None
) -> OomCounter | None:
    """OOM kills counted in the server's own memory cgroup (where its kernels are), or on the
    host where that cgroup has no counter (the v2 root); ``None`` when neither can be read."""
    cgroups = cgroups if cgroups is not None else Cgroups(sys_root, proc_root, pid)
    memory = cgroups.layout.memory
    if memory is not None:
        name = "memory.events" if memory.version == 2 else "memory.oom_control"
        kills = read_keyed(os.path.join(memory.own, name)).get("oom_kill")
        if kills is not None:
            return OomCounter(kills, "cgroup")
    kills = read_keyed(os.path.join(cgroups.proc_root, "vmstat")).get("oom_kill")
    return None if kills is None else OomCounter(kills, "host")
