"""``/api/metrics/v1/guard``: the memory guard's state and what it did; PUT switches it."""

from __future__ import annotations

import json

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..adapters import NotUserActivity

# Switching the guard acts on every kernel: it needs what shutting a kernel down needs.
AUTH_RESOURCE = "kernels"


class GuardHandler(NotUserActivity, APIHandler):  # reading it is not user activity (idle culling)
    auth_resource = AUTH_RESOURCE

    @property
    def guard(self):
        return self.settings["resource_monitor"].guard

    def _reply(self) -> None:
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({**self.guard.state(), "events": list(self.guard.events)}))

    @web.authenticated
    @authorized
    async def get(self):
        """The guard's state and its events, newest last."""
        self._reply()

    @web.authenticated
    @authorized
    async def put(self):
        """``{"enabled": true|false}``: switch the guard (off gives every kernel its limit back)."""
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            raise web.HTTPError(400, 'The body must be JSON: {"enabled": true or false}') from None
        if not isinstance(body, dict) or not isinstance(body.get("enabled"), bool):
            raise web.HTTPError(400, 'The body must be {"enabled": true or false}')
        if body["enabled"] and not self.guard.available:
            raise web.HTTPError(
                409,
                "No memory limit applies to this server: set c.ResourceMonitor.memory_guard = True to guard "
                "against the host's memory",
            )
        self.guard.set_enabled(body["enabled"])
        self._reply()
