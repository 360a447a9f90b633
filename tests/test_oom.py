"""OOM kills of kernels: a real kill in a real memory cgroup, and deaths that are not OOM kills."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from jupyter_resource_monitor import bus
from jupyter_resource_monitor.tracking.oom import OomDetector
from jupyter_resource_monitor.worker.cgroup_memory import OomCounter

from . import cgroups, servers
from .contract import assert_valid
from .test_bus import next_of
from .test_kernels import kernel_until

MiB = 1 << 20
LIMIT = 640 * MiB

# Allocate (and touch) 10 MiB every 50 ms until the OOM killer ends the kernel: a few seconds of
# growth, which samples every 0.5 s follow (a spike faster than a sample is not seen growing).
ALLOCATE_FOREVER = (
    "import time\nhog = []\nwhile True:\n    hog.append(b'x' * (10 << 20))\n    time.sleep(0.05)\n"
)


def execute_request(code: str) -> str:
    return json.dumps(
        {
            "header": {
                "msg_id": uuid.uuid4().hex,
                "msg_type": "execute_request",
                "username": "test",
                "session": uuid.uuid4().hex,
                "date": "",
                "version": "5.3",
            },
            "parent_header": {},
            "metadata": {},
            "channel": "shell",
            "buffers": [],
            "content": {
                "code": code,
                "silent": False,
                "store_history": False,
                "user_expressions": {},
                "allow_stdin": False,
                "stop_on_error": True,
            },
        }
    )


async def send_code(server: servers.ServerProcess, kernel_id: str, code: str) -> None:
    """Send ``code`` to the kernel over the server's kernel WebSocket, as JupyterLab does."""
    url = server.url(f"api/kernels/{kernel_id}/channels?session_id={uuid.uuid4().hex}")
    url = "ws" + url[len("http") :]
    conn = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {server.token}"}))
    await conn.write_message(execute_request(code))
    await asyncio.sleep(1.0)  # let it reach the kernel before the socket closes
    conn.close()
    # Wait for the close to finish (read_message gives None), so no socket outlives the loop.
    try:
        while await asyncio.wait_for(conn.read_message(), 10) is not None:
            pass
    except asyncio.TimeoutError:
        pass


@pytest.fixture
def cgroup_server(tmp_path):
    """A real jupyter server (sampling every 0.5 s) inside a new memory cgroup of LIMIT bytes, the
    memory guard off (it would keep the kernel alive: see test_memory_guard.py)."""
    cgroups.skip_unless_possible(cgroups.unavailable(), "no real OOM kill here")
    cgroup = cgroups.MemoryCgroup(LIMIT)
    folder = tmp_path / "work"
    folder.mkdir()
    server = servers.ServerProcess(
        folder, "--ResourceMonitor.sample_interval=0.5", "--ResourceMonitor.memory_guard=False"
    )
    cgroup.add(server.proc.pid)  # before the first request: the worker and kernels start inside
    try:
        yield server, cgroup
    finally:
        server.stop()
        cgroup.remove()


async def test_real_oom_kill_is_recorded_for_the_notebooks_kernel(cgroup_server):
    server, cgroup = cgroup_server
    body = server.wait_until("api/metrics/v1", lambda b: b["sample"]["ready"])
    assert_valid("metrics", body)  # the cgroup's memory block included
    assert body["memory"]["figure"] == "working_set"
    assert body["memory"]["limit"] == LIMIT and body["memory"]["limit_source"] == "cgroup"
    assert body["memory"]["cgroup"]["working_set"] == body["memory"]["used"]
    assert body["oom"] == {
        "kernel_kills": 0,
        "kernel_deaths": 0,
        "last_event_id": 0,
        "counter_source": "cgroup",
    }

    kernel_id = server.start_notebook("work/analysis.ipynb")
    # Sampled (so hooked to its restarter) and named after its notebook.
    row = server.wait_until(
        f"api/metrics/v1/kernels/{kernel_id}",
        lambda k: k["available"] and k["memory"] > 20 * MiB and k["path"],
    )
    assert row["path"] == "work/analysis.ipynb" and row["session_type"] == "notebook"
    owners = server.wait_until(
        "api/metrics/v1", lambda b: any(o["type"] == "notebook" for o in b["by_owner"])
    )["by_owner"]
    assert owners[0]["name"] == "analysis.ipynb" and owners[0]["kernel_id"] == kernel_id
    assert owners[0]["path"] == "work/analysis.ipynb" and owners[0]["memory"] > 20 * MiB
    first_pid = row["pid"]
    kills_before = cgroup.oom_kills()

    # Subscribed to the server's event bus as JupyterLab is: the kill arrives there by itself.
    url = "ws" + server.url("api/events/subscribe")[len("http") :]
    subscription = await websocket_connect(
        HTTPRequest(url, headers={"Authorization": f"token {server.token}"})
    )
    try:
        await send_code(server, kernel_id, ALLOCATE_FOREVER)
        on_bus = await next_of(subscription, bus.OOM_KILL_SCHEMA_ID, timeout=60)
        heard_at = time.time()
    finally:
        subscription.close()
    answer = server.get("api/metrics/v1/events")
    assert_valid("events", answer)
    events = answer["events"]

    assert cgroup.oom_kills() > kills_before  # the kernel's OOM killer really did it
    assert len(events) == 1
    event = events[0]
    assert event["type"] == "oom_kill" and event["id"] == 1
    assert event["kernel_id"] == kernel_id and event["kernel_name"] == "python3"
    assert event["path"] == "work/analysis.ipynb" and event["session_type"] == "notebook"
    assert event["exit_signal"] == "SIGKILL" and event["counter_source"] == "cgroup"
    assert event["limit"] == LIMIT and event["limit_source"] == "cgroup"
    assert event["memory_figure"] == "working_set"
    # The last sample before death saw the kernel grown well past its start, within the limit.
    assert 150 * MiB < event["kernel_memory"] <= LIMIT
    assert event["kernel_memory"] <= event["server_memory"] <= LIMIT
    assert abs(time.time() - event["time"]) < 60 and event["sample_time"] <= event["time"]
    assert max(m for _t, m in event["memory_before"]) >= event["kernel_memory"]
    # The bus carried the same record, without the curve, as the death was noticed.
    assert on_bus == {
        "schema_id": bus.OOM_KILL_SCHEMA_ID,
        **{k: v for k, v in event.items() if k != "memory_before"},
    }
    assert 0 <= heard_at - event["time"] < 1.0

    # jupyter_server restarts the kernel under the same id; its row keeps the event.
    row = server.wait_until(
        f"api/metrics/v1/kernels/{kernel_id}", lambda k: k["available"] and k["pid"] != first_pid, timeout=60
    )
    assert_valid("kernel", row)
    assert [e["id"] for e in row["oom_events"]] == [1]
    body = server.get("api/metrics/v1")
    assert body["oom"]["kernel_kills"] == 1 and body["oom"]["last_event_id"] == 1
    assert body["oom"]["kernel_deaths"] == 1
    assert "\njupyter_kernel_oom_kills_total 1.0\n" in server.get("metrics")


# -- deaths that are not OOM kills: the in-process server, no cgroup needed ---------------------


async def start_hooked_kernel(jp_fetch, monitor):
    """A python3 kernel, sampled and hooked to its restarter; returns (id, pid)."""
    response = await jp_fetch("api", "kernels", method="POST", body=json.dumps({"name": "python3"}))
    kernel_id = json.loads(response.body)["id"]
    body = await kernel_until(jp_fetch, kernel_id, lambda b: b["available"])
    deadline = time.monotonic() + 30
    while kernel_id not in monitor.tracker._hooked:
        assert time.monotonic() < deadline, "the kernel was never hooked to its restarter"
        await asyncio.sleep(0.1)
    return kernel_id, body["pid"]


async def restarted(jp_fetch, kernel_id, old_pid):
    return await kernel_until(
        jp_fetch, kernel_id, lambda b: b["available"] and b["pid"] != old_pid, timeout=60
    )


async def oom_counts(jp_fetch):
    """(kernel deaths, of which OOM kills) as /api/metrics/v1 says."""
    oom = json.loads((await jp_fetch("api", "metrics", "v1")).body)["oom"]
    return oom["kernel_deaths"], oom["kernel_kills"]


async def test_sigkill_without_oom_is_not_an_oom_kill(jp_fetch, monitor):
    kernel_id, pid = await start_hooked_kernel(jp_fetch, monitor)
    os.kill(pid, signal.SIGKILL)
    await restarted(jp_fetch, kernel_id, pid)
    assert await oom_counts(jp_fetch) == (1, 0)  # the death was seen, and judged
    body = json.loads((await jp_fetch("api", "metrics", "v1", "events")).body)
    assert body == {"events": [], "guard": []}


async def test_plain_exit_is_not_an_oom_kill(jp_fetch, jp_serverapp, monitor):
    kernel_id, pid = await start_hooked_kernel(jp_fetch, monitor)
    client = jp_serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        client.execute("import os; os._exit(0)")
        await restarted(jp_fetch, kernel_id, pid)
    finally:
        client.stop_channels()
    assert await oom_counts(jp_fetch) == (1, 0)
    assert json.loads((await jp_fetch("api", "metrics", "v1", "events")).body) == {"events": [], "guard": []}


async def test_shutdown_is_not_an_oom_kill(jp_fetch, monitor):
    kernel_id, _pid = await start_hooked_kernel(jp_fetch, monitor)
    await jp_fetch("api", "kernels", kernel_id, method="DELETE")
    await asyncio.sleep(4)  # longer than the restarter's poll: it must stay silent
    assert await oom_counts(jp_fetch) == (0, 0)
    assert json.loads((await jp_fetch("api", "metrics", "v1", "events")).body) == {"events": [], "guard": []}


# -- pairing deaths with rises of the counter (pure logic) -------------------------------------


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_detector_pairs_one_death_with_one_rise():
    clock = Clock()
    detector = OomDetector(clock=clock, window_s=30)
    detector.observe(OomCounter(5, "cgroup"))  # kills before the server started: baseline
    assert not detector.kernel_died(-9)
    detector.observe(OomCounter(6, "cgroup"))
    assert not detector.kernel_died(0)  # a plain exit does not use up the rise
    assert not detector.kernel_died(-15)
    assert detector.kernel_died(-9)
    assert not detector.kernel_died(-9)  # that rise is explained now


def test_detector_forgets_old_rises_and_accepts_unknown_or_wrapped_status():
    clock = Clock()
    detector = OomDetector(clock=clock, window_s=30)
    detector.observe(OomCounter(0, "host"))
    detector.observe(OomCounter(2, "host"))
    assert detector.kernel_died(None)  # a provisioner without a Popen: status unknown
    clock.now += 31
    assert not detector.kernel_died(137)  # the second rise was a child's, long ago
    detector.observe(OomCounter(3, "host"))
    assert detector.kernel_died(137)  # a shell wrapper's status for a SIGKILLed child


def test_detector_restarts_its_baseline_when_the_counter_moves_back_or_changes_source():
    detector = OomDetector(clock=Clock())
    detector.observe(OomCounter(9, "cgroup"))
    detector.observe(OomCounter(2, "cgroup"))  # a new cgroup: no rise
    detector.observe(OomCounter(4, "host"))  # another counter: a new baseline, not a rise
    assert not detector.kernel_died(-9)
