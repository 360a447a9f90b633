"""The JSON of ``GET /api/metrics/v1``: a superset of jupyter-resource-usage's, from one snapshot.

Pure functions of (snapshot, config, worker state): O(1) work per request. docs/api.md documents
every field.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from .config import ResourceMonitor
from .snapshot import Snapshot, Usage
from .supervisor import WorkerSupervisor

log = logging.getLogger(__name__)


def _near(used: float, limit: float, threshold: float) -> bool:
    """jupyter-resource-usage's rule: warn when within ``threshold × limit`` of the limit."""
    return bool(threshold) and limit > 0 and limit - used < limit * threshold


def _call_limit(func, **kwargs) -> float | None:
    """A jupyter-resource-usage style callable limit: its positive number, else None."""
    try:
        value = func(**kwargs)
    except Exception:  # user code: never let it break the endpoint
        log.exception("The configured limit callable %r failed", func)
        return None
    return value if isinstance(value, (int, float)) and value > 0 else None


def metrics(snap: Snapshot | None, config: ResourceMonitor, worker: WorkerSupervisor,
            now: float | None = None) -> dict[str, Any]:
    """The payload for one request."""
    now = time.monotonic() if now is None else now
    total = snap.total if snap else Usage()
    memory = total.pss if snap else 0
    mem_limit, mem_source = (int(snap.memory_limit.value), snap.memory_limit.source) if snap else (0, "host")
    if callable(config.mem_limit):
        called = _call_limit(config.mem_limit, rss=total.rss, pss=total.pss)
        if called is not None:
            mem_limit, mem_source = int(called), "config"
    limits: dict[str, Any] = {
        "memory": {
            "rss": mem_limit,
            "pss": mem_limit,
            "warn": _near(memory, mem_limit, config.mem_warning_threshold),
            "source": mem_source,
        }
    }
    out: dict[str, Any] = {"rss": total.rss, "pss": total.pss, "limits": limits}
    if config.track_cpu_percent:
        cpu_limit, cpu_source = (snap.cpu_limit.value, snap.cpu_limit.source) if snap else (0, "affinity")
        if callable(config.cpu_limit) and total.cpu_percent is not None:
            called = _call_limit(config.cpu_limit, cpu_percent=total.cpu_percent)
            if called is not None:
                cpu_limit, cpu_source = called, "config"
        out["cpu_percent"] = total.cpu_percent
        out["cpu_count"] = _number(snap.cpu_count) if snap else None
        limits["cpu"] = {
            "cpu": _number(cpu_limit),
            "warn": _near(total.cpu_percent or 0, 100 * cpu_limit, config.cpu_warning_threshold),
            "source": cpu_source,
        }
    if config.track_disk_usage and snap and snap.disk:
        out["disk_used"], out["disk_total"] = snap.disk.used, snap.disk.total
        limits["disk"] = {
            "disk": snap.disk.total,
            "warn": _near(snap.disk.used, snap.disk.total, config.disk_warning_threshold),
        }
    out["sample"] = sample_block(snap, worker, now)
    return out


def sample_block(snap: Snapshot | None, worker: WorkerSupervisor, now: float | None = None) -> dict[str, Any]:
    """What the sample is and what it cost (ours; see docs/api.md)."""
    now = time.monotonic() if now is None else now
    worker_info = {"state": worker.state, "restarts": worker.restarts, "error": worker.error}
    interval_ms = round(1000 * (snap.interval_s if snap else worker.options.interval_s))
    if snap is None:
        return {
            "ready": False, "stale": False, "age_ms": None, "interval_ms": interval_ms,
            "cost_ms": None, "monitor_cpu_percent": None,
            "processes": {"seen": 0, "sampled": 0, "left_out": 0},
            "pss_estimated_bytes": 0, "pss_estimated_fraction": 0.0, "oldest_exact_age_ms": None,
            "next_poll_ms": interval_ms, "worker": worker_info,
        }
    total = snap.total
    return {
        "ready": True,
        "stale": worker.is_stale(now),
        "age_ms": round(1000 * max(0.0, now - snap.taken_monotonic)),
        "interval_ms": interval_ms,
        "cost_ms": round(1000 * snap.cost_s, 2),
        "monitor_cpu_percent": snap.monitor_cpu_percent,
        "processes": {"seen": snap.seen, "sampled": snap.sampled, "left_out": snap.left_out},
        "pss_estimated_bytes": total.pss_estimated,
        "pss_estimated_fraction": round(total.pss_estimated / total.pss, 4) if total.pss else 0.0,
        "oldest_exact_age_ms": None if snap.oldest_exact_age_s is None
        else round(1000 * (snap.oldest_exact_age_s + max(0.0, now - snap.taken_monotonic))),
        "next_poll_ms": interval_ms,
        "worker": worker_info,
    }


def _number(value: float) -> float | int:
    """2.0 → 2, 1.5 → 1.5: whole CPU counts read as integers, as psutil.cpu_count() did."""
    return int(value) if float(value).is_integer() else round(value, 2)
