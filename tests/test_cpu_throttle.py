"""Throttling under a CPU quota: a real server in a real v1/v2 cpu cgroup with a 0.5-CPU quota,
whose notebook's kernel starts 3 busy processes, against the cgroup's own cpu.stat read here."""

from __future__ import annotations

import bisect
import threading
import time

import pytest

from . import cgroups, servers
from .test_oom import send_code

QUOTA = 0.5
BUSY = (
    "import subprocess, sys\n"
    "busy = [subprocess.Popen([sys.executable, '-c', 'while True: pass']) for _ in range(3)]\n"
)


class StatReader:
    """The cgroup's cpu.stat every 20 ms, with time.time() stamps, from before the server starts:
    the truth the payload's window is compared with."""

    def __init__(self, cgroup: cgroups.CpuCgroup):
        self.cgroup = cgroup
        self.readings: list[tuple[float, dict[str, float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while not self._stop.is_set():
            before = time.time()
            stat = self.cgroup.stat()
            self.readings.append(((before + time.time()) / 2, stat))
            self._stop.wait(0.02)

    def at(self, when: float, key: str) -> float:
        """``key`` at ``when``, linearly between the two readings around it."""
        times = [t for t, _ in self.readings]
        i = bisect.bisect_left(times, when)
        assert 0 < i < len(times), f"no readings around {when}: {times[0]}..{times[-1]}"
        (t0, s0), (t1, s1) = self.readings[i - 1], self.readings[i]
        return s0[key] + (s1[key] - s0[key]) * (when - t0) / (t1 - t0)

    def stop(self):
        self._stop.set()
        self._thread.join()


@pytest.fixture
def quota_server(tmp_path):
    """A real jupyter server (sampling every 0.5 s) inside a new cpu cgroup of QUOTA CPUs."""
    cgroups.skip_unless_possible(cgroups.cpu_unavailable(), "no CPU quota here")
    # Favoured: the quota, not the machine's other work, must be what holds the processes back.
    cgroup = cgroups.CpuCgroup(QUOTA, favoured=True)
    reader = StatReader(cgroup)
    folder = tmp_path / "work"
    folder.mkdir()
    server = servers.ServerProcess(folder, "--ResourceMonitor.sample_interval=0.5")
    cgroup.add(server.proc.pid)  # before the first request: the worker and kernels start inside
    try:
        yield server, cgroup, reader
    finally:
        server.stop()
        reader.stop()
        cgroup.remove()


async def test_three_busy_processes_under_half_a_cpu_are_throttled(quota_server):
    server, cgroup, reader = quota_server
    body = server.wait_until("api/metrics/v1", lambda b: b["cpu_throttle"] is not None, timeout=60)
    assert body["cpu_throttle"]["quota_cpus"] == QUOTA
    assert body["limits"]["cpu"] == {"cpu": QUOTA, "warn": body["limits"]["cpu"]["warn"], "source": "cgroup"}
    kernel_id = server.start_notebook("busy.ipynb")
    server.wait_until(f"api/metrics/v1/kernels/{kernel_id}", lambda k: k["available"], timeout=60)

    await send_code(server, kernel_id, BUSY)
    started = time.monotonic()
    server.wait_until(f"api/metrics/v1/kernels/{kernel_id}", lambda k: k["processes"] >= 4, timeout=30)
    body = server.wait_until(
        "api/metrics/v1", lambda b: (b["cpu_throttle"]["throttled_percent"] or 0) > 50, timeout=10
    )
    assert time.monotonic() - started < 10 + 2  # within 10 s of the processes showing up
    # The same window read here: the cgroup's own counters at the payload's reading time and
    # window start agree with what the payload says about them.
    time.sleep(3)  # a window with the busy processes running
    throttle = server.get("api/metrics/v1")["cpu_throttle"]
    end, start = throttle["read_at"], throttle["read_at"] - throttle["window_s"]
    assert 3 < throttle["window_s"] <= 62
    truth_s = reader.at(end, "throttled_s") - reader.at(start, "throttled_s")
    periods = reader.at(end, "nr_periods") - reader.at(start, "nr_periods")
    truth_percent = 100 * (reader.at(end, "nr_throttled") - reader.at(start, "nr_throttled")) / periods
    print(
        f"payload {throttle}, truth {truth_s:.3f} s throttled, {truth_percent:.1f} % of {periods:.0f} periods"
    )
    assert throttle["throttled_percent"] > 50
    assert throttle["throttled_seconds"] == pytest.approx(truth_s, rel=0.15)
    assert throttle["throttled_percent"] == pytest.approx(truth_percent, abs=5)
    assert throttle["quota_cpus"] == QUOTA

    # The counters on /metrics are the cgroup's: from a sample before the scrape, never ahead.
    text = server.get("metrics")
    after = cgroup.stat()
    scraped = {
        name: float(value)
        for name, value in (
            line.split() for line in text.splitlines() if line.startswith("jupyter_server_cpu_cfs_")
        )
    }
    assert scraped["jupyter_server_cpu_cfs_periods_total"] <= after["nr_periods"]
    assert scraped["jupyter_server_cpu_cfs_throttled_periods_total"] <= after["nr_throttled"]
    assert scraped["jupyter_server_cpu_cfs_throttled_seconds_total"] <= after["throttled_s"] + 1e-6
    assert scraped["jupyter_server_cpu_cfs_throttled_periods_total"] > 0


async def test_outside_a_quota_there_is_no_throttling(metrics_until):
    body = await metrics_until(lambda b: b["sample"]["ready"])
    assert body["cpu_throttle"] is None
    assert body["limits"]["cpu"]["source"] != "cgroup"
