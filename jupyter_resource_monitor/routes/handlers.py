"""HTTP handlers: thin readers of the shared snapshot. They never touch /proc and never wait."""

from __future__ import annotations

import dataclasses
import json

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from ..adapters import NotUserActivity
from . import kernels, payload
from .guard import GuardHandler

# Reading server metrics needs what reading /api/status needs; reading a kernel's usage needs
# what reading the kernel needs (jupyter_server's kernel handlers use "kernels").
AUTH_RESOURCE = "api"
KERNELS_AUTH_RESOURCE = "kernels"


class _SnapshotHandler(NotUserActivity, APIHandler):
    """Base: every request counts as demand for the worker and reads its latest snapshot. Polling
    is not user activity: it must not keep an idle server from being culled."""

    auth_resource = AUTH_RESOURCE

    def snapshot(self):
        supervisor = self.settings["resource_monitor"].supervisor
        supervisor.demand()
        return supervisor.snapshot

    def reply(self, body) -> None:
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))

    @property
    def tracker(self):
        return self.settings["resource_monitor"].tracker


class MetricsHandler(_SnapshotHandler):
    """``GET /api/metrics/v1``: the latest sample, as jupyter-resource-usage shapes it plus ours."""

    @web.authenticated
    @authorized
    async def get(self):
        """Return the latest snapshot without waiting for a new one."""
        monitor = self.settings["resource_monitor"]
        body = payload.metrics(
            self.snapshot(),
            monitor.config,
            monitor.supervisor,
            tracker=monitor.tracker,
            loop_watch=monitor.loop_watch,
        )
        if monitor.guard is not None and monitor.guard.available:
            body["guard"] = monitor.guard.summary()
        self.reply(body)


class KernelsHandler(_SnapshotHandler):
    """``GET /api/metrics/v1/kernels``: usage of every running kernel."""

    auth_resource = KERNELS_AUTH_RESOURCE

    @web.authenticated
    @authorized
    async def get(self):
        """List each kernel's memory, CPU and process count from the latest sample."""
        snap = self.snapshot()
        self.reply(
            {
                "kernels": kernels.all_kernels(self.kernel_manager, snap, self.tracker),
                "sample": payload.sample_block(snap, self.settings["resource_monitor"].supervisor),
            }
        )


class KernelHandler(_SnapshotHandler):
    """``GET /api/metrics/v1/kernels/<kernel_id>``: one kernel's usage."""

    auth_resource = KERNELS_AUTH_RESOURCE
    # What the reply is: build(kernel_manager, kernel_id, snapshot, tracker), KeyError if unknown.
    build = staticmethod(kernels.kernel_usage)

    @web.authenticated
    @authorized
    async def get(self, kernel_id):
        """Return the kernel's reply from the latest sample; 404 for an unknown kernel."""
        try:
            self.reply(self.build(self.kernel_manager, kernel_id, self.snapshot(), self.tracker))
        except KeyError:
            raise web.HTTPError(404, f"No such kernel: {kernel_id}") from None


class KernelUsageHandler(KernelHandler):
    """``GET /api/metrics/v1/kernel_usage/get_usage/<kernel_id>``: jupyter-resource-usage's kernel
    panel endpoint (the content of a ``usage_reply``), answered from the snapshot instead of a
    message to the kernel."""

    build = staticmethod(kernels.usage_reply)


class EventsHandler(_SnapshotHandler):
    """``GET /api/metrics/v1/events``: kernels ended by the OOM killer, newest last."""

    auth_resource = KERNELS_AUTH_RESOURCE

    @web.authenticated
    @authorized
    async def get(self):
        """Return the recorded events (bounded in number) from memory."""
        self.snapshot()  # counts as demand: the counter is read by a running worker
        guard = self.settings["resource_monitor"].guard
        self.reply(
            {
                "events": [dataclasses.asdict(e) for e in self.tracker.events],
                # The memory guard's catches (kernels kept alive), newest last.
                "guard": list(guard.events) if guard is not None else [],
            }
        )


class HistoryHandler(_SnapshotHandler):
    """``GET /api/metrics/v1/history``: the server's bounded history of the totals and of each
    kernel, so a new tab draws its sparklines at once."""

    auth_resource = KERNELS_AUTH_RESOURCE

    @web.authenticated
    @authorized
    async def get(self):
        """Return the history, encoded at most once per sample."""
        self.snapshot()
        self.set_header("Cache-Control", "no-store")
        self.finish(self.tracker.history.body())


class CellsHandler(_SnapshotHandler):
    """``GET /api/metrics/v1/kernels/<kernel_id>/cells``: what each execution of a code cell
    cost, newest last (see cells/)."""

    auth_resource = KERNELS_AUTH_RESOURCE

    @web.authenticated
    @authorized
    async def get(self, kernel_id):
        """Return the kernel's bounded records, encoded at most once per change; 404 for an
        unknown kernel or when per-cell tracking is off."""
        cells = self.settings["resource_monitor"].cells
        if cells is None:
            raise web.HTTPError(404, "Per-cell tracking is off (ResourceMonitor.track_cells)")
        try:
            body = cells.body(kernel_id)
        except KeyError:
            raise web.HTTPError(404, f"No such kernel: {kernel_id}") from None
        self.set_header("Cache-Control", "no-store")
        self.finish(body)


class NotebookPeaksHandler(_SnapshotHandler):
    """``GET /api/metrics/v1/notebooks/peaks?path=<path>``: the highest peak the notebook's kernels
    reached in this server's life, kept after they shut down (see cells/notebook_peaks.py)."""

    auth_resource = KERNELS_AUTH_RESOURCE

    @web.authenticated
    @authorized
    async def get(self):
        """Return one path's remembered peak from memory; 404 when per-cell tracking is off."""
        cells = self.settings["resource_monitor"].cells
        if cells is None:
            raise web.HTTPError(404, "Per-cell tracking is off (ResourceMonitor.track_cells)")
        self.reply(cells.notebook_peak(self.get_query_argument("path", "")))


def handlers(base_url: str) -> list[tuple[str, type]]:
    def route(path):
        return url_path_join(base_url, "/api/metrics/v1", path)

    return [
        (route(r"/?"), MetricsHandler),
        (route(r"/kernels/?"), KernelsHandler),
        (route(r"/kernels/(?P<kernel_id>[^/]+)/?"), KernelHandler),
        (route(r"/kernels/(?P<kernel_id>[^/]+)/cells/?"), CellsHandler),
        (route(r"/kernel_usage/get_usage/(?P<kernel_id>[^/]+)/?"), KernelUsageHandler),
        (route(r"/events/?"), EventsHandler),
        (route(r"/history/?"), HistoryHandler),
        (route(r"/notebooks/peaks/?"), NotebookPeaksHandler),
        (route(r"/guard/?"), GuardHandler),
    ]
