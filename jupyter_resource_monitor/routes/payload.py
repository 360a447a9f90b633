"""The JSON of ``GET /api/metrics/v1``: a superset of jupyter-resource-usage's, from one snapshot.

Pure functions of (snapshot, config, worker state): O(1) work per request. docs/api.md documents
every field.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ..config import ResourceMonitor
from ..snapshot import Snapshot, Usage
from ..tracking.effective_limits import effective_limits, host_total, startup_cpu_count
from ..tracking.loop_watch import LoopWatch
from ..tracking.supervisor import WorkerSupervisor
from ..tracking.tracker import Tracker, memory_figure
from ..worker.limits import Limit, whole_cpus
from . import diagnosis

log = logging.getLogger(__name__)


def _near(used: float, limit: float, threshold: float) -> bool:
    """jupyter-resource-usage's rule: warn when within ``threshold × limit`` of the limit."""
    return bool(threshold) and limit > 0 and limit - used < limit * threshold


def metrics(
    snap: Snapshot | None,
    config: ResourceMonitor,
    worker: WorkerSupervisor,
    now: float | None = None,
    tracker: Tracker | None = None,
    loop_watch: LoopWatch | None = None,
) -> dict[str, Any]:
    """The payload for one request. jupyter-resource-usage's fields keep their JSON types at
    every moment (numbers, never null); whether they are measured yet is said in ``sample``."""
    now = time.monotonic() if now is None else now
    total = snap.total if snap else Usage()
    memory_limit, cpu_limit = effective_limits(snap, config)
    figure, used = memory_figure(snap, memory_limit.source)
    # jupyter-resource-usage answers 0 without a limit (its frontend then shows "Mem: 83 MB", not
    # the host's memory as a quota); the host's total is in memory.host_total.
    quota = 0 if memory_limit.source == "host" else memory_limit.value
    limits: dict[str, Any] = {
        "memory": {
            "rss": quota,
            "pss": quota,
            # Follows the figure the limit counts: the cgroup's working set under a cgroup limit.
            "warn": _near(used, memory_limit.value, config.mem_warning_threshold),
            "source": memory_limit.source,
        }
    }
    out: dict[str, Any] = {
        "rss": total.rss,
        "pss": total.pss,
        "limits": limits,
        "memory": memory_block(snap, figure, used, memory_limit),
    }
    if config.track_cpu_percent:
        cpu_percent = total.cpu_percent or 0.0
        out["cpu_percent"] = float(cpu_percent)
        out["cpu_count"] = whole_cpus(snap.cpu_count if snap else startup_cpu_count())
        limits["cpu"] = {
            "cpu": _number(cpu_limit.value),
            "warn": _near(cpu_percent, 100 * cpu_limit.value, config.cpu_warning_threshold),
            "source": cpu_limit.source,
        }
    if config.track_disk_usage and snap and snap.disk:
        out["disk_used"], out["disk_total"] = snap.disk.used, snap.disk.total
        limits["disk"] = {
            "disk": snap.disk.total,
            "warn": _near(snap.disk.used, snap.disk.total, config.disk_warning_threshold),
        }
    out.update(diagnosis.fields(snap, config))  # cpu_wait_percent, cpu_throttle, psi, thresholds
    if tracker is not None:
        out["by_owner"] = tracker.owners
        out["oom"] = oom_block(snap, tracker)
    if loop_watch is not None:
        out["event_loop"] = loop_watch.payload(now)
    out["sample"] = sample_block(snap, worker, now)
    return out


def memory_block(snap: Snapshot | None, figure: str, used: int, limit: Limit) -> dict[str, Any]:
    """The memory the limit is compared with, and (under a cgroup limit) what it is made of."""
    cgroup = snap.cgroup_memory if snap else None
    processes = snap.total.pss if snap else 0
    # 0 without a limit, as limits.memory; the host's total has a field of its own.
    quota = 0 if limit.source == "host" else int(limit.value)
    block: dict[str, Any] = {
        "figure": figure,
        "used": used,
        "limit": quota,
        "limit_source": limit.source,
        "host_total": host_total(snap),
        "processes": processes,
        "cgroup": None,
    }
    if cgroup is not None:
        block["cgroup"] = {
            "version": cgroup.version,
            "usage": cgroup.usage,
            "working_set": cgroup.working_set,
            # What the working set holds besides the processes' pages (PSS): page cache still
            # active, files in tmpfs and /dev/shm no process maps, kernel memory. Estimated as
            # the difference, since mapped files and shared memory are in both.
            "outside_processes": max(0, cgroup.working_set - processes),
            "anon": cgroup.anon,
            "page_cache": cgroup.page_cache,
            "inactive_file": cgroup.inactive_file,
            "shmem": cgroup.shmem,
            "kernel": cgroup.kernel,
            "pressure_events": cgroup.pressure_events,
        }
    return block


def oom_block(snap: Snapshot | None, tracker: Tracker) -> dict[str, Any]:
    """OOM kills of kernels seen by this server, and whether they can be seen at all."""
    last = tracker.events[-1] if tracker.events else None
    counter = snap.oom if snap else None
    return {
        "kernel_kills": tracker.oom_kills_total,
        "kernel_deaths": tracker.deaths_total,
        "last_event_id": last.id if last else 0,
        "counter_source": counter.source if counter else None,
    }


def sample_block(snap: Snapshot | None, worker: WorkerSupervisor, now: float | None = None) -> dict[str, Any]:
    """What the sample is and what it cost (ours; see docs/api.md)."""
    now = time.monotonic() if now is None else now
    worker_info = {"state": worker.state, "restarts": worker.restarts, "error": worker.error}
    interval_ms = round(1000 * (snap.interval_s if snap else worker.options.interval_s))
    if snap is None:
        return {
            "ready": False,
            "cpu_ready": False,
            "stale": False,
            "age_ms": None,
            "taken_at": None,
            "interval_ms": interval_ms,
            "cost_ms": None,
            "monitor_cpu_percent": None,
            "processes": {"seen": 0, "sampled": 0, "left_out": 0},
            "pss_estimated_bytes": 0,
            "pss_estimated_fraction": 0.0,
            "oldest_exact_age_ms": None,
            "next_poll_ms": interval_ms,
            "worker": worker_info,
        }
    total = snap.total
    return {
        "ready": True,
        "cpu_ready": total.cpu_percent is not None,
        "stale": worker.is_stale(now),
        "age_ms": round(1000 * max(0.0, now - snap.taken_monotonic)),
        "taken_at": snap.taken_at,
        "interval_ms": interval_ms,
        "cost_ms": round(1000 * snap.cost_s, 2),
        "monitor_cpu_percent": snap.monitor_cpu_percent,
        "processes": {"seen": snap.seen, "sampled": snap.sampled, "left_out": snap.left_out},
        "pss_estimated_bytes": total.pss_estimated,
        "pss_estimated_fraction": round(total.pss_estimated / total.pss, 4) if total.pss else 0.0,
        "oldest_exact_age_ms": None
        if snap.oldest_exact_age_s is None
        else round(1000 * (snap.oldest_exact_age_s + max(0.0, now - snap.taken_monotonic))),
        "next_poll_ms": interval_ms,
        "worker": worker_info,
    }


def _number(value: float) -> float | int:
    """2.0 → 2, 1.5 → 1.5: whole CPU counts read as integers, as psutil.cpu_count() did."""
    return int(value) if float(value).is_integer() else round(value, 2)
