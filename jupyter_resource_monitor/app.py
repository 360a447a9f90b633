"""The server extension: configuration, the worker's lifecycle and the routes."""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass

import prometheus_client
from jupyter_server.extension.application import ExtensionApp

from . import adapters, bus
from .cells.trail import Trail
from .cells.watch import Cells
from .config import ResourceMonitor, load_config
from .guard.service import KERNEL_ACTIONS_SCHEMA_ID, GuardService, guard_options
from .routes.handlers import handlers
from .routes.prometheus import SnapshotCollector, taken_names
from .tracking.effective_limits import effective_limits
from .tracking.loop_watch import LoopWatch
from .tracking.supervisor import WorkerSupervisor, worker_options_from
from .tracking.tracker import Tracker, kernel_pid
from .worker import limits


@dataclass(frozen=True, slots=True)
class Monitor:
    """What handlers reach through ``settings["resource_monitor"]``."""

    config: ResourceMonitor
    supervisor: WorkerSupervisor
    tracker: Tracker
    loop_watch: LoopWatch | None = None  # None: c.ResourceMonitor.track_event_loop is off
    cells: Cells | None = None  # None: per-cell tracking is off
    guard: GuardService | None = None  # the memory guard (its .available is False without one)


class ResourceMonitorApp(ExtensionApp):
    """Serves resource metrics sampled by a worker process, never by the server's event loop."""

    name = "jupyter_resource_monitor"
    load_other_extensions = True
    classes = [ResourceMonitor]

    _collector: SnapshotCollector | None = None

    def initialize_settings(self):
        config = load_config(self.serverapp.config, self.log)
        options = worker_options_from(config)
        # _start, once the loop runs, on every supported jupyter_server (its own start hook for
        # extensions is not called before 2.16). Where it cannot be scheduled, nothing would read
        # the event-loop watch's probes: the watch is off.
        starts = adapters.when_server_runs(self.serverapp, self._start, self.log)
        loop_watch = None
        if config.track_event_loop and starts:
            loop_watch = LoopWatch(threshold_s=config.loop_block_threshold, log=self.log)
            # The worker probes the loop from the start, sampling only once someone polls.
            options = dataclasses.replace(options, loop_probe=loop_watch.start().to_dict(), start_paused=True)
        guarding = guard_options(config, limits.cgroup_memory_limit(), os.environ.get("MEM_LIMIT"))
        if guarding is not None:
            # The guard lives in the worker from the start, which samples only once someone polls.
            options = dataclasses.replace(
                options, memory_guard=dataclasses.asdict(guarding), start_paused=True
            )
        trail = None
        if config.track_cells:
            # The worker follows a kernel while cells wait behind the one it runs (trail.py); it
            # must run for that, though it samples only once someone polls.
            trail = Trail(lambda line: supervisor.send(line))
            options = dataclasses.replace(options, trail_fd=trail.fd, start_paused=True)
        supervisor = WorkerSupervisor(options, log=self.log)
        supervisor.pass_fds = tuple(
            fd for fd in (trail and trail.fd, loop_watch and loop_watch.probe_fd) if fd is not None
        )
        supervisor.keep_alive = loop_watch is not None or guarding is not None or trail is not None
        serverapp = self.serverapp
        tracker = Tracker(
            serverapp.kernel_manager,
            session_manager=getattr(serverapp, "session_manager", None),
            # jupyter_server_terminals may set it up after us: looked up when needed.
            terminal_manager=lambda: serverapp.web_app.settings.get("terminal_manager"),
            limits=functools.partial(effective_limits, config=config),
            log=self.log,
        )
        supervisor.listeners.append(tracker.on_snapshot)
        # OOM kills on jupyter_server's event bus too (JupyterLab hears them at once).
        event_logger = getattr(serverapp, "event_logger", None)
        if event_logger is not None and bus.register_schemas(event_logger):
            tracker.oom_listeners.append(functools.partial(bus.emit_oom_kill, event_logger))
            if loop_watch is not None:  # and each blocked-loop episode, naming its culprit
                loop_watch.listeners.append(functools.partial(bus.emit_loop_block, event_logger))
        guard = GuardService(
            supervisor,
            serverapp.kernel_manager,
            guarding,
            pid_of=functools.partial(kernel_pid, serverapp.kernel_manager),
            session_of=tracker.session_of,
            session_manager=getattr(serverapp, "session_manager", None),
            log=self.log,
        )
        supervisor.listeners.append(guard.on_snapshot)
        if event_logger is not None and guarding is not None:
            if bus.register_schemas(event_logger):
                guard.listeners.append(functools.partial(bus.emit_memory_guard, event_logger))
            bus.listen(event_logger, KERNEL_ACTIONS_SCHEMA_ID, guard.on_kernel_action)
        cells = None
        if config.track_cells:
            cells = Cells(
                serverapp.kernel_manager,
                log=self.log,
                path_of=lambda kernel_id: (tracker.session_of(kernel_id) or {}).get("path"),
                trail=trail,
            )
            # Our settings start as a copy of the web app's and are copied back after this method.
            cells.install(self.settings)
            supervisor.listeners.append(cells.on_snapshot)
            cells.reply_listeners.append(guard.on_reply)
            guard.marks = cells.mark
        self.monitor = Monitor(
            config=config,
            supervisor=supervisor,
            tracker=tracker,
            loop_watch=loop_watch,
            cells=cells,
            guard=guard,
        )
        self.settings["resource_monitor"] = self.monitor
        if self.serverapp.jpserver_extensions.get("jupyter_resource_usage"):
            self.log.warning(
                "jupyter-resource-usage is enabled too: both serve /api/metrics/v1 and only one "
                "answers. Remove it with `pip uninstall jupyter-resource-usage` (or `jupyter server "
                "extension disable jupyter_resource_usage`)."
            )

        if config.enable_prometheus_metrics:
            self._register_collector()

    def _register_collector(self):
        registry = prometheus_client.REGISTRY
        taken = taken_names(registry)
        if taken:  # e.g. jupyter-resource-usage's gauges: theirs stay, ours are left out
            self.log.warning(
                "/metrics already has %s (from another extension, such as "
                "jupyter-resource-usage): the resource monitor leaves those out",
                ", ".join(sorted(taken)),
            )
        collector = SnapshotCollector(
            self.monitor,
            self.serverapp.kernel_manager,
            frozenset(taken),
            path_label=self.monitor.config.prometheus_kernel_path,
        )
        try:
            registry.register(collector)
        except ValueError as exc:  # registered between the probe and now: nothing of ours
            self.log.warning("Resource metrics are not added to /metrics: %s", exc)
            return
        self._collector = collector

    def initialize_handlers(self):
        self.serverapp.web_app.add_handlers(".*$", handlers(self.serverapp.base_url))

    def _start(self):
        if getattr(self, "monitor", None) is None:
            return  # initialize_settings failed (and said so)
        if self.monitor.loop_watch is not None:
            self.monitor.loop_watch.attach()
        if self.monitor.supervisor.keep_alive:
            self.monitor.supervisor.start()  # the loop is watched, the kernels guarded, before anyone polls

    async def stop_extension(self):
        if self._collector is not None:
            prometheus_client.REGISTRY.unregister(self._collector)
            self._collector = None
        await self.monitor.supervisor.stop()
        if self.monitor.loop_watch is not None:
            self.monitor.loop_watch.stop()  # after the worker: it may still send the signal
