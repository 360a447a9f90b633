"""A kernel's CPU account and exact peak resident memory, read at a cell's boundaries.

``VmHWM`` in ``/proc/<pid>/status`` is the peak resident set since the process started or since
``5`` was last written to ``/proc/<pid>/clear_refs`` (which resets it to the current RSS). Read
before each reset and kept as a running maximum, it gives both a cell's exact peak and the peak
since the kernel started, whatever the sampling interval.

One boundary costs ~60 µs (``stat`` + ``status`` reads, one small write). It is done on the event
loop, at most twice per execution, because the reading must be close to the kernel's boundary to
be exact: handing it to the worker would add a pipe round trip, and the worker may be asleep,
paused or in the middle of a tree walk (tens of ms), which would make most peaks inexact.
"""

from __future__ import annotations

import os
import time
from typing import NamedTuple

from ..worker import procfs

CLOCK_TICKS = procfs.CLOCK_TICKS


class Reading(NamedTuple):
    """The kernel process at one boundary."""

    at: float  # time.time() of the reading
    cpu_ticks: int  # utime + stime + cutime + cstime: the kernel and the children it reaped
    rss: int  # bytes resident now
    hwm: int  # bytes: peak resident set since the last reset (before this reading's reset)
    reaped_ticks: int = 0  # cutime + cstime alone: children reaped by now (part of cpu_ticks)


def read(pid: int, reset: bool) -> Reading | None:
    """Read the kernel's CPU, RSS and peak; with ``reset``, then restart the peak from the current
    RSS. None when the process is gone or unreadable (another user's kernel, no /proc)."""
    try:
        stat = procfs.read_stat(pid)
        hwm, rss = hwm_rss(procfs.read_file(pid, f"{procfs.PROC}/{pid}/status"))
        if reset:
            _reset(pid)
    except (procfs.ProcfsError, OSError, ValueError):
        return None
    return Reading(time.time(), stat.cpu_ticks + stat.reaped_ticks, rss or stat.rss, hwm, stat.reaped_ticks)


def hwm_rss(status: bytes) -> tuple[int, int]:
    """VmHWM and VmRSS, in bytes, from the text of ``/proc/<pid>/status``."""
    return _field_kb(status, b"\nVmHWM:") << 10, _field_kb(status, b"\nVmRSS:") << 10


def _field_kb(data: bytes, name: bytes) -> int:
    start = data.find(name)
    if start < 0:
        raise ValueError(name)  # a kernel thread, or a zombie: nothing to measure
    start += len(name)
    return int(data[start : data.index(b"kB", start)])


def _reset(pid: int) -> None:
    fd = os.open(f"{procfs.PROC}/{pid}/clear_refs", os.O_WRONLY)
    try:
        os.write(fd, b"5")  # 5: reset the peak resident set size (proc(5))
    finally:
        os.close(fd)
