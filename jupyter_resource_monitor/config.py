"""Server-side configuration: ``c.ResourceMonitor.*``, with jupyter-resource-usage's
``c.ResourceUseDisplay.*`` honoured where an option means the same thing.

Bad values never stop the server: :func:`load_config` logs one message naming the option and
keeps its default (see :func:`_checked`).
"""

from __future__ import annotations

import logging
import math
import os

from traitlets import Bool, Callable, Float, Int, TraitError, Unicode, Union, default, validate
from traitlets.config import Config, LoggingConfigurable
from traitlets.config.loader import DeferredConfigString

# jupyter-resource-usage options that mean the same here, by our trait of the same name.
# Its callables for mem_limit/cpu_limit are honoured too (see tracking/effective_limits.py).
RESOURCE_USE_DISPLAY_OPTIONS = (
    "mem_limit",
    "mem_warning_threshold",
    "cpu_limit",
    "cpu_warning_threshold",
    "track_cpu_percent",
    "track_disk_usage",
    "disk_path",
    "disk_warning_threshold",
    "enable_prometheus_metrics",
)


_FRACTION = (0, 1, "between 0 and 1 (a fraction)")
# The traits with bounds: (lowest, highest, what a value must be). A callable (mem_limit, cpu_limit)
# is checked by whoever calls it.
_BOUNDS = {
    "sample_interval": (0.2, 3600, "between 0.2 and 3600 seconds"),
    "loop_block_threshold": (0.5, 600, "between 0.5 and 600 seconds"),
    "max_processes": (1, math.inf, "at least 1"),
    "idle_timeout": (0, math.inf, "0 (never) or more seconds"),
    "mem_limit": (0, math.inf, "0 (none) or a number of bytes"),
    "cpu_limit": (0, math.inf, "0 (none) or a number of CPUs"),
    "memory_guard_reserve_min": (0, math.inf, "0 or more bytes"),
    "cpu_wait_warning_threshold": (0, math.inf, "0 (never) or more CPUs"),
    "pss_budget": _FRACTION,
    "memory_guard_reserve": _FRACTION,
    "memory_guard_interrupt_at": _FRACTION,
    "mem_warning_threshold": _FRACTION,
    "cpu_warning_threshold": _FRACTION,
    "throttle_warning_threshold": _FRACTION,
    "disk_warning_threshold": _FRACTION,
}


class ResourceMonitor(LoggingConfigurable):
    """What the resource monitor samples, how often, at what cost, and against which limits."""

    sample_interval = Float(
        1.0,
        help="""Seconds between samples while someone polls. Between 0.2 and 3600. The worker
        stretches it when walking the process tree would cost more than about 2% of a CPU.""",
    ).tag(config=True)

    max_processes = Int(
        2000,
        help="""Most processes (the server and its descendants) read per sample, at least 1.
        Processes past the cap, in breadth-first order, are counted (up to ten times the cap)
        and reported as left out.""",
    ).tag(config=True)

    pss_budget = Float(
        0.02,
        help="""Fraction of one CPU that exact PSS readings (/proc/<pid>/smaps_rollup, whose
        cost grows with a process's memory) may use on average. Between 0 and 1; 0 turns exact
        readings off, so every PSS figure is an estimate.""",
    ).tag(config=True)

    idle_timeout = Float(
        60.0,
        help="""Seconds without a metrics request after which the worker pauses sampling (it
        resumes on the next request). 0: never pause.""",
    ).tag(config=True)

    track_cpu_percent = Bool(True, help="Report CPU use (cpu_percent).").tag(config=True)

    track_disk_usage = Bool(False, help="Report use of the disk holding disk_path.").tag(config=True)

    disk_path = Unicode(help="A path on the disk to report on. Default: $HOME.").tag(config=True)

    @default("disk_path")
    def _disk_path_default(self):
        return os.environ.get("HOME", "/")

    mem_limit = Union(
        [Int(), Callable()],
        default_value=0,
        help="""Memory limit to show, in bytes (shown, not enforced). 0: none configured. The
        effective limit is the smallest of the cgroup's limit, this and the MEM_LIMIT environment
        variable; with none of them, the host's memory. A callable taking rss= and pss= keyword
        arguments and returning bytes is accepted, as in jupyter-resource-usage.""",
    ).tag(config=True)

    cpu_limit = Union(
        [Float(), Callable()],
        default_value=0.0,
        help="""CPU limit to show, in CPUs (shown, not enforced). 0: none configured. The
        effective limit is the smallest of the cgroup quota, this, the CPU_LIMIT environment
        variable and the CPUs this process may run on. A callable taking cpu_percent= and
        returning CPUs is accepted, as in jupyter-resource-usage.""",
    ).tag(config=True)

    mem_warning_threshold = Float(
        0.1,
        help="""Warn when memory use is within this fraction of the limit (0.1: at 90%).
        Between 0 and 1; 0 turns the warning off.""",
    ).tag(config=True)

    cpu_warning_threshold = Float(
        0.1, help="Warn when CPU use is within this fraction of the CPU limit; 0: never."
    ).tag(config=True)

    throttle_warning_threshold = Float(
        0.5,
        help="""Warn when the CPU quota throttled more than this fraction of the quota periods
        in which the server had work, over the last minute (cpu_throttle.throttled_percent).
        Between 0 and 1; 0 turns the warning off. See docs/api.md for why 0.5, not the 0.25 of
        Kubernetes' CPUThrottlingHigh alert.""",
    ).tag(config=True)

    cpu_wait_warning_threshold = Float(
        0.5,
        help="""Warn when the server's or a kernel's processes waited for a CPU more than this
        many CPUs' worth over the last sample (cpu_wait_percent / 100; 0.5: half a CPU). 0 or
        more; 0 turns the warning off.""",
    ).tag(config=True)

    disk_warning_threshold = Float(
        0.1, help="Warn when disk use is within this fraction of the disk's size; 0: never."
    ).tag(config=True)

    enable_prometheus_metrics = Bool(
        True, help="Add resource series to the server's /metrics (Prometheus) endpoint."
    ).tag(config=True)

    prometheus_kernel_path = Bool(
        False,
        help="""Add a `path` label (the kernel's notebook or console, relative to the
        server's root) to the jupyter_kernel_* series on /metrics. Off by default: it reveals
        file names to whoever reads the metrics, and a renamed notebook starts new series.""",
    ).tag(config=True)

    memory_guard = Bool(
        None,
        allow_none=True,
        help="""Keep kernels alive at the memory limit: a cell that asks for more than is left
        gets a MemoryError instead of the OOM killer ending its kernel (see docs/memory-guard.md).
        None (the default): on where a cgroup memory limit applies, off without one. True: on,
        against mem_limit / MEM_LIMIT where no cgroup limit applies, else against the host's
        available memory. False: off.""",
    ).tag(config=True)

    memory_guard_reserve = Float(
        0.05,
        help="""Fraction of the memory limit the guard keeps free for the server and for memory
        its fence cannot see, at least memory_guard_reserve_min bytes. Between 0 and 1.""",
    ).tag(config=True)

    memory_guard_reserve_min = Int(
        100 << 20,
        help="Least bytes the guard keeps free under the memory limit (see memory_guard_reserve).",
    ).tag(config=True)

    memory_guard_interrupt_at = Float(
        0.97,
        help="""Fraction of the memory limit past which a kernel that is executing and growing
        is interrupted, as the stop button does (memory its fence cannot stop: pages of arrays
        taken earlier, shared memory). Between 0 and 1; 0 never interrupts.""",
    ).tag(config=True)

    track_cells = Bool(
        True,
        help="""Record what each execution of a code cell cost (wall time, CPU, the kernel's
        exact peak memory), read by the server at each cell's boundaries (while cells wait in a
        queue, the worker follows the kernel every 10 ms) and served at
        /api/metrics/v1/kernels/<id>/cells.""",
    ).tag(config=True)

    track_event_loop = Bool(
        True,
        help="""Watch the server's event loop: its delay (p50/p99/max over the last minute,
        event_loop in /api/metrics/v1, a histogram on /metrics) and every block longer than
        loop_block_threshold, with the Python stack that held it. The worker process probes the
        loop 4 times a second (it then runs from the server's start, sampling only while someone
        polls); faulthandler takes the stack on a real-time signal. False: no probe, no signal
        handler.""",
    ).tag(config=True)

    loop_block_threshold = Float(
        1.0,
        help="""Seconds a probe of the event loop may wait before the loop counts as blocked
        and its stack is taken. Between 0.5 and 600. A second is when a user notices a frozen
        page; shorter blocks still show in the delay percentiles.""",
    ).tag(config=True)

    @validate(*_BOUNDS)
    def _check_bounds(self, proposal):
        value, name = proposal["value"], proposal["trait"].name
        low, high, what = _BOUNDS[name]
        if not callable(value) and not low <= value <= high:
            raise TraitError(f"{name} must be {what}, not {value!r}")
        return value


def load_config(config: Config, log: logging.Logger) -> ResourceMonitor:
    """Build the :class:`ResourceMonitor` from the server's config.

    ``c.ResourceMonitor.X`` wins; else ``c.ResourceUseDisplay.X`` for the options listed in
    :data:`RESOURCE_USE_DISPLAY_OPTIONS`; else the default. Each invalid value is logged once,
    naming the option, and replaced by the default.
    """
    settings = {}
    legacy = config.get("ResourceUseDisplay", {})
    for name in RESOURCE_USE_DISPLAY_OPTIONS:
        if name in legacy:
            settings[name] = ("ResourceUseDisplay", legacy[name])
    for name, value in config.get("ResourceMonitor", {}).items():
        settings[name] = ("ResourceMonitor", value)
    monitor = ResourceMonitor(log=log)
    for name, (section, value) in settings.items():
        _checked(monitor, section, name, value, log)
    return monitor


def _checked(monitor: ResourceMonitor, section: str, name: str, value, log: logging.Logger) -> None:
    if not monitor.has_trait(name) or not monitor.trait_metadata(name, "config"):
        log.warning("Ignoring unknown option c.%s.%s", section, name)
        return
    try:
        if isinstance(value, DeferredConfigString):  # from the command line: still text
            value = value.get_value(monitor.traits()[name])
        setattr(monitor, name, value)
    except (TraitError, ValueError) as exc:
        log.error(
            "Ignoring c.%s.%s = %r (%s); using the default, %r",
            section,
            name,
            value,
            str(exc).splitlines()[0],
            getattr(monitor, name),
        )
