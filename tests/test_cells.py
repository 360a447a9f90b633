"""What each cell cost: records of real cells run on real kernels (ipykernel and xeus-python),
through a real server's kernel WebSocket, each compared with a truth the test reads itself."""

from __future__ import annotations

import asyncio
import os
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import psutil
import pytest
from jupyter_client.kernelspec import KernelSpecManager

from . import servers
from .kernel_ws import KernelSocket, kernel_cpu_s, records_for

MiB = 1 << 20
GiB = 1 << 30
XPYTHON = pytest.mark.skipif(
    "xpython" not in KernelSpecManager().find_kernel_specs(), reason="xeus-python is not installed"
)
KERNELS = ["python3", pytest.param("xpython", marks=XPYTHON)]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cells") / "work"
    folder.mkdir()
    server = servers.ServerProcess(folder, "--ResourceMonitor.sample_interval=0.5")
    try:
        server.wait_until("api/status", lambda body: True)
        yield server
    finally:
        server.stop()


@pytest.fixture
def kernel(server, request):
    """A fresh kernel of the parametrised name: (id, pid). Shut down after the test."""
    name = getattr(request, "param", "python3")
    kernel_id = server.post("api/kernels", {"name": name})["id"]
    try:
        yield kernel_id, wait_for_pid(server, kernel_id)
    finally:
        try:
            call(server, "DELETE", f"api/kernels/{kernel_id}")
        except urllib.error.URLError:
            pass


def call(server, method: str, path: str) -> int:
    """A request without a JSON answer (interrupt, restart, shutdown); returns the status."""
    request = urllib.request.Request(
        server.url(path),
        method=method,
        data=b"{}" if method == "POST" else None,
        headers={"Authorization": f"token {server.token}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


def wait_for_pid(server, kernel_id: str) -> int:
    body = server.wait_until(f"api/metrics/v1/kernels/{kernel_id}", lambda b: b["pid"] is not None)
    return body["pid"]


def vm_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) << 10
    raise AssertionError("no VmRSS")


def epoch(date: str) -> float:
    """Seconds since the epoch from a message header's ISO 8601 date."""
    return datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp()


async def keep_sampling(server, stop: asyncio.Event, taken: list[float] | None = None) -> None:
    """Poll the metrics as a frontend does, so the worker samples during the cell; ``taken``, if
    given, collects when each sample the server had was taken."""
    while not stop.is_set():
        body = await asyncio.get_running_loop().run_in_executor(None, server.get, "api/metrics/v1")
        at = body["sample"]["taken_at"]  # None before the worker's first sample
        if taken is not None and at is not None and at not in taken[-1:]:
            taken.append(at)
        await asyncio.sleep(0.2)


# A spike far shorter than any sampling interval: 1 GiB allocated (bytearray zero-fills it, so
# every page is touched) and freed at once; the cell prints how long the memory was held.
SPIKE = (
    "import time\nt0 = time.monotonic()\nb = bytearray(1 << 30)\nt1 = time.monotonic()\n"
    "del b\nprint(time.monotonic() - t1)"
)


@pytest.mark.parametrize("kernel", KERNELS, indirect=True)
async def test_a_one_gib_spike_freed_at_once_has_its_exact_peak(server, kernel):
    kernel_id, pid = kernel
    async with KernelSocket(server, kernel_id) as k:
        await k.run("x = 1")  # the kernel has started up and settled
        before = vm_rss(pid)
        msg_id, reply = await k.run(SPIKE, cell_id="spike")
        assert reply["status"] == "ok"
    (record,) = records_for(server, kernel_id, [msg_id])
    assert record["cell_id"] == "spike" and record["status"] == "ok"
    assert record["peak_rss"] >= GiB
    assert abs(record["peak_rss"] - (GiB + before)) <= 0.1 * (GiB + before), (record, before)
    # What the cell left behind: nothing of the spike.
    assert record["rss_end"] < before + 100 * MiB
    assert record["started"] < record["ended"]
    assert record["wall_s"] == pytest.approx(max(0.0, record["ended"] - record["started"]), abs=1e-3)
    body = server.get(f"api/metrics/v1/kernels/{kernel_id}/cells")
    assert body["peak_since_start"] >= record["peak_rss"]


# A cell sent just after a whole second: xeus 6 (in xeus-python 0.19) writes the microseconds of its
# dates without their leading zeros, so its busy, dated in the second's first tenth (12.045 s written
# "12.45…"), reads 0.09 to 0.9 s late; its idle, half a second later, is dated right.
HALF_SECOND = "import time\ntime.sleep(0.5)"


@pytest.mark.parametrize("kernel", KERNELS, indirect=True)
async def test_a_cell_is_timed_from_when_it_ran_even_when_its_kernel_misdates_it(server, kernel, request):
    kernel_id, pid = kernel
    runs = []
    async with KernelSocket(server, kernel_id) as k:
        await k.run("x = 1")
        for _ in range(3):
            await asyncio.sleep(1.02 - time.time() % 1)
            sent = time.time()
            msg_id, reply = await k.run(HALF_SECOND)
            assert reply["status"] == "ok"
            runs.append((msg_id, sent))
    records = records_for(server, kernel_id, [msg_id for msg_id, _ in runs])
    for (_, sent), record in zip(runs, records, strict=True):
        assert sent <= record["started"] < record["ended"], record
        # Its own half second, less at most the busy's delivery to the server (the misdated busy
        # read 0.09 s late at the least: wall_s 0.41 or less).
        assert 0.45 <= record["wall_s"] < 1.0, record
        assert record["wall_s"] == pytest.approx(record["ended"] - record["started"], abs=1e-3)
    if request.node.callspec.params["kernel"] == "xpython":
        # What was corrected happened: a busy that the kernel dated after this client read it.
        ids = {msg_id for msg_id, _ in runs}
        misdated = [
            (date, read)
            for parent, state, date, read in k.statuses
            if parent in ids and state == "busy" and epoch(date) > read
        ]
        assert misdated, k.statuses


CHILD = (
    "import subprocess, sys\n"
    "subprocess.run([sys.executable, '-c', 'import time\\nb = bytearray(300 << 20)\\n"
    "t = time.process_time()\\nwhile time.process_time() - t < 2: pass'], check=True)"
)
THREADS = (
    "import threading, time\n"
    "def spin():\n    t = time.thread_time()\n    while time.thread_time() - t < 1: pass\n"
    "threads = [threading.Thread(target=spin) for _ in range(2)]\n"
    "for t in threads: t.start()\n"
    "for t in threads: t.join()"
)


@pytest.mark.parametrize("kernel", KERNELS, indirect=True)
@pytest.mark.parametrize("code", [CHILD, THREADS], ids=["child", "threads"])
async def test_cpu_of_a_cell_matches_the_kernels_own_account(server, kernel, code):
    kernel_id, pid = kernel
    stop = asyncio.Event()
    sampling = asyncio.create_task(keep_sampling(server, stop))
    try:
        async with KernelSocket(server, kernel_id) as k:
            await k.run("x = 1")
            before = kernel_cpu_s(pid)
            msg_id, reply = await k.run(code)
            after = kernel_cpu_s(pid)
            assert reply["status"] == "ok"
    finally:
        stop.set()
        await sampling
    (record,) = records_for(server, kernel_id, [msg_id])
    truth = after - before
    assert truth >= 1.8  # the work was done, and accounted to the kernel
    assert record["cpu_s"] == pytest.approx(truth, rel=0.15), (record, truth)
    if code is CHILD:  # the child held 300 MiB for 2 s, sampled every 0.5 s
        assert record["children_peak_pss"] is not None and record["children_peak_pss"] >= 250 * MiB
    # No child outlived the cell: nothing to add to cpu_s. The child, sampled as it ran, was
    # reaped at the cell's very end (after the last sample) and is in cpu_s: not counted twice.
    assert record["children_cpu_s"] is not None and record["children_cpu_s"] <= 0.05, record


RUN_ALL = [
    "import time\ntime.sleep(1)",
    "kept = bytearray(400 << 20)",
    "import time\nt = time.process_time()\nwhile time.process_time() - t < 1: pass",
]


@pytest.mark.parametrize("kernel", KERNELS, indirect=True)
async def test_run_all_gives_each_queued_cell_its_own_figures(server, kernel):
    kernel_id, pid = kernel
    async with KernelSocket(server, kernel_id) as k:
        await k.run("x = 1")
        sent = time.time()
        msg_ids = [await k.send(code, cell_id=f"cell-{i}") for i, code in enumerate(RUN_ALL)]
        for msg_id in msg_ids:
            assert (await k.reply(msg_id))["status"] == "ok"
    records = records_for(server, kernel_id, msg_ids)
    listed = [e["msg_id"] for e in server.get(f"api/metrics/v1/kernels/{kernel_id}/cells")["cells"]]
    assert listed[-3:] == msg_ids  # newest last, in the order they ran
    sleep, allocate, compute = records
    assert [r["cell_id"] for r in records] == ["cell-0", "cell-1", "cell-2"]
    assert all(r["status"] == "ok" for r in records)
    assert sleep["started"] >= sent - 0.5
    for earlier, later in zip(records, records[1:], strict=False):
        # Each starts when the kernel took it up, after the one before: the wall time is the
        # cell's own, without its wait in the queue.
        assert later["started"] >= earlier["ended"] - 0.005
    for r in records:
        assert r["wall_s"] == pytest.approx(r["ended"] - r["started"], abs=1e-3)
    assert 0.95 <= sleep["wall_s"] < 1.5
    # Near 0: at most what a late reading (said in late_s) took from the next cell.
    assert sleep["cpu_s"] <= 0.05 + (sleep["late_s"] or 0), sleep
    assert allocate["peak_rss"] >= 400 * MiB and allocate["rss_end"] >= 400 * MiB  # kept
    assert 0.9 <= compute["cpu_s"] <= 1.3, compute
    if sleep["peak_exact"]:  # its end was read before the allocation began
        assert sleep["peak_rss"] < 300 * MiB


@pytest.mark.parametrize("kernel", KERNELS, indirect=True)
async def test_error_and_restart_end_their_records(server, kernel):
    kernel_id, pid = kernel
    async with KernelSocket(server, kernel_id) as k:
        await k.run("x = 1")
        raised, reply = await k.run("1 / 0", cell_id="raises")
        assert reply["status"] == "error"
        # A request right after an error may be aborted (stop_on_error): wait until one runs.
        for _ in range(10):
            if (await k.run("pass"))[1]["status"] == "ok":
                break
            await asyncio.sleep(0.2)
        restarted = await k.send("import time\ntime.sleep(30)", cell_id="restarted")
        await asyncio.sleep(1.5)
    call(server, "POST", f"api/kernels/{kernel_id}/restart")
    records = records_for(server, kernel_id, [raised, restarted])
    assert [r["status"] for r in records] == ["error", "died"], records
    # Nothing is stuck: the kernel runs again and its cells are recorded again, the first one too
    # (from its reply if it ran before the server's iopub watcher had reconnected).
    async with KernelSocket(server, kernel_id) as k:
        after, reply = await k.run("z = 3", cell_id="after")
        assert reply["status"] == "ok"
    (recorded,) = records_for(server, kernel_id, [after], timeout=10)
    # The request reached the server before the new process said "starting" (xeus-python says it
    # once up, 0.3 s after its launch): it is the new process's, with its cell id.
    assert recorded["status"] == "ok" and recorded["cell_id"] == "after", recorded
    died = records[1]
    # It ended at the restart, 1.5 s after it was sent (less the time xeus took to start it), not
    # after its 30 s sleep.
    assert died["ended"] is not None and 0.3 <= died["wall_s"] < 10 and not died["peak_exact"]


# ipykernel only: xeus-python 0.19 cannot interrupt a cell (the two tests after this one).
async def test_interrupt_ends_the_cell_and_aborts_the_queue(server, kernel):
    kernel_id, pid = kernel
    async with KernelSocket(server, kernel_id) as k:
        await k.run("x = 1")
        long_cell = await k.send("import time\ntime.sleep(30)", cell_id="long")
        queued = await k.send("y = 2", cell_id="queued")  # aborted: the one before it failed
        await asyncio.sleep(1.5)
        call(server, "POST", f"api/kernels/{kernel_id}/interrupt")
        assert (await k.reply(long_cell, timeout=20))["status"] == "error"
        assert (await k.reply(queued, timeout=20))["status"] == "aborted"
        after, reply = await k.run("z = 3", cell_id="after")
    records = records_for(server, kernel_id, [long_cell, queued, after])
    assert [r["status"] for r in records] == ["interrupted", "aborted", "ok"], records
    assert 1.0 < records[0]["wall_s"] < 10 and records[0]["cpu_s"] < 0.5
    assert records[1]["cell_id"] == "queued"


def sigint_caught(pid: int) -> bool:
    """Whether the process has a handler for SIGINT (bit 2 of SigCgt in its status)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) & (1 << (2 - 1)))
    raise AssertionError("no SigCgt")


SPIN_30_S = "import time\nt = time.time()\nwhile time.time() - t < 30: pass"


@XPYTHON
@pytest.mark.parametrize("kernel", ["xpython"], indirect=True)
async def test_xeus_python_exits_on_an_interrupt_signal_and_its_cell_is_recorded_died(server, kernel):
    """The kernelspec's interrupt mode is "signal": the server sends SIGINT. xeus-python has a
    handler for it (Python's) and runs the cell on its main thread, yet its process exits, with
    status 0, without a reply, and the server's restarter starts another."""
    kernel_id, pid = kernel
    async with KernelSocket(server, kernel_id) as k:
        await k.run("x = 1")
        assert sigint_caught(pid)
        long_cell = await k.send(SPIN_30_S, cell_id="long")
        queued = await k.send("y = 2", cell_id="queued")
        await asyncio.sleep(1.5)
        call(server, "POST", f"api/kernels/{kernel_id}/interrupt")
        deadline = time.monotonic() + 10
        while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not os.path.exists(f"/proc/{pid}"), "the kernel process is still there"
        with pytest.raises((AssertionError, asyncio.TimeoutError)):
            await k.reply(long_cell, timeout=3)  # the cell got no reply: it never ended in the kernel
    assert long_cell not in k.replies and queued not in k.replies
    new_pid = server.wait_until(
        f"api/metrics/v1/kernels/{kernel_id}", lambda b: b["pid"] not in (None, pid), timeout=30
    )["pid"]
    assert new_pid != pid
    records = records_for(server, kernel_id, [long_cell, queued])
    assert [r["status"] for r in records] == ["died", "aborted"], records
    assert [r["cell_id"] for r in records] == ["long", "queued"]
    assert 1.0 < records[0]["wall_s"] < 15
    # The server's log says how it ended (the tracker reads the exit status from its Popen).
    deadline = time.monotonic() + 10
    while f"Kernel {kernel_id} died (exit status 0)" not in Path(server.log.name).read_text():
        assert time.monotonic() < deadline, "no exit status 0 in the server's log"
        await asyncio.sleep(0.2)


@XPYTHON
@pytest.mark.parametrize("kernel", ["xpython"], indirect=True)
async def test_xeus_python_answers_an_interrupt_request_and_runs_the_cell_on(server, kernel):
    """Interrupt mode "message" (an ``interrupt_request`` on the control channel): xeus-python
    answers ``ok`` at once, and the cell runs to its end; its record says ``ok``, its full wall."""
    kernel_id, pid = kernel
    async with KernelSocket(server, kernel_id) as k:
        await k.run("x = 1")
        sent = time.time()
        cell = await k.send("import time\ntime.sleep(4)", cell_id="runs-on")
        await asyncio.sleep(1.5)
        interrupted = time.time()
        assert (await k.reply(await k.interrupt(), timeout=10))["status"] == "ok"
        answered = time.time()
        assert (await k.reply(cell, timeout=20))["status"] == "ok"
        done = time.time()
    assert answered - interrupted < 1.0 and done - sent >= 4.0
    assert os.path.exists(f"/proc/{pid}")  # the same process
    (record,) = records_for(server, kernel_id, [cell])
    assert record["status"] == "ok" and record["cell_id"] == "runs-on"
    assert 3.9 <= record["wall_s"] < 6, record


def test_unknown_kernel_is_404(server):
    with pytest.raises(urllib.error.HTTPError) as info:
        server.get("api/metrics/v1/kernels/nope/cells")
    info.value.close()
    assert info.value.code == 404


@pytest.fixture(scope="module")
def server_without_tracking(tmp_path_factory):
    folder = tmp_path_factory.mktemp("untracked") / "work"
    folder.mkdir()
    server = servers.ServerProcess(folder, "--ResourceMonitor.track_cells=False")
    try:
        server.wait_until("api/status", lambda body: True)
        yield server
    finally:
        server.stop()


def test_tracking_can_be_turned_off(server_without_tracking):
    kernel_id = server_without_tracking.post("api/kernels", {"name": "python3"})["id"]
    with pytest.raises(urllib.error.HTTPError) as info:
        server_without_tracking.get(f"api/metrics/v1/kernels/{kernel_id}/cells")
    info.value.close()
    assert info.value.code == 404


# A child that is still running when the cell ends: stopped (SIGSTOP) as the cell's last act, so
# that its CPU account stays what it was at the end for the test to read.
STILL_RUNNING = (
    "import os, signal, subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', 'while True: pass'])\n"
    "time.sleep(4)\n"
    "os.kill(child.pid, signal.SIGSTOP)"
)


@pytest.mark.parametrize("kernel", KERNELS, indirect=True)
async def test_a_child_still_running_at_the_end_is_in_children_cpu_s_not_in_cpu_s(server, kernel):
    kernel_id, pid = kernel
    stop, taken = asyncio.Event(), []
    sampling = asyncio.create_task(keep_sampling(server, stop, taken))
    child = None
    try:
        async with KernelSocket(server, kernel_id) as k:
            await k.run("x = 1")
            before = kernel_cpu_s(pid)
            msg_id, reply = await k.run(STILL_RUNNING)
            after = kernel_cpu_s(pid)
            assert reply["status"] == "ok"
        (child,) = [c for c in psutil.Process(pid).children() if "while True" in " ".join(c.cmdline())]
        truth = kernel_cpu_s(child.pid)  # its own CPU (it reaped nothing), frozen at the cell's end
        (record,) = records_for(server, kernel_id, [msg_id])
    finally:
        stop.set()
        await sampling
        if child is not None:
            child.kill()
    assert truth >= 1.0, truth  # it ran for the 4 s (on a busy machine, whatever it got)
    # cpu_s is the kernel's own account, which holds nothing of a child it has not reaped.
    assert record["cpu_s"] == pytest.approx(after - before, abs=0.05) and record["cpu_s"] < 0.5, record
    # children_cpu_s is the change between the first and the last sample inside the cell: it
    # misses the child's work before the first and after the last, at most one CPU's worth (one
    # thread) over those gaps, read here from the samples the server had. The margins of 0.1 s
    # keep a sample taken as the cell started or ended, but seen by the server outside it, out.
    first = min(t for t in taken if t >= record["started"] + 0.1)
    last = max(t for t in taken if t <= record["ended"] - 0.1)
    missed = (first - record["started"]) + (record["ended"] - last)
    assert truth - missed - 0.03 <= record["children_cpu_s"] <= truth + 0.02, (record, truth, missed)
    assert missed < truth - 0.3  # the samples were close enough for the check to mean something


@pytest.fixture(scope="module")
def capped_server(tmp_path_factory):
    """A server whose worker reads 2 processes per sample: itself and one kernel, never the
    kernel's children."""
    folder = tmp_path_factory.mktemp("capped") / "work"
    folder.mkdir()
    server = servers.ServerProcess(
        folder, "--ResourceMonitor.sample_interval=0.5", "--ResourceMonitor.max_processes=2"
    )
    try:
        server.wait_until("api/status", lambda body: True)
        yield server
    finally:
        server.stop()


async def test_children_cpu_s_is_null_when_the_cap_left_the_children_unread(capped_server):
    """Samples that left processes out are not compared (a child unread would count as idle):
    with none complete during the cell, the figure is unknown rather than 0."""
    server = capped_server
    kernel_id = server.post("api/kernels", {"name": "python3"})["id"]
    pid = wait_for_pid(server, kernel_id)
    stop, child = asyncio.Event(), None
    sampling = asyncio.create_task(keep_sampling(server, stop))
    try:
        async with KernelSocket(server, kernel_id) as k:
            await k.run("x = 1")
            msg_id, reply = await k.run(STILL_RUNNING)
            assert reply["status"] == "ok"
        (child,) = [c for c in psutil.Process(pid).children() if "while True" in " ".join(c.cmdline())]
        truth = kernel_cpu_s(child.pid)
        (record,) = records_for(server, kernel_id, [msg_id])
        metrics = server.get("api/metrics/v1")
    finally:
        stop.set()
        await sampling
        if child is not None:
            child.kill()
        call(server, "DELETE", f"api/kernels/{kernel_id}")
    assert metrics["sample"]["processes"]["left_out"] >= 1  # the child, at least
    assert truth >= 1.0  # it did work the samples could not see
    assert record["children_cpu_s"] is None, record
    assert record["cpu_s"] is not None and record["cpu_s"] < 0.5
