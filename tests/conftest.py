import asyncio
import json
import time

import pytest

pytest_plugins = ["pytest_jupyter.jupyter_server"]


@pytest.fixture
def monitor_config():
    """Override in a test module (or with indirect parametrisation) to configure the monitor."""
    return {}


@pytest.fixture
def jp_server_config(monitor_config):
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_resource_monitor": True}},
        "ResourceMonitor": {"sample_interval": 0.2, **monitor_config},
    }


@pytest.fixture
def monitor(jp_serverapp):
    """The extension's state, as handlers see it."""
    return jp_serverapp.web_app.settings["resource_monitor"]


@pytest.fixture
def metrics(jp_fetch):
    """GET /api/metrics/v1 as JSON."""

    async def get():
        response = await jp_fetch("api", "metrics", "v1")
        assert response.code == 200
        assert response.headers["Content-Type"].startswith("application/json")
        return json.loads(response.body)

    return get


@pytest.fixture
def metrics_until(metrics):
    """Poll until ``predicate(payload)`` holds; return that payload (fail after ``timeout`` s)."""

    async def until(predicate, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            body = await metrics()
            if predicate(body):
                return body
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout} s; last payload: {body}")
            await asyncio.sleep(0.1)

    return until
