"""Resource series for the server's own ``/metrics`` (Prometheus) endpoint.

A collector, not gauges updated on a timer: a scrape reads the latest snapshot (no /proc work, and
nothing periodic on the event loop when nobody scrapes) and counts as demand for the worker.
Names follow jupyter-resource-usage where it had them.
"""

from __future__ import annotations

import asyncio
import time

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from . import kernels


class SnapshotCollector(Collector):
    """Yields the latest snapshot's figures as gauges."""

    def __init__(self, monitor, kernel_manager):
        self.monitor = monitor
        self.kernel_manager = kernel_manager

    def describe(self):
        return []  # no fixed set: kernels come and go; skips a collect() at registration

    def collect(self):
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
        yield _gauge("total_memory_usage", "Memory used by the server and its descendants, bytes "
                     "(PSS: shared pages counted once)", total.pss)
        yield _gauge("max_memory_usage", "Memory limit, bytes (cgroup, configured, or the host's)",
                     snap.memory_limit.value)
        if config.track_cpu_percent and total.cpu_percent is not None:
            yield _gauge("total_cpu_usage", "CPU used by the server and its descendants, percent "
                         "(100 = one CPU)", total.cpu_percent)
            yield _gauge("max_cpu_usage", "CPU limit, percent (100 per CPU)", 100 * snap.cpu_limit.value)
        if config.track_disk_usage and snap.disk:
            yield _gauge("current_disk_usage", "Disk used, bytes", snap.disk.used)
            yield _gauge("max_disk_usage", "Disk size, bytes", snap.disk.total)
        memory = GaugeMetricFamily("kernel_memory_usage", "Memory (PSS) of a kernel and its "
                                   "descendants, bytes", labels=["kernel_id"])
        cpu = GaugeMetricFamily("kernel_cpu_usage", "CPU of a kernel and its descendants, percent",
                                labels=["kernel_id"])
        for kernel in kernels.all_kernels(self.kernel_manager, snap):
            if kernel["available"]:
                memory.add_metric([kernel["id"]], kernel["memory"])
                if kernel["cpu_percent"] is not None:
                    cpu.add_metric([kernel["id"]], kernel["cpu_percent"])
        yield memory
        yield cpu
        yield _gauge("resource_monitor_sample_age_seconds", "Age of the sample these figures come "
                     "from", max(0.0, time.monotonic() - snap.taken_monotonic))
        yield _gauge("resource_monitor_processes_left_out", "Descendants not sampled because of the "
                     "process cap", snap.left_out)
        yield _gauge("resource_monitor_cpu_usage", "The monitor's own CPU use, percent",
                     snap.monitor_cpu_percent or 0.0)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)
