"""A hub's view: real single-user servers (base URL /user/<name>/, one token) scraped by a real
Prometheus run with the documented config (docs/hub/prometheus.yml), queried through its API."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import time
from pathlib import Path

import pytest
import yaml

from . import cgroups, servers
from .prometheus_server import PrometheusProcess
from .test_cpu_throttle import BUSY
from .test_oom import ALLOCATE_FOREVER, LIMIT, send_code

DOCS = Path(__file__).resolve().parent.parent / "docs" / "hub"
TOKEN = "hub-service-token-for-prometheus"
# Seconds between samples of the servers that are compared with the API: long enough that a
# scrape and an API read usually meet the same sample, short enough to sample a new kernel soon.
SLOW_SAMPLES = "--ResourceMonitor.sample_interval=5"


def prometheus_or_skip() -> str:
    path = shutil.which("prometheus")
    if path:
        return path
    if os.environ.get("RESOURCE_MONITOR_REQUIRE_PROMETHEUS"):
        pytest.fail("prometheus is not installed (scripts/test-all.sh installs Debian's)")
    pytest.skip("prometheus is not installed (`apt-get install -y prometheus`)")


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """Prometheus scraping two users' servers, each with a kernel; a third in a memory cgroup
    and a fourth, with a busy kernel, under a CPU quota (each left out where cgroups cannot be
    created)."""
    binary = prometheus_or_skip()
    tmp = tmp_path_factory.mktemp("hub")
    started, cgroup, cpu_cgroup = {}, None, None
    # The documented config, scraping every second.
    prometheus = PrometheusProcess(binary, tmp / "prometheus", TOKEN, interval="1s")
    try:
        for name in ("alice", "bob"):
            folder = tmp / name
            folder.mkdir()
            # alice has no limit (no limit series, her host's memory instead); bob a configured
            # one, so the dashboard's share-of-limit panels have data without cgroups too.
            limit = ["--ResourceMonitor.mem_limit=4294967296"] if name == "bob" else []
            server = started[name] = servers.ServerProcess(
                folder, SLOW_SAMPLES, *limit, token=TOKEN, base_url=f"/user/{name}/"
            )
            prometheus.add_target(name, server)
        if not cgroups.unavailable():
            cgroup = cgroups.MemoryCgroup(LIMIT)
            folder = tmp / "carol"
            folder.mkdir()
            # The memory guard off: carol's kernel is to be OOM-killed (the guard would save it).
            server = started["carol"] = servers.ServerProcess(
                folder,
                "--ResourceMonitor.sample_interval=0.5",
                "--ResourceMonitor.memory_guard=False",
                token=TOKEN,
                base_url="/user/carol/",
            )
            cgroup.add(server.proc.pid)
            prometheus.add_target("carol", server)
        if not cgroups.cpu_unavailable():  # dave: a busy kernel under a 0.5-CPU quota
            cpu_cgroup = cgroups.CpuCgroup(0.5)
            folder = tmp / "dave"
            folder.mkdir()
            server = started["dave"] = servers.ServerProcess(
                folder, "--ResourceMonitor.sample_interval=0.5", token=TOKEN, base_url="/user/dave/"
            )
            cpu_cgroup.add(server.proc.pid)
            prometheus.add_target("dave", server)
            server.wait_until("api/status", lambda body: True, timeout=60)
            kernel_id = server.start_notebook("dave.ipynb")
            server.wait_until(f"api/metrics/v1/kernels/{kernel_id}", lambda k: k["available"], timeout=60)
            asyncio.run(send_code(server, kernel_id, BUSY))
        for name in ("alice", "bob"):
            server = started[name]
            server.wait_until("api/status", lambda body: True)
            server.start_notebook(f"{name}.ipynb")
        for name in ("alice", "bob"):
            started[name].wait_until(
                "api/metrics/v1/kernels",
                lambda b: b["kernels"] and all(k["available"] for k in b["kernels"]),
                timeout=60,
            )
        yield prometheus, started
    finally:
        for server in started.values():
            server.stop()
        prometheus.stop()
        if cgroup is not None:
            cgroup.remove()
        if cpu_cgroup is not None:
            cpu_cgroup.remove()


def by_name(results: list[dict]) -> dict[tuple, float]:
    """{(metric name, kernel_id or None): value} of an instant query's results."""
    return {(r["metric"]["__name__"], r["metric"].get("kernel_id")): float(r["value"][1]) for r in results}


@pytest.mark.parametrize("user", ["alice", "bob"])
def test_series_arrive_and_equal_the_api_from_the_same_sample(hub, user):
    prometheus, started = hub
    server = started[user]
    ours = '__name__=~"jupyter_.*|total_memory_usage|max_memory_usage|kernel_memory_usage"'
    for _ in range(120):
        api = server.get("api/metrics/v1")
        kernels = server.get("api/metrics/v1/kernels")["kernels"]
        got = by_name(prometheus.query(f'{{{ours}, user="{user}"}}'))
        same = (
            got.get(("jupyter_resource_monitor_sample_timestamp_seconds", None)) == api["sample"]["taken_at"]
        )
        if (
            same
            and kernels[0]["available"]
            and kernels[0]["cpu_percent"] is not None
            and server.get("api/metrics/v1")["sample"]["taken_at"] == api["sample"]["taken_at"]
        ):
            break
        time.sleep(0.5)
    else:
        raise AssertionError(f"no scrape met the API's sample: {got}, {api['sample']}")
    assert got[("total_memory_usage", None)] == api["pss"]
    assert got[("jupyter_server_memory_pss_bytes", None)] == api["pss"]
    assert got[("jupyter_server_memory_usage_bytes", None)] == api["memory"]["used"]
    assert got.get(("jupyter_server_memory_limit_bytes", None)) == (api["memory"]["limit"] or None)
    assert got[("jupyter_host_memory_bytes", None)] == api["memory"]["host_total"]
    assert got[("max_memory_usage", None)] == (api["limits"]["memory"]["rss"] or api["memory"]["host_total"])
    assert got[("jupyter_server_cpu_usage_cores", None)] == pytest.approx(api["cpu_percent"] / 100)
    assert got[("jupyter_kernel_oom_kills_total", None)] == 0
    (kernel,) = kernels
    assert got[("jupyter_kernel_memory_bytes", kernel["id"])] == kernel["memory"]
    assert got[("kernel_memory_usage", kernel["id"])] == kernel["memory"]
    assert got[("jupyter_kernel_processes", kernel["id"])] == kernel["processes"]
    assert got[("jupyter_kernel_cpu_usage_cores", kernel["id"])] == pytest.approx(kernel["cpu_percent"] / 100)
    if api["psi"] is not None and api["psi"]["cpu"] is not None:  # pressure, as the API read it
        assert got[("jupyter_server_pressure_cpu_waiting_seconds_total", None)] == pytest.approx(
            api["psi"]["cpu"]["some"]["total_s"]
        )
    assert ("jupyter_kernel_cpu_wait_seconds_total", kernel["id"]) in got
    # Series per server stay few: ours, for a server with one kernel (8 of them CPU waiting and
    # pressure).
    assert len(got) <= 40


def dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel["targets"]]


def as_prometheus_query(expr: str) -> str:
    """A Grafana expression with its variables set as a dashboard showing every user would."""
    for variable, value in [
        ("$__rate_interval", "1m"),
        ("$__range", "5m"),
        ("$user", ".*"),
        ("$instance", ".*"),
    ]:
        expr = expr.replace(variable, value)
    assert "$" not in expr, f"a variable the test does not know: {expr}"
    return expr


@pytest.mark.parametrize("title,expr", dashboard_queries(), ids=[t for t, _ in dashboard_queries()])
def test_every_dashboard_query_returns_data_for_the_running_servers(hub, title, expr):
    prometheus, started = hub
    if "cpu_cfs" in expr and "dave" not in started:  # throttling needs a server under a quota
        cgroups.skip_unless_possible(cgroups.cpu_unavailable(), "no server under a CPU quota")
    query = as_prometheus_query(expr)
    # increase() needs two samples in its window: wait for them rather than fail on a young hub.
    results = prometheus.wait_until(lambda: prometheus.query(query), f"data for {title!r}: {query}")
    assert all(r["value"][1] not in ("NaN",) for r in results), results


def test_dashboard_variables_list_the_users_and_servers(hub):
    prometheus, started = hub
    dashboard = json.loads((DOCS / "grafana-dashboard.json").read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert set(variables) == {"datasource", "user", "instance"}
    metric, label = re.fullmatch(r"label_values\((\w+), (\w+)\)", variables["user"]["definition"]).groups()
    users = prometheus.api(f"label/{label}/values", **{"match[]": metric})
    assert set(started) <= set(users)
    instances = prometheus.api("label/instance/values", **{"match[]": metric})
    assert {f"127.0.0.1:{s.port}" for s in started.values()} <= set(instances)


def test_an_oom_kill_shows_up_in_the_counter(hub):
    prometheus, started = hub
    server = started.get("carol")
    if server is None:
        cgroups.skip_unless_possible(
            cgroups.unavailable() or "carol was not started", "no real OOM kill here"
        )
    server.wait_until("api/status", lambda body: True)
    kernel_id = server.start_notebook("big.ipynb")
    server.wait_until(f"api/metrics/v1/kernels/{kernel_id}", lambda k: k["available"], timeout=60)
    prometheus.wait_until(
        lambda: prometheus.query('jupyter_kernel_oom_kills_total{user="carol"}'), "carol's counter at 0"
    )
    asyncio.run(send_code(server, kernel_id, ALLOCATE_FOREVER))
    server.wait_until("api/metrics/v1/events", lambda b: b["events"], timeout=60)
    prometheus.wait_until(
        lambda: [
            r
            for r in prometheus.query('jupyter_kernel_oom_kills_total{user="carol"}')
            if r["value"][1] == "1"
        ],
        "carol's OOM kill",
    )
    # The dashboard's OOM panel sees it too.
    ((title, expr),) = [q for q in dashboard_queries() if q[0] == "Kernels ended by the OOM killer"]
    results = prometheus.query(as_prometheus_query(expr))
    assert float(results[0]["value"][1]) >= 0.5


def test_kubernetes_example_is_a_scrape_config_for_single_user_pods():
    """Debian's Prometheus is built without Kubernetes discovery, so promtool cannot check this
    file here: check its shape and its regular expressions instead."""
    config = yaml.safe_load((DOCS / "prometheus-kubernetes.yml").read_text())
    (job,) = config["scrape_configs"]
    assert job["kubernetes_sd_configs"][0]["role"] == "pod"
    assert job["authorization"]["credentials_file"]
    targets = {rule.get("target_label") for rule in job["relabel_configs"]}
    assert {"__metrics_path__", "__address__", "user", "server"} <= targets
    for rule in job["relabel_configs"]:
        re.compile(rule.get("regex", "(.*)"))
    # The same job, file-discovered, is what the tests run (docs/hub/prometheus.yml).
    assert (
        yaml.safe_load((DOCS / "prometheus.yml").read_text())["scrape_configs"][0]["job_name"]
        == job["job_name"]
    )
