"""CPU waiting, throttling and pressure in /api/metrics/v1, the kernel rows and /metrics, from one
shared sample of a real server with a real kernel."""

import json
import re

import pytest

from jupyter_resource_monitor.routes import diagnosis_prometheus

from .test_handlers import ready
from .test_kernels import kernel_until, series, start_kernel  # noqa: F401 (a fixture)


@pytest.fixture
def monitor_config():
    return {"throttle_warning_threshold": 0.3, "cpu_wait_warning_threshold": 1.5}


async def test_payload_fields_and_kernel_rows(jp_fetch, start_kernel, metrics_until, monitor):  # noqa: F811
    body = await metrics_until(lambda b: ready(b) and b["cpu_wait_percent"] is not None)
    assert isinstance(body["cpu_wait_percent"], float) and body["cpu_wait_percent"] >= 0
    assert body["thresholds"] == {"throttled_percent": 30.0, "cpu_wait_percent": 150.0}
    snap = monitor.supervisor.snapshot
    # Without a quota (this test's cgroup has none) throttling is null; PSI is what the worker read.
    assert body["cpu_throttle"] is None and snap.cpu_throttle is None
    if snap.psi is None:
        assert body["psi"] is None
    else:
        assert body["psi"]["source"] in ("cgroup", "host")
        assert set(body["psi"]) == {"source", "cpu", "memory", "io"}
        assert body["psi"]["cpu"]["some"].keys() == {"avg10", "avg60", "total_s"}

    kernel_id = await start_kernel()
    row = await kernel_until(
        jp_fetch, kernel_id, lambda b: b["available"] and b["cpu_wait_percent"] is not None
    )
    assert 0 <= row["cpu_wait_percent"] < 100  # an idle kernel, after its start-up
    rows = json.loads((await jp_fetch("api", "metrics", "v1", "kernels")).body)["kernels"]
    assert all("cpu_wait_percent" in r for r in rows)


async def test_prometheus_series(jp_fetch, start_kernel, metrics_until, monitor):  # noqa: F811
    kernel_id = await start_kernel()
    await kernel_until(jp_fetch, kernel_id, lambda b: b["available"] and b["cpu_wait_percent"] is not None)
    await metrics_until(ready)
    for _ in range(20):  # the scrape and the comparison from one snapshot
        snap = monitor.supervisor.snapshot
        text = (await jp_fetch("metrics")).body.decode()
        if monitor.supervisor.snapshot is snap:
            break
    for name in ("jupyter_server_cpu_wait_seconds", "jupyter_kernel_cpu_wait_seconds"):
        assert re.search(rf"^# TYPE {name}_total counter$", text, re.M)
    assert series(text, "jupyter_server_cpu_wait_seconds_total") == pytest.approx(snap.total.cpu_wait_s)
    pid = json.loads((await jp_fetch("api", "metrics", "v1", "kernels", kernel_id)).body)["pid"]
    labels = f'{{kernel_id="{kernel_id}",kernel_name="python3"}}'
    assert series(text, "jupyter_kernel_cpu_wait_seconds_total", labels) == pytest.approx(
        snap.subtrees[pid].cpu_wait_s
    )
    # No quota here: no cfs series at all (not zeros that would read as "never throttled").
    assert "jupyter_server_cpu_cfs_" not in text
    psi = snap.psi or {}
    for resource in ("cpu", "memory", "io"):
        for kind, word in diagnosis_prometheus.PRESSURE_KINDS.items():
            name = f"jupyter_server_pressure_{resource}_{word}_seconds_total"
            figure = (psi.get(resource) or {}).get(kind)
            if figure is None:
                assert name not in text
            else:
                assert series(text, name, f'{{source="{psi["source"]}"}}') == pytest.approx(figure["total_s"])
