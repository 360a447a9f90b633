"""A real Prometheus run with the documented hub config (docs/hub/prometheus.yml), for the hub
tests and benchmarks/hub_scale.py: targets are added as files, as a hub-side writer would."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

from .servers import ServerProcess, free_port

DOCUMENTED = Path(__file__).resolve().parent.parent / "docs" / "hub" / "prometheus.yml"


def documented_config(tmp: Path, interval: str = "15s") -> str:
    """docs/hub/prometheus.yml with its two paths pointing into ``tmp`` and the given scrape
    interval (in seconds, "15s"; the timeout is the documented 10 s or the interval if shorter).
    Fails if the file no longer has each of those once."""
    timeout = interval if float(interval.rstrip("s")) < 10 else "10s"
    text = DOCUMENTED.read_text()
    for old, new in [
        ("/etc/prometheus/jupyterhub-token", str(tmp / "token")),
        ("/etc/prometheus/jupyter-servers/*.json", str(tmp / "targets" / "*.json")),
        ("scrape_interval: 15s", f"scrape_interval: {interval}"),
        ("evaluation_interval: 15s", f"evaluation_interval: {interval}"),
        ("scrape_timeout: 10s", f"scrape_timeout: {timeout}"),
    ]:
        assert text.count(old) == 1, f"docs/hub/prometheus.yml no longer has {old!r} once"
        text = text.replace(old, new)
    return text


class PrometheusProcess:
    """``prometheus`` with the documented config in ``tmp``, scraping itself too (job
    "prometheus", for its own head size), until :meth:`stop`."""

    def __init__(self, binary: str, tmp: Path, token: str, interval: str = "15s"):
        self.tmp = tmp
        (tmp / "targets").mkdir(parents=True)
        (tmp / "token").write_text(token)
        self.port = free_port()
        config = documented_config(tmp, interval) + (
            f"  - job_name: prometheus\n    static_configs:\n      - targets: ['127.0.0.1:{self.port}']\n"
        )
        (tmp / "prometheus.yml").write_text(config)
        self.log = open(tmp / "prometheus.log", "wb")
        self.proc = subprocess.Popen(
            [
                binary,
                f"--config.file={tmp / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.wait_until(lambda: self._get("/-/ready") is not None, "ready")

    def add_target(self, name: str, server: ServerProcess) -> None:
        """One file per server: its address, its metrics path and a ``user`` label."""
        entry = [
            {
                "targets": [f"127.0.0.1:{server.port}"],
                "labels": {"__metrics_path__": f"{server.base_url}metrics", "user": name},
            }
        ]
        (self.tmp / "targets" / f"{name}.json").write_text(json.dumps(entry))

    def _get(self, path: str):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=30) as response:
                return response.read()
        except OSError:
            return None

    def api(self, path: str, **params):
        body = self._get(f"/api/v1/{path}?{urllib.parse.urlencode(params, doseq=True)}")
        assert body is not None, f"Prometheus did not answer {path} {params}: {self.output()}"
        answer = json.loads(body)
        assert answer["status"] == "success", answer
        return answer["data"]

    def query(self, expr: str, **params) -> list[dict]:
        """An instant query, or a range query when ``start``/``end``/``step`` are given."""
        return self.api("query_range" if "start" in params else "query", query=expr, **params)["result"]

    def wait_until(self, predicate, what: str, timeout: float = 60.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.5)
        raise AssertionError(f"Prometheus: {what} not seen in {timeout} s; log: {self.output()}")

    def output(self) -> str:
        self.log.flush()
        return (self.tmp / "prometheus.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()
