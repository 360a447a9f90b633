"""Authorization of every route the extension registers, on real servers over HTTP: a request
without a token is refused; a user with a valid token but without the permission a route needs is
refused; the same user with only another permission taken away is served. A route the extension
adds without an entry in AUTH fails test_every_route_is_covered."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from jupyter_resource_monitor.routes.handlers import handlers

from . import servers
from .contract import route_template

ROOT = Path(__file__).resolve().parent.parent

# route -> (the authorizer's resource, action) it needs: reading server metrics needs what
# /api/status needs; reading a kernel's usage what reading the kernel needs.
AUTH = {
    "/api/metrics/v1": ("api", "read"),
    "/api/metrics/v1/kernels": ("kernels", "read"),
    "/api/metrics/v1/kernels/<kernel_id>": ("kernels", "read"),
    "/api/metrics/v1/kernels/<kernel_id>/cells": ("kernels", "read"),
    "/api/metrics/v1/kernel_usage/get_usage/<kernel_id>": ("kernels", "read"),
    "/api/metrics/v1/events": ("kernels", "read"),
    "/api/metrics/v1/history": ("kernels", "read"),
    "/api/metrics/v1/notebooks/peaks": ("kernels", "read"),
    # Reading the memory guard; switching it (PUT) needs kernels:write, see below.
    "/api/metrics/v1/guard": ("kernels", "read"),
}
PERMISSIONS = sorted(set(AUTH.values()))


def registered_routes() -> list[str]:
    return [route_template(pattern) for pattern, _ in handlers("/")]


def path_of(route: str, kernel_id: str) -> str:
    return route.replace("<kernel_id>", kernel_id).lstrip("/")


def status(server: servers.ServerProcess, path: str, token: str | None) -> int:
    headers = {"Authorization": f"token {token}"} if token else {}
    request = urllib.request.Request(server.url(path), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_every_route_is_covered():
    routes = registered_routes()
    assert len(routes) >= 6
    missing = sorted(set(routes) - set(AUTH))
    assert not missing, f"routes without an authorization entry: {missing}"


def start(tmp_path_factory, *args: str) -> tuple[servers.ServerProcess, str]:
    """A server (the test authorizer importable from this checkout) with a running kernel."""
    folder = tmp_path_factory.mktemp("auth") / "home"
    folder.mkdir()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    server = servers.ServerProcess(folder, "--ResourceMonitor.sample_interval=0.25", *args, env=env)
    try:
        # (not /api/status: one of the servers refuses "api")
        server.wait_until("api/kernelspecs", lambda b: True)
        kernel_id = server.start_notebook("auth.ipynb")
    except BaseException:
        server.stop()
        raise
    return server, kernel_id


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    server, kernel_id = start(tmp_path_factory)
    yield server, kernel_id
    server.stop()


@pytest.mark.parametrize("route", list(AUTH))
def test_without_a_token_each_route_is_refused(open_server, route):
    server, kernel_id = open_server
    if route not in registered_routes():
        pytest.skip(f"{route} is not registered by this version of the extension")
    path = path_of(route, kernel_id)
    assert status(server, path, server.token) == 200  # the route exists and serves a token
    assert status(server, path, None) in {401, 403}
    assert status(server, path, "not-" + server.token) in {401, 403}


@pytest.fixture(scope="module", params=PERMISSIONS, ids=lambda p: f"{p[0]}:{p[1]}")
def denying_server(request, tmp_path_factory):
    resource, action = request.param
    server, kernel_id = start(
        tmp_path_factory,
        "--ServerApp.authorizer_class=tests.authorizers.DenyingAuthorizer",
        f"--DenyingAuthorizer.denied={resource}:{action}",
    )
    yield server, kernel_id, request.param
    server.stop()


def test_a_token_without_the_permission_is_refused_and_with_it_served(denying_server):
    server, kernel_id, denied = denying_server
    checked = 0
    for route in registered_routes():
        got = status(server, path_of(route, kernel_id), server.token)
        if AUTH[route] == denied:
            assert got == 403, f"{route} served a user without {denied}"
        else:
            assert got == 200, f"{route} refused a user who has {AUTH[route]} (only {denied} denied)"
        checked += 1
    assert checked == len(registered_routes())


def put_status(server: servers.ServerProcess, path: str, body: bytes) -> int:
    request = urllib.request.Request(
        server.url(path), data=body, method="PUT", headers={"Authorization": f"token {server.token}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def test_switching_the_memory_guard_needs_the_permission_to_write_kernels(tmp_path_factory):
    """A user who may read kernels but not change them cannot switch the guard off for all."""
    server, _kernel_id = start(
        tmp_path_factory,
        "--ServerApp.authorizer_class=tests.authorizers.DenyingAuthorizer",
        "--DenyingAuthorizer.denied=kernels:write",
    )
    try:
        assert status(server, "api/metrics/v1/guard", server.token) == 200
        assert put_status(server, "api/metrics/v1/guard", b'{"enabled": false}') == 403
    finally:
        server.stop()
