"""/metrics next to other exporters, and with the same limits as /api/metrics/v1."""

import re

import prometheus_client
import pytest

from .test_handlers import ready
from .test_kernels import series

# The gauges jupyter-resource-usage registers in the default registry when it is enabled.
JRU_GAUGES = (
    "total_memory_usage",
    "max_memory_usage",
    "total_cpu_usage",
    "max_cpu_usage",
    "max_disk_usage",
    "current_disk_usage",
)


@pytest.fixture
def jru_gauges():
    gauges = [
        prometheus_client.Gauge(name, f"{name} (as jupyter-resource-usage has it)") for name in JRU_GAUGES
    ]
    for gauge in gauges:
        gauge.set(7)
    yield gauges
    for gauge in gauges:
        prometheus_client.REGISTRY.unregister(gauge)


@pytest.fixture
def jp_server_config(jru_gauges, jp_server_config):
    return jp_server_config  # the gauges exist before the server (and our collector) starts


async def test_a_name_clash_leaves_theirs_and_serves_the_rest_of_ours(capfd, jp_fetch, metrics_until):
    await metrics_until(ready)
    text = (await jp_fetch("metrics")).body.decode()
    for name in JRU_GAUGES:  # one family each, theirs (value 7), never two
        assert len(re.findall(rf"^# TYPE {name} ", text, re.M)) == 1
        assert series(text, name) == 7
    assert series(text, "jupyter_resource_monitor_processes_left_out") == 0  # ours, not clashing, served
    # logged while the server initialises (capfd is set up first to see it)
    warnings = [line for line in capfd.readouterr().err.splitlines() if "leaves those out" in line]
    assert len(warnings) == 1 and "total_memory_usage" in warnings[0]
