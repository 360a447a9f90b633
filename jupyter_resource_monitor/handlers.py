"""HTTP handlers: thin readers of the shared snapshot. They never touch /proc and never wait."""

from __future__ import annotations

import json

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from . import payload

AUTH_RESOURCE = "api"  # reading metrics needs what reading /api/status needs


class MetricsHandler(APIHandler):
    """``GET /api/metrics/v1``: the latest sample, as jupyter-resource-usage shapes it plus ours."""

    auth_resource = AUTH_RESOURCE
    # Polling is not user activity: it must not keep an idle server from being culled.
    _track_activity = False

    @property
    def monitor(self):
        return self.settings["resource_monitor"]

    @web.authenticated
    @authorized
    async def get(self):
        """Return the latest snapshot without waiting for a new one."""
        self.monitor.supervisor.demand()
        body = payload.metrics(self.monitor.supervisor.snapshot, self.monitor.config, self.monitor.supervisor)
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


def handlers(base_url: str) -> list[tuple[str, type]]:
    return [(url_path_join(base_url, r"/api/metrics/v1/?"), MetricsHandler)]
