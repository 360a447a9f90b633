"""The limits in force, as every reader states them (``/api/metrics/v1``, ``/metrics``, the
tracker's kernel figures): the worker's reading, unless a configured callable says otherwise.

Pure functions of a snapshot and the config, on the event loop; the figures read before the first
sample are read once per server.
"""

from __future__ import annotations

import functools
import logging

from ..config import ResourceMonitor
from ..snapshot import Snapshot, Usage
from ..worker import limits
from ..worker.limits import Limit

log = logging.getLogger(__name__)


def _call_limit(func, **kwargs) -> float | None:
    """A jupyter-resource-usage style callable limit: its positive number, else None."""
    try:
        value = func(**kwargs)
    except Exception:  # user code: never let it break the endpoint
        log.exception("The configured limit callable %r failed", func)
        return None
    return value if isinstance(value, (int, float)) and value > 0 else None


def effective_limits(snap: Snapshot | None, config: ResourceMonitor) -> tuple[Limit, Limit]:
    """The memory (bytes) and CPU (CPUs) limits in force: the worker's reading, unless a
    configured callable gives a positive number. The one rule for /api/metrics/v1 and /metrics.

    Before the first sample the memory limit is 0 ("unknown") and the CPU limit the CPUs this
    server may use at start-up.
    """
    total = snap.total if snap else Usage()
    memory = snap.memory_limit if snap else Limit(0, "host")
    cpu = snap.cpu_limit if snap else Limit(startup_cpu_count(), "affinity")
    if callable(config.mem_limit) and snap:
        called = _call_limit(config.mem_limit, rss=total.rss, pss=total.pss)
        if called is not None:
            memory = Limit(int(called), "config")
    if callable(config.cpu_limit) and total.cpu_percent is not None:
        called = _call_limit(config.cpu_limit, cpu_percent=total.cpu_percent)
        if called is not None:
            cpu = Limit(called, "config")
    return Limit(int(memory.value), memory.source), cpu


def host_total(snap: Snapshot | None) -> int:
    """The host's memory (MemTotal), bytes: the worker's reading when it found no lower limit,
    else the figure read once at the first request (it does not change while the server runs)."""
    if snap is not None and snap.memory_limit.source == "host":
        return int(snap.memory_limit.value)
    return startup_host_memory()


@functools.cache
def startup_host_memory() -> int:
    """The host's MemTotal, read once (one small file), never per request."""
    return limits.host_memory_total()


@functools.cache
def startup_cpu_count() -> float:
    """Effective CPUs when the server started: the figure before the worker's first sample.
    Read once (a few small cgroup files), never per request."""
    return limits.effective_cpu_count()
