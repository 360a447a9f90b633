"""Throttling under a CPU quota: how often the cgroup that limits the server ran out of quota.

Read by the worker once per sample (one small file; the quota comes from the worker's resolved
:class:`~.cgroups.Cgroups`), never by a request handler. Readers return ``None`` rather than
raising when files are missing or malformed. The window of readings is a :class:`ThrottleWindow`
that the worker owns and passes in.

CFS bandwidth control (Documentation/scheduler/sched-bwc.rst) counts in the quota cgroup's
``cpu.stat``: ``nr_periods`` (enforcement periods in which the cgroup had runnable work: an idle
cgroup adds none), ``nr_throttled`` (of those, periods that ran out of quota), and the time its
run queues spent throttled, ``throttled_time`` in ns (v1) or ``throttled_usec`` (v2), summed over
CPUs, so it can exceed wall time. The quota is v1 ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``
or v2 ``cpu.max``.
"""

from __future__ import annotations

import os
import time
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

from .cgroups import Cgroups, read_keyed

WINDOW_S = 60.0


class CpuStat(NamedTuple):
    """The quota cgroup's cumulative counters at one moment (a parsed file, like procfs.Stat)."""

    periods: int
    throttled_periods: int
    throttled_s: float


@dataclass(frozen=True, slots=True)
class CpuThrottle:
    """Throttling of the quota cgroup: the counters (for Prometheus) and the last window.

    ``throttled_percent`` is the share of enforcement periods throttled, ``throttled_seconds``
    the throttled-time counter's growth over the window; both ``None`` until two readings."""

    version: int  # 1 or 2
    quota_cpus: float
    periods: int
    throttled_periods: int
    throttled_s: float
    window_s: float
    throttled_percent: float | None
    throttled_seconds: float | None
    read_at: float = 0.0  # time.time() of the reading: the window is [read_at - window_s, read_at]


def read_cpu_stat(directory: str, version: int) -> CpuStat | None:
    """``cpu.stat`` of a quota cgroup, or ``None`` when missing or incomplete (a v2 cgroup
    without the cpu controller has no ``nr_periods``)."""
    values = read_keyed(os.path.join(directory, "cpu.stat"))
    if version == 2:
        throttled = values.get("throttled_usec")
        throttled_s = None if throttled is None else throttled / 1e6
    else:
        throttled = values.get("throttled_time")
        throttled_s = None if throttled is None else throttled / 1e9
    if "nr_periods" not in values or "nr_throttled" not in values or throttled_s is None:
        return None
    return CpuStat(values["nr_periods"], values["nr_throttled"], throttled_s)


class ThrottleWindow:
    """Readings of the last ``window_s`` seconds (plus the one just before), so each sample gives
    the window's deltas without keeping more than a window of samples."""

    def __init__(self, window_s: float = WINDOW_S):
        self.window_s = window_s
        self._readings: deque[tuple[float, str, CpuStat]] = deque()

    def add(self, now: float, directory: str, stat: CpuStat) -> tuple[float, CpuStat] | None:
        """Record a reading; return the elapsed time and the reading it is compared with (the
        oldest within the window), or ``None`` if there is none yet."""
        readings = self._readings
        if readings and (readings[-1][1] != directory or readings[-1][2].periods > stat.periods):
            readings.clear()  # another cgroup, or its counters restarted: a new window
        while len(readings) >= 2 and now - readings[1][0] >= self.window_s:
            readings.popleft()
        base = readings[0] if readings else None
        readings.append((now, directory, stat))
        return None if base is None else (now - base[0], base[2])


def read_cpu_throttle(
    cgroups: Cgroups, window: ThrottleWindow, now: float | None = None
) -> CpuThrottle | None:
    """Throttling of the quota cgroup over the last ``window`` (``now``: monotonic seconds), or
    ``None`` without a quota (or without its counters)."""
    found = cgroups.cpu_quota()
    if found is None:
        return None
    version, directory, quota = found.version, found.directory, found.cpus
    stat = read_cpu_stat(directory, version)
    read_at = time.time()
    if stat is None:
        return None
    base = window.add(time.monotonic() if now is None else now, directory, stat)
    percent = seconds = None
    elapsed = 0.0
    if base is not None:
        elapsed, old = base
        periods = stat.periods - old.periods
        throttled = stat.throttled_periods - old.throttled_periods
        percent = round(100 * throttled / periods, 1) if periods > 0 else 0.0
        seconds = round(stat.throttled_s - old.throttled_s, 6)
    return CpuThrottle(
        version=version,
        quota_cpus=round(quota, 4),
        periods=stat.periods,
        throttled_periods=stat.throttled_periods,
        throttled_s=stat.throttled_s,
        window_s=round(elapsed, 3),
        throttled_percent=percent,
        throttled_seconds=seconds,
        read_at=read_at,
    )
