"""Why is it slow: CPU waiting, quota throttling and pressure stalls in ``/api/metrics/v1``.

Pure functions of (snapshot, config): O(1) work per request, the figures were read by the worker
(worker/schedstat.py, worker/cpu_quota.py, worker/pressure.py). docs/api.md documents the fields.
"""

from __future__ import annotations

from typing import Any

from ..config import ResourceMonitor
from ..snapshot import Snapshot


def fields(snap: Snapshot | None, config: ResourceMonitor) -> dict[str, Any]:
    """``cpu_wait_percent``, ``cpu_throttle``, ``psi`` and the warning ``thresholds`` the
    frontend compares them with."""
    return {
        "cpu_wait_percent": snap.total.cpu_wait_percent if snap else None,
        "cpu_throttle": throttle_block(snap),
        "psi": snap.psi if snap else None,
        "thresholds": {
            # In the units of the figures they are compared with.
            "throttled_percent": round(100 * config.throttle_warning_threshold, 2),
            "cpu_wait_percent": round(100 * config.cpu_wait_warning_threshold, 2),
        },
    }


def throttle_block(snap: Snapshot | None) -> dict[str, Any] | None:
    """The quota cgroup's throttling over the last window; None without a quota. Before a second
    reading the quota is known and the window's figures are null."""
    throttle = snap.cpu_throttle if snap else None
    if throttle is None:
        return None
    return {
        "throttled_percent": throttle.throttled_percent,
        "throttled_seconds": throttle.throttled_seconds,
        "window_s": throttle.window_s,
        "quota_cpus": throttle.quota_cpus,
        # Unix time the counters were read: the window ends there.
        "read_at": throttle.read_at,
    }
