"""The server's event loop, watched from the worker: real blocks on a real server, each compared
with what the test measures itself (the blocking route's own timing, a terminal's keystroke echo
typed meanwhile, the GIL held or not)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect

from . import servers

BLOCKER = Path(__file__).with_name("loop_blocker.py")
RT_CANDIDATES = range(signal.SIGRTMIN + 7, signal.SIGRTMIN + 13)  # what stacks.pick_signal tries
CULPRITS = {"sleep": "block_with_sleep", "spin": "block_with_spin", "ccall": "block_in_c_call"}


def start_server(tmp_path: Path, *args: str) -> servers.ServerProcess:
    """A real server with the test-only blocking extension (copied out of tests/, so the
    server's path holds nothing else of ours)."""
    extension = tmp_path / "ext"
    extension.mkdir()
    shutil.copy(BLOCKER, extension / BLOCKER.name)
    folder = tmp_path / "work"
    folder.mkdir()
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(extension), os.environ.get("PYTHONPATH")]))
    )
    return servers.ServerProcess(
        folder,
        "--ServerApp.jpserver_extensions=loop_blocker=True",
        "--ResourceMonitor.loop_block_threshold=1",
        *args,
        env=env,
    )


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def thread_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def caught_signals(pid: int) -> set[int]:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("SigCgt:"):
            mask = int(line.split()[1], 16)
            return {n for n in range(1, 65) if mask >> (n - 1) & 1}
    raise AssertionError("no SigCgt line")


def wait_for(predicate, timeout: float = 20.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {timeout} s")


def worker_of(server: servers.ServerProcess, timeout: float = 20.0) -> int:
    """The worker process of ``server`` (fails after ``timeout`` s without one)."""

    def find():
        for pid in children(server.proc.pid):
            try:
                if b"jupyter_resource_monitor.worker.main" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    return pid
            except OSError:
                continue
        return None

    return wait_for(find, timeout, what="the worker process")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    server = start_server(tmp_path_factory.mktemp("loop"))
    try:
        server.wait_until("api/status", lambda body: True)
        yield server
    finally:
        server.stop()


class EchoTerminal:
    """A terminal whose every typed letter comes back as an echo through the server: the time
    a user waits for a keystroke (as benchmarks/ui_latency.py measures it)."""

    def __init__(self, server: servers.ServerProcess):
        self.server = server
        self.sent: list[float] = []
        self.echoed: list[float] = []
        self.conn = None
        self.name = None
        self._reader: asyncio.Task | None = None

    async def open(self) -> None:
        self.name = self.server.post("api/terminals", {})["name"]
        url = "ws" + self.server.url(f"terminals/websocket/{self.name}")[len("http") :]
        self.conn = await websocket_connect(
            HTTPRequest(url, headers={"Authorization": f"token {self.server.token}"})
        )
        await self.conn.write_message(json.dumps(["stdin", "stty -icanon; exec cat > /dev/null\r"]))
        await asyncio.sleep(1.5)
        while True:  # drop the prompt and the command's echo
            try:
                await asyncio.wait_for(self.conn.read_message(), 0.3)
            except asyncio.TimeoutError:
                break
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        while True:
            message = await self.conn.read_message()
            if message is None:
                return
            kind, *rest = json.loads(message)
            if kind == "stdout":
                now = time.monotonic()
                self.echoed.extend(now for _ in rest[0])

    async def type_for(self, seconds: float, every: float = 0.05, stop: asyncio.Event | None = None) -> None:
        """Type a letter every ``every`` seconds (on schedule, echoed or not) for ``seconds`` or
        until ``stop`` is set."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and not (stop and stop.is_set()):
            self.sent.append(time.monotonic())
            await self.conn.write_message(json.dumps(["stdin", "k"]))
            await asyncio.sleep(every)

    async def latencies(self, settle: float = 3.0) -> list[float]:
        deadline = time.monotonic() + settle
        while len(self.echoed) < len(self.sent) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(self.echoed) == len(self.sent), "keystrokes were lost"
        return [e - s for s, e in zip(self.sent, self.echoed, strict=False)]

    async def close(self) -> None:
        self.conn.close()
        if self._reader is not None:
            await asyncio.wait([self._reader], timeout=5)
        await AsyncHTTPClient().fetch(
            self.server.url(f"api/terminals/{self.name}"),
            method="DELETE",
            headers={"Authorization": f"token {self.server.token}"},
        )


async def blocked(server: servers.ServerProcess, how: str, query: str) -> dict:
    response = await AsyncHTTPClient().fetch(
        server.url(f"loop-blocker/{how}?{query}"),
        headers={"Authorization": f"token {server.token}"},
        request_timeout=60,
    )
    return json.loads(response.body)


@pytest.mark.parametrize("how", ["sleep", "spin", "ccall"])
async def test_a_blocked_loop_is_recorded_with_its_culprit_and_felt_in_the_terminal(server, how):
    query = "seconds=2"
    before = server.get("api/metrics/v1")["event_loop"]
    terminal = EchoTerminal(server)
    await terminal.open()
    try:
        await terminal.type_for(0.5)
        stop = asyncio.Event()
        typing = asyncio.get_running_loop().create_task(terminal.type_for(60, stop=stop))
        requested_at, requested_mono = time.time(), time.monotonic()
        truth = await blocked(server, how, query)
        await asyncio.sleep(0.5)
        stop.set()
        await typing
        latencies = await terminal.latencies()
    finally:
        await terminal.close()
    elapsed = truth["elapsed_s"]
    assert elapsed >= 1.5, f"the route blocked only {elapsed:.2f} s: not a test of a 2 s block"

    body = server.wait_until(
        "api/metrics/v1", lambda b: b["event_loop"]["last_block_id"] > before["last_block_id"]
    )
    loop = body["event_loop"]
    new = [b for b in loop["blocks"] if b["id"] > before["last_block_id"]]
    assert len(new) == 1, new  # one block, not one per late probe
    block = new[0]
    # Its duration is the first late probe's lag: at most one probe interval short of the truth.
    assert 1500 <= block["duration_ms"] <= 1000 * elapsed + 100, (block["duration_ms"], elapsed)
    assert block["duration_ms"] >= 1000 * elapsed - 500
    assert abs(block["time"] - requested_at) < 1.0
    culprit = block["culprit"]
    assert (culprit["function"], os.path.basename(culprit["file"])) == (CULPRITS[how], BLOCKER.name)
    assert culprit in block["stack"] and block["stack"][-1]["function"] == "<module>"
    assert loop["lag_ms"]["max"] >= block["duration_ms"]
    assert loop["threshold_ms"] == 1000

    # What a user felt: the slowest keystroke waited as long as the block, give or take a probe.
    worst = max(latencies)
    assert abs(1000 * worst - block["duration_ms"]) <= 500, (worst, block["duration_ms"])
    before_block = [
        lat for sent, lat in zip(terminal.sent, latencies, strict=False) if sent < requested_mono - 0.1
    ]
    assert before_block and max(before_block) < 0.5  # before it, echoes were prompt

    if how == "ccall":
        # One C call holding the GIL: a Python thread of the server could not run meanwhile,
        # while it ran freely during a sleep of the same server (the control).
        assert truth["other_thread_ticks"] / elapsed < 20, truth
        control = await blocked(server, "sleep", "seconds=0.3")
        assert control["other_thread_ticks"] / control["elapsed_s"] > 50, control


async def test_metrics_has_the_lag_histogram_and_the_blocks_counter(server):
    before = server.get("api/metrics/v1")["event_loop"]
    truth = await blocked(server, "sleep", "seconds=2")
    body = server.wait_until(
        "api/metrics/v1", lambda b: b["event_loop"]["last_block_id"] > before["last_block_id"]
    )
    text = server.get("metrics")
    families = {f.name: f for f in text_string_to_metric_families(text)}
    histogram = families["jupyter_server_event_loop_lag_seconds"]
    assert histogram.type == "histogram"
    buckets = {s.labels["le"]: s.value for s in histogram.samples if s.name.endswith("_bucket")}
    count = next(s.value for s in histogram.samples if s.name.endswith("_count"))
    total = next(s.value for s in histogram.samples if s.name.endswith("_sum"))
    values = list(buckets.values())
    assert values == sorted(values) and buckets["+Inf"] == count
    assert "0.001" in buckets and "10.0" in buckets
    # The 2 s block made probes wait between 1 and 2.5 s (the first one about 2 s) and added at
    # least the block's length to the sum of lags.
    assert buckets["2.5"] - buckets["1.0"] >= 1
    assert total >= truth["elapsed_s"] - 0.3
    blocks = families["jupyter_server_event_loop_blocks"]
    assert blocks.type == "counter"
    assert blocks.samples[0].value == body["event_loop"]["blocks_total"] >= 1


def test_the_loop_is_watched_while_someone_polls_and_nothing_wakes_at_rest(tmp_path):
    server = start_server(tmp_path, "--ResourceMonitor.idle_timeout=2")
    try:
        worker = worker_of(server)
        # Beside its main thread, the worker runs the prober and the cells' trail (asleep until a
        # request waits behind another); the server caught one real-time signal.
        wait_for(lambda: thread_count(worker) == 3, what="the prober thread")
        assert len(caught_signals(server.proc.pid) & set(RT_CANDIDATES)) == 1
        time.sleep(0.5)
        quiet = worker_cpu_wakeups(worker)
        time.sleep(1.0)
        # Nobody has polled: the worker sleeps (4 probes a second would be 4 wake-ups or more).
        assert worker_cpu_wakeups(worker) - quiet <= 1
        first = server.get("api/metrics/v1")  # someone polls: the watch starts
        assert first["sample"]["ready"] is False
        time.sleep(1.0)  # probes flowing
        response = server.get("loop-blocker/sleep?seconds=2")
        assert response["elapsed_s"] >= 1.5
        body = server.wait_until("api/metrics/v1", lambda b: b["event_loop"]["blocks_total"] >= 1, timeout=5)
        assert body["event_loop"]["blocks_total"] == 1
        assert body["event_loop"]["blocks"][0]["culprit"]["function"] == "block_with_sleep"
        # Nobody polls for the idle timeout: sampling and probing pause together.
        time.sleep(3.5)
        rested = worker_cpu_wakeups(worker)
        time.sleep(2.0)
        assert worker_cpu_wakeups(worker) - rested <= 1
    finally:
        server.stop()


def worker_cpu_wakeups(pid: int) -> int:
    """Times the worker's threads were scheduled (schedstat timeslices, summed over threads)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[2])
        except (OSError, IndexError, ValueError):
            pass
    return total


def test_switched_off_there_is_no_probe_and_no_signal_handler(tmp_path):
    # The cells' trail would start a worker too: off, so that nothing but a poll does.
    server = start_server(
        tmp_path, "--ResourceMonitor.track_event_loop=False", "--ResourceMonitor.track_cells=False"
    )
    try:
        server.wait_until("api/status", lambda body: True)
        time.sleep(1.0)
        with pytest.raises(AssertionError):
            worker_of(server, timeout=0.5)  # no worker until someone polls
        assert not caught_signals(server.proc.pid) & set(RT_CANDIDATES)
        body = server.wait_until("api/metrics/v1", lambda b: b["sample"]["ready"])
        assert "event_loop" not in body
        worker = worker_of(server)
        assert thread_count(worker) == 1  # sampling only: no prober thread
        metrics = server.get("metrics")
        assert "jupyter_server_event_loop" not in metrics
        server.get("loop-blocker/sleep?seconds=1.5")
        assert "event_loop" not in server.get("api/metrics/v1")
    finally:
        server.stop()


def loop_files(pid: int) -> list[str]:
    """The loop watch's files (answer page, stack dump) of the server ``pid``."""
    directory = "/dev/shm" if os.access("/dev/shm", os.W_OK) else tempfile.gettempdir()
    return sorted(
        os.path.join(directory, n)
        for n in os.listdir(directory)
        if n.startswith((f"jrm-loop-answer-{pid}-", f"jrm-loop-stacks-{pid}-"))
    )


def test_files_of_a_killed_server_are_removed_by_the_next_one(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    first = start_server(tmp_path / "a")
    first.wait_until("api/status", lambda body: True)
    left = loop_files(first.proc.pid)
    assert len(left) == 2  # the answer page and the stack dump
    first.proc.kill()  # SIGKILL: no chance to clean up
    first.proc.wait(10)
    first.log.close()
    assert all(os.path.exists(p) for p in left)
    second = start_server(tmp_path / "b")
    try:
        second.wait_until("api/status", lambda body: True)
        assert not any(os.path.exists(p) for p in left)
        assert len(loop_files(second.proc.pid)) == 2  # its own are made, and kept
    finally:
        second.stop()
    assert loop_files(second.proc.pid) == []  # and removed at a clean stop
