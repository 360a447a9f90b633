"""Pressure stall information (PSI): how long work waited for CPU, memory or I/O.

Read by the worker once per sample (three small files), never by a request handler. Readers take
their roots so tests can point them at fixture trees, or the worker's resolved
:class:`~.cgroups.Cgroups`, and return ``None`` rather than raising when files are missing,
unreadable (a kernel booted with ``psi=0`` refuses the read) or malformed.

Files (Documentation/accounting/psi.rst): ``cpu.pressure``, ``memory.pressure``, ``io.pressure``
of the server's own cgroup in the unified (v2) hierarchy, at the mount on a v2 host or under
``unified/`` on a hybrid one; else the host's ``/proc/pressure/{cpu,memory,io}``. Each line is
``some|full avg10=<%> avg60=<%> avg300=<%> total=<µs>``: "some" is time at least one task was
stalled on the resource, "full" time all non-idle tasks were (the host's CPU "full" is always 0).

The root cgroup's pressure is the host's (it has no ``cgroup.events``, which every other cgroup
has): a server in the root cgroup reads the host's figures and says so, so the host's pressure,
every tenant's, is never presented as this server's own.
"""

from __future__ import annotations

import os
from typing import Any

from .cgroups import PROC_ROOT, SYS_ROOT, Cgroups, read_text

RESOURCES = ("cpu", "memory", "io")


def parse_pressure(text: str | None) -> dict[str, dict[str, float]] | None:
    """``{"some": {"avg10", "avg60", "total_s"}, "full": {...}}`` from one pressure file, or
    ``None`` when it has no readable line. A kernel before 5.13 has no CPU "full" line: the
    kind is then absent."""
    out: dict[str, dict[str, float]] = {}
    for line in (text or "").splitlines():
        kind, *pairs = line.split()
        if kind not in ("some", "full"):
            continue
        values = dict(pair.partition("=")[::2] for pair in pairs)
        try:
            out[kind] = {
                "avg10": float(values["avg10"]),
                "avg60": float(values["avg60"]),
                "total_s": int(values["total"]) / 1e6,
            }
        except (KeyError, ValueError):
            continue
    return out or None


def pressure_directory(cgroups: Cgroups) -> str | None:
    """The process's own cgroup directory in the unified hierarchy, if it is not the root cgroup
    and has pressure files; else ``None`` (read the host's)."""
    unified = cgroups.layout.unified
    if unified is None:
        return None
    directory = unified.own
    if not os.path.exists(os.path.join(directory, "cgroup.events")):
        # The true root cgroup: its pressure is the host's. (In a cgroup namespace the mount's
        # root is the container's own cgroup, which has cgroup.events: read as the cgroup's.)
        return None
    if not os.path.exists(os.path.join(directory, "cpu.pressure")):
        return None
    return directory


def read_psi(
    sys_root: str = SYS_ROOT, proc_root: str = PROC_ROOT, pid: str = "self", *, cgroups: Cgroups | None = None
) -> dict[str, Any] | None:
    """``{"source": "cgroup" | "host", "cpu": ..., "memory": ..., "io": ...}`` (a resource
    whose file is missing or unreadable is ``None``), or ``None`` where the kernel has no PSI."""
    cgroups = cgroups if cgroups is not None else Cgroups(sys_root, proc_root, pid)
    proc_root = cgroups.proc_root
    directory = pressure_directory(cgroups)
    if directory is not None:
        source, paths = "cgroup", {r: os.path.join(directory, f"{r}.pressure") for r in RESOURCES}
    else:
        source, paths = "host", {r: os.path.join(proc_root, "pressure", r) for r in RESOURCES}
    figures = {r: parse_pressure(read_text(path)) for r, path in paths.items()}
    if all(value is None for value in figures.values()):
        return None
    return {"source": source, **figures}
