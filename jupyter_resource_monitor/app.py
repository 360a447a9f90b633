"""The server extension: configuration, the worker's lifecycle and the routes."""

from __future__ import annotations

from dataclasses import dataclass

from jupyter_server.extension.application import ExtensionApp

from .config import ResourceMonitor, load_config
from .handlers import handlers
from .supervisor import WorkerSupervisor, worker_options_from


@dataclass(frozen=True, slots=True)
class Monitor:
    """What handlers reach through ``settings["resource_monitor"]``."""

    config: ResourceMonitor
    supervisor: WorkerSupervisor


class ResourceMonitorApp(ExtensionApp):
    """Serves resource metrics sampled by a worker process, never by the server's event loop."""

    name = "jupyter_resource_monitor"
    load_other_extensions = True
    classes = [ResourceMonitor]

    def initialize_settings(self):
        config = load_config(self.serverapp.config, self.log)
        supervisor = WorkerSupervisor(worker_options_from(config), log=self.log)
        self.monitor = Monitor(config=config, supervisor=supervisor)
        self.settings["resource_monitor"] = self.monitor

    def initialize_handlers(self):
        self.serverapp.web_app.add_handlers(".*$", handlers(self.serverapp.base_url))

    async def stop_extension(self):
        await self.monitor.supervisor.stop()
