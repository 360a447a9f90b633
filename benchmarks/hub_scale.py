"""What a hub's Prometheus and its single-user servers pay for these series, measured on one
machine and extrapolated to 1,000 and 10,000 users.

Starts N real single-user servers (base URL /user/<name>/, one shared token, each with a python3
kernel in a notebook session) and a real Prometheus run with the documented config
(docs/hub/prometheus.yml, scraping every 15 s), plus C servers nobody scrapes as a control. After
the run it reads from Prometheus: scrape durations (p50/p99), series per server, head series; and
from the processes: Prometheus's memory and CPU, each server's CPU (the scraped servers' includes
the sampling worker that scrapes keep awake). Prints a Markdown report.

    python benchmarks/hub_scale.py --servers 24 --control 4 --duration 300

Needs `prometheus` (Debian: `apt-get install -y prometheus`), psutil, and this package installed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The same launchers as the hub tests: real servers, and Prometheus with the documented config.
from tests.prometheus_server import PrometheusProcess  # noqa: E402
from tests.servers import ServerProcess  # noqa: E402

TOKEN = "hub-scale-benchmark-token"
OUR_SERIES = '__name__=~"jupyter_.*|kernel_.*|total_.*_usage|max_.*_usage|current_disk_usage"'
# The label matcher for jupyter_server's request histogram of the /metrics handler.
METRICS_HANDLER = 'handler=~".*PrometheusMetricsHandler"'


def cpu_seconds(proc: psutil.Process, with_children: bool = True) -> float:
    total = 0.0
    for p in [proc] + (proc.children(recursive=True) if with_children else []):
        try:
            times = p.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


def server_cpu(server: ServerProcess) -> tuple[float, float]:
    """(server process, its sampling worker) CPU seconds; kernels are not counted."""
    proc = psutil.Process(server.proc.pid)
    worker = 0.0
    for child in proc.children():
        try:
            if "jupyter_resource_monitor.worker.main" in " ".join(child.cmdline()):
                worker += cpu_seconds(child, with_children=False)
        except psutil.Error:
            pass
    return cpu_seconds(proc, with_children=False), worker


def quantile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", type=int, default=24, help="scraped servers (default 24)")
    parser.add_argument("--control", type=int, default=4, help="servers nobody scrapes (default 4)")
    parser.add_argument("--duration", type=float, default=300, help="seconds scraped (default 300)")
    parser.add_argument("--interval", default="15s", help="scrape interval (default 15s)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="hub-scale-"))
    prom = PrometheusProcess("prometheus", tmp / "prometheus", TOKEN, interval=args.interval)
    servers: list[ServerProcess] = []
    try:
        names = [f"user{i:03d}" for i in range(args.servers + args.control)]
        for name in names:
            folder = tmp / name
            folder.mkdir()
            servers.append(ServerProcess(folder, token=TOKEN, base_url=f"/user/{name}/"))
        for name, server in zip(names, servers, strict=True):
            server.wait_until("api/status", lambda body: True, timeout=120)
            server.start_notebook(f"{name}.ipynb")
        print(f"{len(servers)} servers with a kernel each are up; settling 30 s", file=sys.stderr)
        time.sleep(30)
        prom_proc = psutil.Process(prom.proc.pid)
        rss_before = prom_proc.memory_info().rss
        head_before = float(prom.query("prometheus_tsdb_head_series")[0]["value"][1])
        scraped, control = servers[: args.servers], servers[args.servers :]
        cpu_before = {s.port: server_cpu(s) for s in servers}
        prom_cpu_before = cpu_seconds(prom_proc, with_children=False)
        for name, server in zip(names, scraped, strict=False):  # the first args.servers
            prom.add_target(name, server)
        start = time.time()
        print(
            f"scraping {len(scraped)} servers every {args.interval} for {args.duration:.0f} s",
            file=sys.stderr,
        )
        time.sleep(args.duration)
        end = time.time()
        cpu_after = {s.port: server_cpu(s) for s in servers}
        prom_cpu = cpu_seconds(prom_proc, with_children=False) - prom_cpu_before
        rss_after = prom_proc.memory_info().rss
        head_after = float(prom.query("prometheus_tsdb_head_series")[0]["value"][1])

        job = 'job="jupyter-single-user"'
        durations = [
            float(v)
            for r in prom.query(f"scrape_duration_seconds{{{job}}}", start=start, end=end, step=args.interval)
            for _t, v in r["values"]
        ]
        samples = [float(r["value"][1]) for r in prom.query(f"scrape_samples_scraped{{{job}}}")]
        ours = [float(r["value"][1]) for r in prom.query(f"count by (instance) ({{{OUR_SERIES}, {job}}})")]
        scrapes = len(durations)
        up = [float(r["value"][1]) for r in prom.query(f"up{{{job}}}")]
        # Time the server's handler spent on /metrics (jupyter_server's own request histogram).
        handler = [
            float(r["value"][1])
            for r in prom.query(
                f"sum by (instance) (http_request_duration_seconds_sum{{{job}, {METRICS_HANDLER}}})"
                f" / sum by (instance) (http_request_duration_seconds_count{{{job}, {METRICS_HANDLER}}})"
            )
        ]

        def share(group, index):
            return [
                100 * (cpu_after[s.port][index] - cpu_before[s.port][index]) / (end - start) for s in group
            ]

        scraped_server, scraped_worker = share(scraped, 0), share(scraped, 1)
        control_server = share(control, 0) if control else [float("nan")]
        series_per_server = statistics.median(samples)
        head_added = head_after - head_before
        bytes_per_series = (rss_after - rss_before) / head_added if head_added > 0 else float("nan")
        prom_cpu_per_scrape = prom_cpu / scrapes if scrapes else float("nan")
        interval_s = float(args.interval.rstrip("s"))

        machine = f"{os.cpu_count()} CPUs, {psutil.virtual_memory().total / 2**30:.1f} GiB"
        print(
            f"## Hub scale: {len(scraped)} scraped servers (+{len(control)} not scraped), "
            f"scrape every {args.interval}, {args.duration:.0f} s ({machine})\n"
        )
        print("| measure | value |\n|---|---|")
        rows = [
            ("targets up", f"{sum(up):.0f} / {len(scraped)}"),
            ("scrapes", f"{scrapes}"),
            (
                "scrape duration p50 / p99 / max",
                f"{1000 * quantile(durations, 0.5):.1f} / "
                f"{1000 * quantile(durations, 0.99):.1f} / {1000 * max(durations):.1f} ms",
            ),
            (
                "/metrics handler time, mean per server (median of servers)",
                f"{1000 * statistics.median(handler):.1f} ms" if handler else "n/a",
            ),
            ("series per server scraped (all of /metrics, median)", f"{series_per_server:.0f}"),
            ("of which this extension's (median)", f"{statistics.median(ours):.0f}" if ours else "n/a"),
            ("Prometheus head series added", f"{head_added:.0f}"),
            (
                "Prometheus memory added per server",
                f"{(rss_after - rss_before) / len(scraped) / 2**20:.2f} MiB"
                f" ({bytes_per_series / 1024:.1f} KiB per series)",
            ),
            ("Prometheus CPU per scrape", f"{1000 * prom_cpu_per_scrape:.2f} ms"),
            ("server process CPU, scraped (mean)", f"{statistics.mean(scraped_server):.2f} %"),
            ("sampling worker CPU, scraped (mean)", f"{statistics.mean(scraped_worker):.2f} %"),
            ("server process CPU, not scraped (mean)", f"{statistics.mean(control_server):.2f} %"),
        ]
        for measure, value in rows:
            print(f"| {measure} | {value} |")
        print("\n### Extrapolated (linear in servers; one kernel per server)\n")
        print(
            "| users | series | samples/s ingested | Prometheus memory (head) | Prometheus CPU for scrapes |"
            "\n|---|---|---|---|---|"
        )
        for users in (1_000, 10_000):
            series = users * series_per_server
            print(
                f"| {users:,} | {series:,.0f} | {series / interval_s:,.0f} | "
                f"{series * bytes_per_series / 2**30:.1f} GiB | "
                f"{users * prom_cpu_per_scrape / interval_s:.2f} CPUs |"
            )
        extra = (
            statistics.mean(scraped_server)
            + statistics.mean(scraped_worker)
            - statistics.mean(control_server)
        )
        print(
            f"\nEach user's server pays the same whatever the hub's size: about {extra:.2f} % of one CPU "
            f"more than an unscraped server (answering scrapes, and the worker sampling that the "
            f"scrapes keep awake)."
        )
    finally:
        for server in servers:
            server.stop()
        prom.stop()


if __name__ == "__main__":
    main()
