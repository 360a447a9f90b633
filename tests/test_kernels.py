"""Per-kernel usage and the Prometheus series, from the one shared sample, with real kernels."""

import asyncio
import json
import re
import sys
import time

import pytest
from tornado.httpclient import HTTPClientError

from .contract import assert_valid
from .test_handlers import ready


@pytest.fixture
def sleeper_kernelspec(jp_data_dir):
    """A kernel that is no kernel at all: it never answers a message (no usage_request, not even
    kernel_info), as a kernel in another language might not implement usage_request."""
    spec = jp_data_dir / "kernels" / "sleeper"
    spec.mkdir(parents=True)
    argv = [
        sys.executable,
        "-c",
        "import time; data = bytearray(64 << 20); time.sleep(600)",
        "{connection_file}",
    ]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "Sleeper", "language": "none"})
    )
    return "sleeper"


@pytest.fixture
def start_kernel(jp_fetch, jp_serverapp):
    async def start(name="python3"):
        response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": name}))
        kernel_id = json.loads(response.body)["id"]
        return kernel_id

    return start  # the server fixture shuts the kernels down with the server


async def kernel_until(jp_fetch, kernel_id, predicate, timeout=30.0):
    """Poll /api/metrics/v1/kernels/<id> until ``predicate(body)``; return that body."""
    deadline = time.monotonic() + timeout
    while True:
        body = json.loads((await jp_fetch("api", "metrics", "v1", "kernels", kernel_id)).body)
        if predicate(body):
            return body
        assert time.monotonic() < deadline, f"kernel never satisfied the condition: {body}"
        await asyncio.sleep(0.2)


async def execute(jp_serverapp, kernel_id, code):
    client = jp_serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        reply = await client.execute_interactive(code, timeout=60, store_history=False)
        assert reply["content"]["status"] == "ok"
    finally:
        client.stop_channels()


async def test_kernel_reads_its_own_pid_and_memory(jp_fetch, jp_serverapp, start_kernel):
    kernel_id = await start_kernel()
    # A sample may catch the kernel still starting (a bare interpreter, under 10 MiB): wait for
    # the started kernel's memory.
    body = await kernel_until(jp_fetch, kernel_id, lambda b: b["available"] and b["memory"] > 10 << 20)
    pid = jp_serverapp.kernel_manager.get_kernel(kernel_id).provisioner.pid
    assert body["pid"] == pid and body["name"] == "python3" and body["id"] == kernel_id
    assert body["memory"] > 10 << 20 and body["processes"] >= 1
    listing = json.loads((await jp_fetch("api", "metrics", "v1", "kernels")).body)
    assert [k["id"] for k in listing["kernels"]] == [kernel_id]
    assert listing["sample"]["ready"]


async def test_kernel_that_allocates_and_spins_shows_it(jp_fetch, jp_serverapp, start_kernel):
    kernel_id = await start_kernel()
    before = await kernel_until(jp_fetch, kernel_id, lambda b: b["available"])
    await execute(
        jp_serverapp,
        kernel_id,
        "import threading, time\n"
        "big = bytearray(300 << 20)\n"
        "for i in range(0, len(big), 4096): big[i] = 1\n"
        "def spin():\n    end = time.monotonic() + 60\n    while time.monotonic() < end: pass\n"
        "threading.Thread(target=spin, daemon=True).start()\n",
    )
    after = await kernel_until(
        jp_fetch,
        kernel_id,
        lambda b: b["memory"] > before["memory"] + (250 << 20) and (b["cpu_percent"] or 0) > 60,
    )
    assert after["cpu_percent"] < 150


async def test_kernel_without_usage_request_still_reports(jp_fetch, sleeper_kernelspec, start_kernel):
    kernel_id = await start_kernel(sleeper_kernelspec)
    body = await kernel_until(jp_fetch, kernel_id, lambda b: b["available"] and b["memory"] > 60 << 20)
    assert body["name"] == "sleeper"
    response = await jp_fetch("api", "metrics", "v1", "kernel_usage", "get_usage", kernel_id)
    reply = json.loads(response.body)
    assert_valid("kernel_usage", reply)  # jupyter-resource-usage's usage_reply, types included
    content = reply["content"]
    assert content["pid"] == body["pid"] and content["kernel_memory"] >= 60 << 20


@pytest.mark.parametrize("path", [("kernels", "nope"), ("kernel_usage", "get_usage", "nope")])
async def test_unknown_kernel_is_404(jp_fetch, path):
    with pytest.raises(HTTPClientError) as info:
        await jp_fetch("api", "metrics", "v1", *path)
    assert info.value.code == 404


def series(text, name, labels=""):
    match = re.search(rf"^{name}{re.escape(labels)} (\S+)$", text, re.M)
    assert match, f"{name}{labels} not in /metrics"
    return float(match.group(1))


async def test_prometheus_series_agree_with_the_api(jp_fetch, start_kernel, metrics, metrics_until, monitor):
    kernel_id = await start_kernel()
    await kernel_until(jp_fetch, kernel_id, lambda b: b["available"])
    await metrics_until(ready)
    for _ in range(20):  # both answers from one snapshot: retry if a sample lands in between
        snap = monitor.supervisor.snapshot
        text = (await jp_fetch("metrics")).body.decode()
        api = await metrics()
        kernel = json.loads((await jp_fetch("api", "metrics", "v1", "kernels", kernel_id)).body)
        if monitor.supervisor.snapshot is snap:
            break
    assert series(text, "total_memory_usage") == api["pss"]
    # jupyter-resource-usage's max_memory_usage: the limit, or the host's total without one.
    assert series(text, "max_memory_usage") == (api["limits"]["memory"]["rss"] or api["memory"]["host_total"])
    assert series(text, "jupyter_host_memory_bytes") == api["memory"]["host_total"]
    assert series(text, "total_cpu_usage") == api["cpu_percent"]
    assert series(text, "max_cpu_usage") == 100 * api["limits"]["cpu"]["cpu"]
    assert series(text, "kernel_memory_usage", f'{{kernel_id="{kernel_id}"}}') == kernel["memory"]
    assert series(text, "jupyter_resource_monitor_processes_left_out") == 0
    # The conventional names: base units, kernel_name, the figure the limit counts.
    labels = f'{{kernel_id="{kernel_id}",kernel_name="python3"}}'
    assert series(text, "jupyter_kernel_memory_bytes", labels) == kernel["memory"]
    assert series(text, "jupyter_kernel_processes", labels) == kernel["processes"]
    assert series(text, "jupyter_kernel_cpu_usage_cores", labels) == pytest.approx(
        kernel["cpu_percent"] / 100
    )
    assert series(text, "jupyter_server_memory_usage_bytes") == api["memory"]["used"]
    if api["memory"]["limit_source"] == "host":  # no limit: no limit series (cAdvisor's is 0)
        assert not re.search(r"^jupyter_server_memory_limit_bytes ", text, re.M)
    else:
        assert series(text, "jupyter_server_memory_limit_bytes") == api["memory"]["limit"]
    assert series(text, "jupyter_server_memory_pss_bytes") == api["pss"]
    assert series(text, "jupyter_server_cpu_usage_cores") == pytest.approx(api["cpu_percent"] / 100)
    assert series(text, "jupyter_server_cpu_limit_cores") == api["limits"]["cpu"]["cpu"]
    assert series(text, "jupyter_kernel_oom_kills_total") == api["oom"]["kernel_kills"] == 0
    info = re.search(r"^jupyter_resource_monitor_info\{(.*)\} 1\.0$", text, re.M)
    assert info and f'memory_figure="{api["memory"]["figure"]}"' in info.group(1)
    assert f'memory_limit_source="{api["limits"]["memory"]["source"]}"' in info.group(1)
    assert 'path="' not in text  # names of notebooks stay out unless asked for


@pytest.mark.parametrize("monitor_config", [{"prometheus_kernel_path": True}])
async def test_prometheus_kernel_path_label_when_asked(jp_fetch, jp_root_dir):
    (jp_root_dir / "nb.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}')
    response = await jp_fetch(
        "api",
        "sessions",
        method="POST",
        body=json.dumps(
            {"path": "nb.ipynb", "type": "notebook", "name": "nb.ipynb", "kernel": {"name": "python3"}}
        ),
    )
    kernel_id = json.loads(response.body)["kernel"]["id"]
    await kernel_until(jp_fetch, kernel_id, lambda b: b["available"] and b["path"] == "nb.ipynb")
    text = (await jp_fetch("metrics")).body.decode()
    labels = f'{{kernel_id="{kernel_id}",kernel_name="python3",path="nb.ipynb"}}'
    assert series(text, "jupyter_kernel_memory_bytes", labels) > 0


# Without the event-loop watch, the cells' trail (or a memory guard) nothing starts the worker but
# demand.
@pytest.mark.parametrize("monitor_config", [{"track_event_loop": False, "track_cells": False}])
async def test_a_scrape_counts_as_demand(jp_fetch, monitor):
    assert monitor.supervisor.state == "stopped"
    await jp_fetch("metrics")
    assert monitor.supervisor.state == "starting"


@pytest.mark.parametrize("monitor_config", [{"enable_prometheus_metrics": False}])
async def test_prometheus_can_be_turned_off(jp_fetch, metrics_until):
    await metrics_until(ready)
    assert "total_memory_usage" not in (await jp_fetch("metrics")).body.decode()


@pytest.mark.parametrize(
    "monitor_config", [{"mem_limit": lambda rss, pss: 4 * pss, "cpu_limit": lambda cpu_percent: 1.5}]
)
async def test_callable_limits_are_the_same_in_metrics_and_the_api(jp_fetch, metrics, metrics_until, monitor):
    await metrics_until(ready)
    for _ in range(20):  # both answers from one snapshot: retry if a sample lands in between
        snap = monitor.supervisor.snapshot
        text = (await jp_fetch("metrics")).body.decode()
        api = await metrics()
        if monitor.supervisor.snapshot is snap:
            break
    assert api["limits"]["memory"]["source"] == "config" and api["limits"]["cpu"]["source"] == "config"
    assert series(text, "max_memory_usage") == api["limits"]["memory"]["rss"] == 4 * api["pss"]
    assert series(text, "max_cpu_usage") == 100 * api["limits"]["cpu"]["cpu"] == 150
