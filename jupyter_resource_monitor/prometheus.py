"""Resource series for the server's own ``/metrics`` (Prometheus) endpoint.

A collector, not gauges updated on a timer: a scrape reads the latest snapshot (no /proc work, and
nothing periodic on the event loop when nobody scrapes) and counts as demand for the worker.
Names follow jupyter-resource-usage where it had them.
"""

from __future__ import annotations

import asyncio
import time

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from prometheus_client.registry import CollectorRegistry

from . import kernels, payload

# Every family this collector can yield, with its help text. describe() lists them all, so the
# registry detects a clash with another exporter's series (jupyter-resource-usage's gauges) at
# registration instead of serving the same family twice, which Prometheus rejects.
FAMILIES = {
    "total_memory_usage": "Memory used by the server and its descendants, bytes (PSS: shared "
                          "pages counted once)",
    "max_memory_usage": "Memory limit, bytes (cgroup, configured, or the host's)",
    "total_cpu_usage": "CPU used by the server and its descendants, percent (100 = one CPU)",
    "max_cpu_usage": "CPU limit, percent (100 per CPU)",
    "current_disk_usage": "Disk used, bytes",
    "max_disk_usage": "Disk size, bytes",
    "kernel_memory_usage": "Memory (PSS) of a kernel and its descendants, bytes",
    "kernel_cpu_usage": "CPU of a kernel and its descendants, percent",
    "kernel_oom_kills": "Kernels of this server ended by the kernel's OOM killer",
    "memory_working_set_bytes": "The memory cgroup's working set (usage minus inactive file "
                                "cache), bytes: what its OOM killer counts; only under a cgroup "
                                "limit",
    "resource_monitor_sample_age_seconds": "Age of the sample these figures come from",
    "resource_monitor_processes_left_out": "Descendants not sampled because of the process cap",
    "resource_monitor_cpu_usage": "The monitor's own CPU use, percent",
}
_COUNTERS = {"kernel_oom_kills"}
_LABELS = {"kernel_memory_usage": ["kernel_id"], "kernel_cpu_usage": ["kernel_id"]}


def taken_names(registry: CollectorRegistry) -> set[str]:
    """Which of our family names another collector in ``registry`` already serves.

    Probes each name with a one-family collector through the registry's public API (register,
    then unregister): the registry is the authority on what clashes."""
    taken = set()
    for name in FAMILIES:
        probe = _Probe(name)
        try:
            registry.register(probe)
        except ValueError:
            taken.add(name)
        else:
            registry.unregister(probe)
    return taken


class _Probe(Collector):
    def __init__(self, name):
        self.name = name

    def describe(self):
        return [_family(self.name)]

    def collect(self):
        return []


class SnapshotCollector(Collector):
    """Yields the latest snapshot's figures as gauges, leaving out the families in ``skip``
    (names another exporter already serves)."""

    def __init__(self, monitor, kernel_manager, skip: frozenset[str] = frozenset()):
        self.monitor = monitor
        self.kernel_manager = kernel_manager
        self.skip = skip

    def describe(self):
        return [_family(name) for name in FAMILIES if name not in self.skip]

    def collect(self):
        for family in self._families():
            if family.name not in self.skip:
                yield family

    def _families(self):
        supervisor = self.monitor.supervisor
        # A scrape wants fresh numbers too. The server's /metrics handler collects on the event
        # loop; a collect() from another thread (an exporter of its own) only reads.
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            supervisor.demand()
        snap = supervisor.snapshot
        if snap is None:
            return
        config = self.monitor.config
        total = snap.total
        memory_limit, cpu_limit = payload.effective_limits(snap, config)
        yield _gauge("total_memory_usage", total.pss)
        yield _gauge("max_memory_usage", memory_limit.value)
        if config.track_cpu_percent and total.cpu_percent is not None:
            yield _gauge("total_cpu_usage", total.cpu_percent)
            yield _gauge("max_cpu_usage", 100 * cpu_limit.value)
        if config.track_disk_usage and snap.disk:
            yield _gauge("current_disk_usage", snap.disk.used)
            yield _gauge("max_disk_usage", snap.disk.total)
        memory = GaugeMetricFamily("kernel_memory_usage", FAMILIES["kernel_memory_usage"],
                                   labels=["kernel_id"])
        cpu = GaugeMetricFamily("kernel_cpu_usage", FAMILIES["kernel_cpu_usage"],
                                labels=["kernel_id"])
        for kernel in kernels.all_kernels(self.kernel_manager, snap):
            if kernel["available"]:
                memory.add_metric([kernel["id"]], kernel["memory"])
                if kernel["cpu_percent"] is not None:
                    cpu.add_metric([kernel["id"]], kernel["cpu_percent"])
        yield memory
        yield cpu
        if snap.cgroup_memory is not None:
            yield _gauge("memory_working_set_bytes", snap.cgroup_memory.working_set)
        yield CounterMetricFamily("kernel_oom_kills", FAMILIES["kernel_oom_kills"],
                                  value=self.monitor.tracker.oom_kills_total)
        yield _gauge("resource_monitor_sample_age_seconds",
                     max(0.0, time.monotonic() - snap.taken_monotonic))
        yield _gauge("resource_monitor_processes_left_out", snap.left_out)
        yield _gauge("resource_monitor_cpu_usage", snap.monitor_cpu_percent or 0.0)


def _family(name: str):
    kind = CounterMetricFamily if name in _COUNTERS else GaugeMetricFamily
    return kind(name, FAMILIES[name], labels=_LABELS.get(name))


def _gauge(name: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, FAMILIES[name], value=value)
