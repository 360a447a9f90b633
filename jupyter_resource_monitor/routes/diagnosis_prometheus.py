"""Prometheus series for "why is it slow": CPU waiting, quota throttling, pressure stalls.

Named after the anchors operators already know, with this project's ``jupyter_server_`` /
``jupyter_kernel_`` prefixes: cAdvisor's ``container_cpu_cfs_periods_total``,
``container_cpu_cfs_throttled_periods_total``, ``container_cpu_cfs_throttled_seconds_total`` and
``container_pressure_<resource>_{waiting,stalled}_seconds_total`` (node_exporter's
``node_pressure_*`` for the host). All counters; a dashboard takes their ``rate()``.
Used by :mod:`.prometheus`, which lists these families with its own.
"""

from __future__ import annotations

from typing import NamedTuple

from prometheus_client.core import CounterMetricFamily

from ..snapshot import Snapshot
from . import kernels

KERNEL_LABELS = ("kernel_id", "kernel_name")  # the same as prometheus.KERNEL_LABELS


class Family(NamedTuple):
    """The shape of :class:`.prometheus.Family`."""

    kind: type
    help: str
    labels: tuple[str, ...] = ()


PRESSURE_KINDS = {"some": "waiting", "full": "stalled"}

FAMILIES: dict[str, Family] = {
    "jupyter_server_cpu_wait_seconds": Family(
        CounterMetricFamily,
        "Time the server's and its descendants' threads were runnable but "
        "waited for a CPU (run-queue wait, quota throttling included)",
    ),
    "jupyter_kernel_cpu_wait_seconds": Family(
        CounterMetricFamily, "Time a kernel's and its descendants' threads waited for a CPU", KERNEL_LABELS
    ),
    "jupyter_server_cpu_cfs_periods": Family(
        CounterMetricFamily,
        "CPU quota enforcement periods in which the server's quota cgroup had work; only under a CPU quota",
    ),
    "jupyter_server_cpu_cfs_throttled_periods": Family(
        CounterMetricFamily, "Of those periods, the ones that ran out of quota (throttled)"
    ),
    "jupyter_server_cpu_cfs_throttled_seconds": Family(
        CounterMetricFamily,
        "Time the quota cgroup's run queues spent throttled, summed over CPUs (the cgroup's own counter)",
    ),
    **{
        f"jupyter_server_pressure_{resource}_{name}_seconds": Family(
            CounterMetricFamily,
            f"Pressure stall information, {resource}: time "
            + ("at least one task" if kind == "some" else "all non-idle tasks")
            + f' {"waited" if kind == "some" else "were stalled"} for {resource}; source="cgroup" '
            '(the server\'s cgroup) or "host" (every tenant of the machine)',
            ("source",),
        )
        for resource in ("cpu", "memory", "io")
        for kind, name in PRESSURE_KINDS.items()
    },
}


def series(snap: Snapshot, kernel_manager, tracker, kernel_labels: list[str]):
    """The families with figures in ``snap`` (names as in :data:`FAMILIES`)."""
    yield _counter("jupyter_server_cpu_wait_seconds", snap.total.cpu_wait_s)
    waits = CounterMetricFamily(
        "jupyter_kernel_cpu_wait_seconds",
        FAMILIES["jupyter_kernel_cpu_wait_seconds"].help,
        labels=kernel_labels,
    )
    for kernel in kernels.all_kernels(kernel_manager, snap, tracker):
        usage = snap.subtrees.get(kernel["pid"]) if kernel["available"] else None
        if usage is None:
            continue
        labels = [kernel["id"], kernel["name"] or ""]
        if "path" in kernel_labels:
            labels.append(kernel.get("path") or "")
        waits.add_metric(labels, usage.cpu_wait_s)
    yield waits
    throttle = snap.cpu_throttle
    if throttle is not None:
        yield _counter("jupyter_server_cpu_cfs_periods", throttle.periods)
        yield _counter("jupyter_server_cpu_cfs_throttled_periods", throttle.throttled_periods)
        yield _counter("jupyter_server_cpu_cfs_throttled_seconds", throttle.throttled_s)
    psi = snap.psi or {}
    for resource in ("cpu", "memory", "io"):
        for kind, name in PRESSURE_KINDS.items():
            figure = (psi.get(resource) or {}).get(kind)
            if figure is not None:
                family_name = f"jupyter_server_pressure_{resource}_{name}_seconds"
                family = CounterMetricFamily(family_name, FAMILIES[family_name].help, labels=["source"])
                family.add_metric([psi["source"]], figure["total_s"])
                yield family


def _counter(name: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, FAMILIES[name].help, value=value)
