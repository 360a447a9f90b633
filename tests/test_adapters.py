"""Each part of jupyter_server, jupyter_client and pyzmq that ``jupyter_resource_monitor.adapters``
reaches for without it being public, on a real server with real kernels: each test fails when its
part moves or changes shape on the installed versions (scripts/test-all.sh runs this file against
the lowest versions the package declares and the newest), and shows that our hook is called and
the server's own behaviour goes on. The last tests check that each adapter gives up quietly,
logging once, where its part is missing."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import time
import uuid

import jupyter_server
from jupyter_server.base.handlers import APIHandler
from packaging.version import Version

from jupyter_resource_monitor import adapters, bus
from jupyter_resource_monitor.guard.service import KERNEL_ACTIONS_SCHEMA_ID

from . import servers
from .kernel_ws import execute_request
from .test_event_loop import RT_CANDIDATES, caught_signals, thread_count, wait_for, worker_of

LOG = logging.getLogger("test_adapters")


async def until(predicate, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        await asyncio.sleep(0.05)


async def started_kernel(jp_serverapp) -> tuple[str, int]:
    """A real ipykernel started through the server's kernel manager: (id, pid)."""
    km = jp_serverapp.kernel_manager
    kernel_id = await km.start_kernel(kernel_name="python3")
    kernel = km.get_kernel(kernel_id)
    pid = await until(lambda: getattr(kernel.provisioner, "pid", None), what="the kernel's pid")
    return kernel_id, pid


async def execute(jp_serverapp, kernel_id: str, code: str) -> dict:
    client = jp_serverapp.kernel_manager.get_kernel(kernel_id).client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        return await client.execute_interactive(code, timeout=60, store_history=False)
    finally:
        client.stop_channels()


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# -- ServerApp.io_loop: our start, before anyone polls --------------------------------------------


def test_the_watch_and_the_worker_start_with_the_server_before_anyone_polls(tmp_path):
    """``adapters.when_server_runs`` on a real ``jupyter server`` of the installed version: the
    worker (the event-loop watch's prober) runs and the server caught the stack signal, with no
    request for metrics made."""
    folder = tmp_path / "work"
    folder.mkdir()
    server = servers.ServerProcess(folder)
    try:
        server.wait_until("api/status", lambda body: True)
        worker = worker_of(server)
        # Its threads: the main one, the prober and the cells' trail.
        wait_for(lambda: thread_count(worker) == 3, what="the prober thread")
        assert len(caught_signals(server.proc.pid) & set(RT_CANDIDATES)) == 1
    finally:
        server.stop()


# -- kernel._activity_stream and ZMQStream._recv_callback ------------------------------------------


async def test_the_activity_stream_is_shared_and_the_servers_tracking_goes_on(jp_serverapp, monitor):
    kernel_id, _pid = await started_kernel(jp_serverapp)
    kernel = jp_serverapp.kernel_manager.get_kernel(kernel_id)
    shared = adapters.activity_stream(kernel, LOG)
    assert shared is not None, "jupyter_server's iopub watcher (kernel._activity_stream) is gone"
    stream, callback = shared
    assert stream is kernel._activity_stream
    # Ours runs first (the cell records' handler installed at start), then the server's: put a spy
    # in front of both, as the cell records did.
    seen = []
    stream.on_recv(lambda msg_list: (seen.append(msg_list), callback(msg_list)))
    before = kernel.last_activity
    reply = await execute(jp_serverapp, kernel_id, "1 + 1")
    assert reply["content"]["status"] == "ok"
    msg_id = reply["parent_header"]["msg_id"]

    def recorded():
        return [e["msg_id"] for e in json.loads(monitor.cells.body(kernel_id))["cells"]]

    # Ours ran: the cell records have the cell ...
    await until(lambda: recorded() == [msg_id], what="the cell's record")
    assert seen
    # ... and so did the server's own callback.
    assert kernel.execution_state == "idle" and kernel.last_activity > before


# -- start_watching_activity, stop_watching_activity, restart_kernel -------------------------------


async def test_the_kernel_managers_watch_restart_and_shutdown_call_our_hooks(jp_serverapp):
    km = jp_serverapp.kernel_manager
    calls = []

    def note(what):
        def hook(kernel_id):
            kernel = km.get_kernel(kernel_id)
            pid = getattr(kernel.provisioner, "pid", None)
            stream = adapters.activity_stream(kernel, LOG)
            calls.append((what, kernel_id, pid, pid is not None and alive(pid), stream is not None))

        return hook

    assert adapters.wrap_kernel_manager(
        km,
        after_watch_start=note("start"),
        before_watch_stop=note("stop"),
        before_restart=note("restart"),
        log=LOG,
    )
    kernel_id, pid = await started_kernel(jp_serverapp)
    assert ("start", kernel_id, pid, True, True) in calls  # after the server made its stream
    calls.clear()
    await km.restart_kernel(kernel_id)
    # Before the restart, the old process was still alive and watched.
    assert calls[0] == ("restart", kernel_id, pid, True, True)
    # (The server watches anew only where the restarted kernel's ports changed.)
    assert getattr(km.get_kernel(kernel_id).provisioner, "pid", None) not in (None, pid)
    calls.clear()
    await km.shutdown_kernel(kernel_id)
    assert calls and calls[0][:2] == ("stop", kernel_id)


# -- jupyter_client's KernelManager._restarter ------------------------------------------------------


async def test_a_kernel_that_dies_by_itself_calls_us_before_its_restart(jp_serverapp):
    km = jp_serverapp.kernel_manager
    kernel_id, pid = await started_kernel(jp_serverapp)
    kernel = km.get_kernel(kernel_id)
    died = []
    # The restarter exists once the kernel has started: registering takes from then on.
    await until(
        lambda: adapters.on_kernel_death(kernel, lambda: died.append(kernel.provisioner.pid), LOG),
        what="the kernel's restarter",
    )
    os.kill(pid, signal.SIGKILL)
    await until(lambda: died, what="the restarter's callback")
    assert died[0] == pid  # called while the dead process was still the one known
    await until(lambda: getattr(kernel.provisioner, "pid", None) not in (None, pid), what="the restart")


# -- the kernel WebSocket connection class ----------------------------------------------------------


async def test_the_kernel_websocket_passes_requests_and_replies_through_us(
    jp_serverapp, jp_ws_fetch, monitor
):
    cls = jp_serverapp.web_app.settings["kernel_websocket_connection_class"]
    assert cls.__name__.startswith("CellTracking"), "our connection class is not in the settings"
    kernel_id, _pid = await started_kernel(jp_serverapp)
    replies = []
    monitor.cells.reply_listeners.append(lambda kid, content, cell: replies.append((kid, cell)))
    cell_id = uuid.uuid4().hex
    request = execute_request("2 + 2", cell_id)
    msg_id = request["header"]["msg_id"]
    ws = await jp_ws_fetch("api", "kernels", kernel_id, "channels")
    try:
        await ws.write_message(json.dumps(request))
        while True:
            msg = json.loads(await asyncio.wait_for(ws.read_message(), 60))
            if msg["msg_type"] == "execute_reply" and msg["parent_header"]["msg_id"] == msg_id:
                break
    finally:
        ws.close()
    assert msg["content"]["status"] == "ok"
    assert replies == [(kernel_id, cell_id)]  # the reply went through handle_outgoing_message

    def records():
        body = json.loads(monitor.cells.body(kernel_id))
        return [(e["msg_id"], e["cell_id"]) for e in body["cells"]]

    # The request went through handle_incoming_message: its cell id is on the record.
    await until(lambda: records() == [(msg_id, cell_id)], what="the cell's record with its id")


# -- APIHandler._track_activity ---------------------------------------------------------------------


async def test_polling_is_not_activity_and_other_api_requests_are(jp_serverapp, jp_fetch):
    assert APIHandler._track_activity is True  # the server's switch is where we set it
    settings = jp_serverapp.web_app.settings
    await jp_fetch("api", "contents")
    before = settings.get("api_last_activity")
    if Version(jupyter_server.__version__) < Version("2.7.1"):
        # Before 2.7.1 the server counts no API request as activity (it looked for the user where
        # it no longer kept it): nothing for polling to spoil there.
        assert before is None
    else:
        assert before is not None  # the control: an ordinary request counts
    await asyncio.sleep(0.01)
    for route in [("api", "metrics", "v1"), ("api", "metrics", "v1", "guard")]:
        assert (await jp_fetch(*route)).code == 200
    assert settings.get("api_last_activity") == before


# -- what older servers lack themselves ------------------------------------------------------------


async def test_kernel_starts_are_on_the_bus_from_jupyter_server_2_6(jp_serverapp):
    """The memory guard fences a kernel as the bus announces its start; before 2.6 nothing
    announces it (docs/configuration.md says so), and listening is refused, not an error."""

    async def listener(logger=None, schema_id="", data=None):
        pass

    announced = Version(jupyter_server.__version__) >= Version("2.6")
    assert bus.listen(jp_serverapp.event_logger, KERNEL_ACTIONS_SCHEMA_ID, listener) is announced


# -- where a part is missing ------------------------------------------------------------------------


def test_each_adapter_gives_up_quietly_and_says_so_once(caplog, monkeypatch):
    monkeypatch.setattr(adapters, "_said", set())

    class Bare:
        pass

    with caplog.at_level(logging.WARNING, logger=LOG.name):
        for _ in range(2):
            assert adapters.when_server_runs(Bare(), lambda: None, LOG) is False
            assert adapters.activity_stream(Bare(), LOG) is None
            assert (
                adapters.wrap_kernel_manager(
                    Bare(), after_watch_start=print, before_watch_stop=print, before_restart=print, log=LOG
                )
                is False
            )
            assert adapters.on_kernel_death(Bare(), print, LOG) is False
            settings = {"kernel_websocket_connection_class": None}
            assert adapters.wrap_kernel_websocket(settings, lambda base: base, LOG) is False
            assert settings == {"kernel_websocket_connection_class": None}
    assert len(caplog.records) == 5  # one line per missing part, not one per call


def test_a_restarter_not_made_yet_is_no_warning(caplog, monkeypatch):
    monkeypatch.setattr(adapters, "_said", set())

    class NotStarted:
        _restarter = None

        def add_restart_callback(self, f, event):
            raise AssertionError("registered before the restarter exists: it would be lost")

    with caplog.at_level(logging.WARNING, logger=LOG.name):
        assert adapters.on_kernel_death(NotStarted(), print, LOG) is False
    assert not caplog.records
