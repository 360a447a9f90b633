"""Resource series for the server's own ``/metrics`` (Prometheus) endpoint.

A collector, not gauges updated on a timer: a scrape reads the latest snapshot (no /proc work, and
nothing periodic on the event loop when nobody scrapes) and counts as demand for the worker.

Two sets of names. jupyter-resource-usage's (``total_memory_usage``, ``kernel_memory_usage``, ...)
are kept so existing dashboards keep working. The ``jupyter_*`` series follow Prometheus naming
conventions (base units in the name, ``_total`` counters, ``_info`` for static labels) and are the
ones docs/hub.md and the shipped Grafana dashboard use. Series per server: about 30, plus 5 per
running kernel.
"""

from __future__ import annotations

import asyncio
import time
from typing import NamedTuple

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    InfoMetricFamily,
)
from prometheus_client.registry import Collector, CollectorRegistry

from .. import __version__
from ..tracking.effective_limits import effective_limits, host_total
from ..tracking.tracker import memory_figure
from . import diagnosis_prometheus, kernels

KERNEL_LABELS = ["kernel_id", "kernel_name"]


class Family(NamedTuple):
    kind: type
    help: str
    labels: tuple[str, ...] = ()


# Every family this collector can yield. describe() lists them all, so the registry detects a
# clash with another exporter's series (jupyter-resource-usage's gauges) at registration instead of
# serving the same family twice, which Prometheus rejects.
FAMILIES: dict[str, Family] = {
    # jupyter-resource-usage's names and units (percent), for existing dashboards.
    "total_memory_usage": Family(
        GaugeMetricFamily,
        "Memory used by the server and its descendants, bytes (PSS: shared pages counted once)",
    ),
    # As jupyter-resource-usage: the limit, or the host's total memory without one.
    "max_memory_usage": Family(
        GaugeMetricFamily, "Memory limit, bytes (cgroup, configured, or the host's total without a limit)"
    ),
    "total_cpu_usage": Family(
        GaugeMetricFamily, "CPU used by the server and its descendants, percent (100 = one CPU)"
    ),
    "max_cpu_usage": Family(GaugeMetricFamily, "CPU limit, percent (100 per CPU)"),
    "current_disk_usage": Family(GaugeMetricFamily, "Disk used, bytes"),
    "max_disk_usage": Family(GaugeMetricFamily, "Disk size, bytes"),
    "kernel_memory_usage": Family(
        GaugeMetricFamily, "Memory (PSS) of a kernel and its descendants, bytes", ("kernel_id",)
    ),
    "kernel_cpu_usage": Family(
        GaugeMetricFamily, "CPU of a kernel and its descendants, percent", ("kernel_id",)
    ),
    # The server, in base units.
    "jupyter_server_memory_usage_bytes": Family(
        GaugeMetricFamily,
        "The memory compared with the limit: the cgroup's working set under a "
        "cgroup limit, else the PSS of the server's processes (see jupyter_resource_monitor_info)",
    ),
    # Absent without a limit (as cAdvisor's limit is 0 for an unlimited container, a ratio to it
    # is then no series rather than a share of the host's memory).
    "jupyter_server_memory_limit_bytes": Family(
        GaugeMetricFamily, "The memory limit (absent without one: see jupyter_host_memory_bytes)"
    ),
    "jupyter_host_memory_bytes": Family(
        GaugeMetricFamily, "The host's total memory (MemTotal), where a server without a limit runs out"
    ),
    "jupyter_server_memory_pss_bytes": Family(
        GaugeMetricFamily, "PSS of the server and its descendants (shared pages counted once)"
    ),
    "jupyter_server_memory_working_set_bytes": Family(
        GaugeMetricFamily,
        "The memory cgroup's working set (usage less inactive file cache), "
        "what its OOM killer counts; only under a cgroup limit",
    ),
    "jupyter_server_cpu_usage_cores": Family(
        GaugeMetricFamily, "CPUs busy with the server and its descendants (1 = one CPU)"
    ),
    "jupyter_server_cpu_limit_cores": Family(GaugeMetricFamily, "CPUs the server may use"),
    # Each running kernel (kernel_name is the kernelspec's; path with prometheus_kernel_path).
    "jupyter_kernel_memory_bytes": Family(
        GaugeMetricFamily, "PSS of a kernel and its descendants", tuple(KERNEL_LABELS)
    ),
    "jupyter_kernel_cpu_usage_cores": Family(
        GaugeMetricFamily, "CPUs busy with a kernel and its descendants", tuple(KERNEL_LABELS)
    ),
    "jupyter_kernel_processes": Family(
        GaugeMetricFamily, "Processes of a kernel (itself and its descendants)", tuple(KERNEL_LABELS)
    ),
    "jupyter_kernel_oom_kills": Family(
        CounterMetricFamily, "Kernels of this server ended by the kernel's OOM killer"
    ),
    "jupyter_kernel_deaths": Family(
        CounterMetricFamily, "Kernels of this server that died by themselves (any cause, OOM kills included)"
    ),
    "jupyter_kernel_memory_guard_actions": Family(
        CounterMetricFamily,
        "Times the memory guard kept a kernel alive at the memory limit, by action: fenced (an "
        "allocation failed under its fence), interrupted (growing past the interrupt threshold)",
        ("action",),
    ),
    # The server's event loop (c.ResourceMonitor.track_event_loop), see tracking/loop_watch.py.
    "jupyter_server_event_loop_lag_seconds": Family(
        HistogramMetricFamily,
        "How late the event loop answered the monitor's probes (4 a "
        "second): the time a request or a keystroke would have waited",
    ),
    "jupyter_server_event_loop_blocks": Family(
        CounterMetricFamily, "Times the event loop was blocked longer than the block threshold"
    ),
    # The monitor itself.
    "jupyter_resource_monitor": Family(
        InfoMetricFamily,
        "The resource monitor: version, which "
        "memory figure the limit is compared with, and where "
        "limits and OOM kills are read",
    ),
    "jupyter_resource_monitor_sample_age_seconds": Family(
        GaugeMetricFamily, "Age of the sample these figures come from"
    ),
    "jupyter_resource_monitor_sample_timestamp_seconds": Family(
        GaugeMetricFamily, "When that sample was taken, Unix time"
    ),
    "jupyter_resource_monitor_sample_cost_seconds": Family(
        GaugeMetricFamily, "CPU time the worker spent on that sample"
    ),
    "jupyter_resource_monitor_cpu_usage_cores": Family(
        GaugeMetricFamily, "CPUs busy with the monitor's worker"
    ),
    "jupyter_resource_monitor_processes_left_out": Family(
        GaugeMetricFamily, "Descendants not sampled because of the process cap"
    ),
}
FAMILIES.update(diagnosis_prometheus.FAMILIES)  # CPU waiting, quota throttling, pressure stalls


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


def _family(name: str, labels: list[str] | None = None, **kwargs):
    family = FAMILIES[name]
    if family.kind is InfoMetricFamily:
        return InfoMetricFamily(name, family.help, **kwargs)
    return family.kind(
        name, family.help, labels=labels if labels is not None else (list(family.labels) or None), **kwargs
    )


class _Probe(Collector):
    def __init__(self, name):
        self.name = name

    def describe(self):
        return [_family(self.name)]

    def collect(self):
        return []


class SnapshotCollector(Collector):
    """Yields the latest snapshot's figures, leaving out the families in ``skip`` (names another
    exporter already serves). ``path_label`` adds each kernel's notebook path to the
    ``jupyter_kernel_*`` series (off by default: it reveals file names and adds series)."""

    def __init__(self, monitor, kernel_manager, skip: frozenset[str] = frozenset(), path_label: bool = False):
        self.monitor = monitor
        self.kernel_manager = kernel_manager
        self.skip = skip
        self.kernel_labels = KERNEL_LABELS + (["path"] if path_label else [])

    def describe(self):
        return [_family(name, self._labels(name)) for name in FAMILIES if name not in self.skip]

    def _labels(self, name):
        return self.kernel_labels if FAMILIES[name].labels == tuple(KERNEL_LABELS) else None

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
        tracker = self.monitor.tracker
        loop_watch = getattr(self.monitor, "loop_watch", None)
        if loop_watch is not None:
            histogram = loop_watch.histogram
            yield _family(
                "jupyter_server_event_loop_lag_seconds",
                buckets=histogram.cumulative(),
                sum_value=histogram.sum,
            )
            yield _value("jupyter_server_event_loop_blocks", loop_watch.blocks_total)
        yield _value("jupyter_kernel_oom_kills", tracker.oom_kills_total)
        yield _value("jupyter_kernel_deaths", tracker.deaths_total)
        guard = getattr(self.monitor, "guard", None)
        if guard is not None and guard.available:
            actions = _family("jupyter_kernel_memory_guard_actions")
            for action, count in sorted(guard.counts.items()):
                actions.add_metric([action], count)
            yield actions
        snap = supervisor.snapshot
        if snap is None:
            return
        config = self.monitor.config
        total = snap.total
        memory_limit, cpu_limit = effective_limits(snap, config)
        figure, used = memory_figure(snap, memory_limit.source)
        yield _family(
            "jupyter_resource_monitor",
            value={
                "version": __version__,
                "memory_figure": figure,
                "memory_limit_source": memory_limit.source,
                "cpu_limit_source": cpu_limit.source,
                "oom_counter": snap.oom.source if snap.oom else "none",
            },
        )

        yield _value("total_memory_usage", total.pss)
        host_memory = host_total(snap)
        limited = memory_limit.source != "host"
        yield _value("max_memory_usage", memory_limit.value if limited else host_memory)
        yield _value("jupyter_server_memory_usage_bytes", used)
        if limited:
            yield _value("jupyter_server_memory_limit_bytes", memory_limit.value)
        yield _value("jupyter_host_memory_bytes", host_memory)
        yield _value("jupyter_server_memory_pss_bytes", total.pss)
        if snap.cgroup_memory is not None:
            yield _value("jupyter_server_memory_working_set_bytes", snap.cgroup_memory.working_set)
        if config.track_cpu_percent and total.cpu_percent is not None:
            yield _value("total_cpu_usage", total.cpu_percent)
            yield _value("max_cpu_usage", 100 * cpu_limit.value)
            yield _value("jupyter_server_cpu_usage_cores", total.cpu_percent / 100)
            yield _value("jupyter_server_cpu_limit_cores", cpu_limit.value)
        if config.track_disk_usage and snap.disk:
            yield _value("current_disk_usage", snap.disk.used)
            yield _value("max_disk_usage", snap.disk.total)
        yield from self._kernel_families(snap, tracker)
        yield from diagnosis_prometheus.series(snap, self.kernel_manager, tracker, self.kernel_labels)
        yield _value(
            "jupyter_resource_monitor_sample_age_seconds", max(0.0, time.monotonic() - snap.taken_monotonic)
        )
        yield _value("jupyter_resource_monitor_sample_timestamp_seconds", snap.taken_at)
        yield _value("jupyter_resource_monitor_sample_cost_seconds", snap.cost_s)
        yield _value("jupyter_resource_monitor_cpu_usage_cores", (snap.monitor_cpu_percent or 0.0) / 100)
        yield _value("jupyter_resource_monitor_processes_left_out", snap.left_out)

    def _kernel_families(self, snap, tracker):
        compat_memory = _family("kernel_memory_usage")
        compat_cpu = _family("kernel_cpu_usage")
        memory = _family("jupyter_kernel_memory_bytes", self.kernel_labels)
        cpu = _family("jupyter_kernel_cpu_usage_cores", self.kernel_labels)
        processes = _family("jupyter_kernel_processes", self.kernel_labels)
        for kernel in kernels.all_kernels(self.kernel_manager, snap, tracker):
            if not kernel["available"]:
                continue
            labels = [kernel["id"], kernel["name"] or ""]
            if "path" in self.kernel_labels:
                labels.append(kernel.get("path") or "")
            compat_memory.add_metric([kernel["id"]], kernel["memory"])
            memory.add_metric(labels, kernel["memory"])
            processes.add_metric(labels, kernel["processes"])
            if kernel["cpu_percent"] is not None:
                compat_cpu.add_metric([kernel["id"]], kernel["cpu_percent"])
                cpu.add_metric(labels, kernel["cpu_percent"] / 100)
        yield from (compat_memory, compat_cpu, memory, cpu, processes)


def _value(name: str, value: float):
    """One unlabelled series of family ``name`` (a gauge or a counter, as FAMILIES says)."""
    return _family(name, value=value)
