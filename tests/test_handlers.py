"""/api/metrics/v1 on a real jupyter server with the extension, over HTTP."""

import asyncio
import os
import re
import signal
import time
from pathlib import Path

import pytest
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from . import servers, workloads
from .contract import assert_valid

JRU_KEYS = {"rss", "pss", "limits", "cpu_percent", "cpu_count"}  # what jupyter-resource-usage sends


def ready(body):
    return body["sample"]["ready"] and body["sample"].get("cpu_ready", True)


async def test_anonymous_requests_are_refused(jp_http_port, jp_base_url, metrics):
    await metrics()  # with the token: fine
    with pytest.raises(HTTPClientError) as info:
        await AsyncHTTPClient().fetch(f"http://localhost:{jp_http_port}{jp_base_url}api/metrics/v1")
    assert info.value.code == 403


def assert_jupyter_resource_usage_types(body):
    """The JSON types jupyter-resource-usage's frontend and scripts read, at every moment: the
    shipped schema says them (integers stay integers, cpu_percent a float), and more."""
    assert_valid("metrics", body)
    assert type(body["cpu_percent"]) is float  # JSON "1.0", never "1": Python clients see a float
    assert body["cpu_count"] >= 1


async def test_first_request_answers_at_once_without_a_sample(metrics, monitor):
    body = await metrics()
    assert body["sample"]["ready"] is False and body["sample"]["cpu_ready"] is False
    assert body["sample"]["worker"]["state"] == "starting"
    assert body["rss"] == 0 and body["cpu_percent"] == 0.0
    assert_jupyter_resource_usage_types(body)


async def test_types_hold_after_the_first_sample_and_cpu_readiness_is_said(metrics_until):
    first = await metrics_until(lambda b: b["sample"]["ready"])
    assert_jupyter_resource_usage_types(first)
    measured = await metrics_until(lambda b: b["sample"]["cpu_ready"])
    assert_jupyter_resource_usage_types(measured)


async def test_payload_is_a_superset_of_jupyter_resource_usage(metrics_until):
    body = await metrics_until(ready)
    assert_valid("metrics", body)  # every field of ours, and nothing else
    assert JRU_KEYS | {"sample", "memory", "by_owner", "oom"} <= set(body)
    assert set(body["limits"]) == {"memory", "cpu"}  # no disk: not tracked by default
    assert body["rss"] > 0 and 0 < body["pss"] <= body["rss"]
    assert 1 <= body["cpu_count"] <= len(os.sched_getaffinity(0))
    assert_memory_limit_semantics(body)
    processes = body["sample"]["processes"]
    assert processes["seen"] >= 1 and processes["left_out"] == 0
    assert body["sample"]["worker"] == {"state": "running", "restarts": 0, "error": None}


def assert_memory_limit_semantics(body):
    """jupyter-resource-usage's meaning: limits.memory is the limit, 0 without one (its frontend
    then shows no quota); the host's total is memory.host_total, whatever the limit."""
    memory, limit = body["limits"]["memory"], body["memory"]
    meminfo = Path("/proc/meminfo").read_text()
    host_total = 1024 * int(re.search(r"^MemTotal:\s+(\d+) kB", meminfo, re.M).group(1))
    assert limit["host_total"] == host_total
    if memory["source"] == "host":
        assert memory["rss"] == memory["pss"] == limit["limit"] == 0
    else:
        assert 0 < memory["rss"] == memory["pss"] == limit["limit"] < host_total


async def test_polling_does_not_count_as_activity(jp_serverapp, metrics):
    before = jp_serverapp.web_app.settings.get("api_last_activity")
    for _ in range(3):
        await metrics()
    assert jp_serverapp.web_app.settings.get("api_last_activity") == before


async def test_spinning_child_reads_about_one_cpu(metrics_until):
    proc = workloads.start(busy=1)
    try:
        body = await metrics_until(lambda b: ready(b) and b["cpu_percent"] >= 80)
    finally:
        workloads.stop(proc)
    assert body["cpu_percent"] <= 150  # the spinner plus this test's own server


async def test_forked_children_read_their_pss_not_their_rss(metrics_until):
    proc = workloads.start(mb=200, children=20)
    try:
        # every sibling of the 21 processes counted (the tree sample includes this server)
        body = await metrics_until(lambda b: ready(b) and b["sample"]["processes"]["seen"] >= 22)
        truth = workloads.tree_truth()
    finally:
        workloads.stop(proc)
    assert body["rss"] > 5 * truth["pss"]  # RSS counts the shared 200 MB 21 times
    assert body["pss"] == pytest.approx(truth["pss"], rel=0.15)


@pytest.mark.parametrize("monitor_config", [{"max_processes": 3}])
async def test_cap_is_respected_and_reported(metrics_until):
    proc = workloads.start(children=8)
    try:
        body = await metrics_until(lambda b: ready(b) and b["sample"]["processes"]["seen"] >= 10)
    finally:
        workloads.stop(proc)
    processes = body["sample"]["processes"]
    assert processes["sampled"] == 3
    assert processes["left_out"] == processes["seen"] - 3


async def test_killed_worker_is_restarted(metrics_until, monitor):
    first = await metrics_until(ready)
    os.kill(monitor.supervisor.pid, signal.SIGKILL)
    # during the restart backoff the old sample is served, and said to be stale
    body = await metrics_until(lambda b: b["sample"]["worker"]["state"] == "restarting")
    assert body["sample"]["stale"] and body["rss"] > 0
    assert body["sample"]["worker"]["restarts"] == 1
    assert "exited" in body["sample"]["worker"]["error"]
    fresh = await metrics_until(lambda b: b["sample"]["worker"]["state"] == "running" and ready(b))
    assert fresh["sample"]["worker"]["restarts"] == 1
    assert fresh["sample"]["age_ms"] < 1000 and not fresh["sample"]["stale"]
    assert first["sample"]["worker"]["restarts"] == 0


async def test_hung_worker_gives_stale_answers_then_is_replaced(metrics, metrics_until, monitor):
    await metrics_until(ready)
    monitor.supervisor.hang_timeout_s = 4.0
    hung = monitor.supervisor.pid
    os.kill(hung, signal.SIGSTOP)
    try:
        # the handler does not wait for the stopped worker: it answers with the old sample
        stale = await metrics_until(lambda b: b["sample"]["stale"], timeout=10)
        assert stale["rss"] > 0 and stale["sample"]["age_ms"] >= 2000
        fresh = await metrics_until(
            lambda b: not b["sample"]["stale"] and b["sample"]["worker"]["restarts"] == 1, timeout=20
        )
    finally:
        try:
            os.kill(hung, signal.SIGKILL)
        except ProcessLookupError:
            pass
    assert "hung" in (fresh["sample"]["worker"]["error"] or "hung")
    assert monitor.supervisor.pid != hung


@pytest.mark.parametrize("monitor_config", [{"idle_timeout": 1.0}])
async def test_worker_pauses_without_requests_and_resumes_on_the_next(metrics, metrics_until, monitor):
    await metrics_until(ready)
    deadline = time.monotonic() + 10
    while monitor.supervisor.state != "paused":
        assert time.monotonic() < deadline, "the worker never paused"
        await asyncio.sleep(0.1)
    paused_at = monitor.supervisor.snapshot.taken_monotonic
    await asyncio.sleep(0.5)
    assert monitor.supervisor.snapshot.taken_monotonic == paused_at  # not sampling while paused
    body = await metrics_until(
        lambda b: b["sample"]["worker"]["state"] == "running" and not b["sample"]["stale"]
    )
    assert body["sample"]["age_ms"] < 1000


@pytest.mark.parametrize("monitor_config", [{"mem_limit": 10 << 20}])
async def test_configured_memory_limit_warns(metrics_until):
    body = await metrics_until(ready)
    assert body["limits"]["memory"] == {"rss": 10 << 20, "pss": 10 << 20, "warn": True, "source": "config"}


@pytest.fixture
def mem_limit_env(monkeypatch):
    monkeypatch.setenv("MEM_LIMIT", str(1 << 40))  # bigger than any host here: loses to the host
    monkeypatch.setenv("CPU_LIMIT", "0.5")


async def test_environment_limits_of_jupyter_resource_usage(mem_limit_env, metrics_until):
    body = await metrics_until(ready)
    assert body["limits"]["cpu"]["cpu"] == 0.5 and body["limits"]["cpu"]["source"] == "env"
    assert body["limits"]["memory"]["source"] in {"env", "cgroup"}
    assert body["limits"]["memory"]["rss"] <= 1 << 40


@pytest.mark.parametrize("monitor_config", [{"mem_limit": lambda rss, pss: 4 * pss}])
async def test_callable_memory_limit(metrics_until):
    body = await metrics_until(ready)
    assert body["limits"]["memory"]["rss"] == 4 * body["pss"]
    assert body["limits"]["memory"]["source"] == "config" and not body["limits"]["memory"]["warn"]


@pytest.mark.parametrize("monitor_config", [{"track_disk_usage": True, "disk_path": "/"}])
async def test_disk_usage_when_tracked(metrics_until):
    body = await metrics_until(ready)
    assert 0 < body["disk_used"] <= body["disk_total"]
    assert body["limits"]["disk"]["disk"] == body["disk_total"]
    near_full = body["disk_total"] - body["disk_used"] < 0.1 * body["disk_total"]  # default threshold
    assert body["limits"]["disk"]["warn"] is near_full


@pytest.mark.parametrize("monitor_config", [{"track_cpu_percent": False}])
async def test_cpu_not_tracked(metrics_until):
    body = await metrics_until(lambda b: b["sample"]["ready"])
    assert "cpu_percent" not in body and "cpu" not in body["limits"]


@pytest.mark.parametrize("monitor_config", [{"sample_interval": -3, "max_processes": "many"}])
async def test_bad_config_does_not_stop_the_server(metrics_until, monitor):
    body = await metrics_until(ready)
    assert monitor.config.sample_interval == 1.0 and monitor.config.max_processes == 2000
    assert body["sample"]["interval_ms"] >= 1000


@pytest.fixture
def both_enabled(jp_server_config):
    """jupyter-resource-usage enabled too, as its own config file does when it is installed."""
    jp_server_config["ServerApp"]["jpserver_extensions"]["jupyter_resource_usage"] = True
    return jp_server_config


async def test_warns_once_when_jupyter_resource_usage_is_enabled_too(both_enabled, capfd, metrics):
    await metrics()  # the server started and serves us
    # logged while the server initialises, before the test fixtures reroute its log
    log = capfd.readouterr().err
    assert log.count("jupyter-resource-usage is enabled too") == 1
    assert "pip uninstall jupyter-resource-usage" in log


def _broken_limit(**_):
    raise RuntimeError("user code failed")


@pytest.mark.parametrize("monitor_config", [{"mem_limit": _broken_limit}])
async def test_failing_limit_callable_keeps_the_measured_limit(metrics_until):
    body = await metrics_until(ready)
    assert body["limits"]["memory"]["source"] in {"cgroup", "env", "host"}
    assert_memory_limit_semantics(body)


STRAY_MODULES = ("select", "json", "time")


def test_the_users_files_cannot_replace_the_workers_modules(tmp_path):
    """A select.py, json.py and time.py in the folder the server was started from (each failing
    on import) must not reach the worker: a fresh sample arrives, from a worker that never died."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    for name in STRAY_MODULES:
        (folder / f"{name}.py").write_text(f"raise ImportError('the stray {name}.py was imported')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"}  # as a user's shell has it
    if env.get("PYTHONPATH"):  # tests find the package through an absolute path, like an install
        env["PYTHONPATH"] = os.pathsep.join(
            os.path.abspath(p) for p in env["PYTHONPATH"].split(os.pathsep) if p
        )
    server = servers.ServerProcess(folder, env=env)
    try:
        body = server.wait_until(
            "api/metrics/v1", lambda b: b["sample"]["ready"] and not b["sample"]["stale"]
        )
        time.sleep(1.5)  # a worker that imported a stray module would have died by now
        body = server.get("api/metrics/v1")
    finally:
        server.stop()
    assert body["sample"]["worker"] == {"state": "running", "restarts": 0, "error": None}
    assert body["pss"] > 0 and not body["sample"]["stale"]
    assert "stray" not in server.output()
