"""The memory guard on real kernels in a real memory cgroup: runaway cells end with a MemoryError
(or an interrupt) and the kernel lives on with its variables; benign cells are never touched."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import signal
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from . import cgroups, servers
from .contract import assert_valid
from .kernel_ws import KernelSocket, records_for

MiB = 1 << 20
GiB = 1 << 30
LIMIT = 1 * GiB
SENTINEL = "sentinel = ['kept'] * 1000"
SENTINEL_CHECK = "assert sentinel == ['kept'] * 1000"

# The corpus of runaway cells the fence stops: each would take the kernel past the limit.
FENCED_CELLS = {
    "bytearray_2g": "x = bytearray(2 << 30)",
    "numpy_ones_2g": "import numpy as np\nx = np.ones((2 << 30) // 8)",
    "chunks_10m": "hog = []\nwhile True:\n    hog.append(b'x' * (10 << 20))",
    "chunks_100m": "hog = []\nwhile True:\n    hog.append(b'x' * (100 << 20))",
    "small_lists": "hog = []\nwhile True:\n    hog.append(list(range(100000)))",
    "pandas_concat": (
        "import numpy as np, pandas as pd\n"
        "df = pd.DataFrame(np.ones((1 << 20, 4)))\n"
        "while True:\n    df = pd.concat([df, df])"
    ),
    "multiprocessing_child": (
        "import multiprocessing as mp\n"
        "def grow():\n    hog = []\n    while True:\n        hog.append(b'x' * (10 << 20))\n"
        "with mp.get_context('fork').Pool(1) as pool:\n    pool.apply(grow)"
    ),
}


def request(server: servers.ServerProcess, method: str, path: str, body: dict | None = None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        server.url(path),
        data=data,
        method=method,
        headers={"Authorization": f"token {server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as response:
        raw = response.read()
        return json.loads(raw) if raw else None


@pytest.fixture(scope="module")
def guarded():
    """A real jupyter server inside a new 1 GiB memory cgroup, guard on (its default there)."""
    cgroups.skip_unless_possible(cgroups.unavailable(), "no memory cgroup here")
    import tempfile
    from pathlib import Path

    cgroup = cgroups.MemoryCgroup(LIMIT)
    folder = Path(tempfile.mkdtemp()) / "work"
    folder.mkdir()
    server = servers.ServerProcess(folder)
    cgroup.add(server.proc.pid)  # before the first kernel: every kernel starts inside
    try:
        server.wait_until("api/metrics/v1/guard", lambda b: b["enabled"] and b["available"])
        yield server, cgroup
    finally:
        server.stop()
        cgroup.remove()


class Kernel:
    """A notebook's kernel in the guarded server, with a socket to it."""

    def __init__(self, server: servers.ServerProcess, name: str, kernel_name: str = "python3"):
        self.server, self.path = server, f"work/{name}.ipynb"
        body = {"path": self.path, "type": "notebook", "name": name, "kernel": {"name": kernel_name}}
        session = server.post("api/sessions", body)
        self.kernel_id = session["kernel"]["id"]
        self.socket = KernelSocket(server, self.kernel_id)

    async def __aenter__(self) -> Kernel:
        await self.socket.__aenter__()
        _, reply = await self.socket.run("import os; " + SENTINEL)
        assert reply["status"] == "ok", reply
        self.pid = await self.getpid()
        return self

    async def getpid(self) -> int:
        # The server's account of the kernel's process (not a deliberate error in the kernel: a
        # kernel may abort the request that follows an error).
        body = self.server.wait_until(f"api/metrics/v1/kernels/{self.kernel_id}", lambda k: k["available"])
        return body["pid"]

    async def __aexit__(self, *exc) -> None:
        try:
            if self.socket.conn is not None:
                await self.socket.__aexit__(*exc)
        finally:
            # A kernel the OOM killer ended is being restarted: jupyter_server answers 500 to a
            # shutdown until the new process is up.
            for attempt in range(20):
                try:
                    request(self.server, "DELETE", f"api/kernels/{self.kernel_id}")
                    break
                except urllib.error.HTTPError as exc:
                    exc.close()
                    if exc.code == 404 or attempt == 19:
                        break
                    await asyncio.sleep(0.5)


def guard_events(server) -> list[dict]:
    return request(server, "GET", "api/metrics/v1/guard")["events"]


async def check_sentinel(socket) -> dict:
    """Whether the kernel kept its variables. A request that follows an error closely may be
    aborted, as stop_on_error asks (ipykernel answers ``aborted``, xeus-python 0.19 a bare
    ``{"status": "error"}``): that one is sent again."""
    _, reply = await socket.run(SENTINEL_CHECK + "\nhog = x = df = a = None")
    if reply == {"status": "error"} or reply.get("status") == "aborted":
        await asyncio.sleep(0.5)
        _, reply = await socket.run(SENTINEL_CHECK + "\nhog = x = df = a = None")
    return reply


async def assert_survived(kernel: Kernel) -> None:
    assert await kernel.getpid() == kernel.pid, "the kernel process was replaced"
    reply = await check_sentinel(kernel.socket)
    assert reply["status"] == "ok", f"the kernel lost its variables: {reply}"


async def wait_for_event(server, predicate, timeout: float = 20.0) -> dict:
    for _ in range(int(timeout / 0.2)):
        found = [e for e in guard_events(server) if predicate(e)]
        if found:
            return found[-1]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no such guard event in {guard_events(server)}")


@pytest.mark.parametrize("kind", sorted(FENCED_CELLS))
async def test_a_runaway_cell_gets_a_memory_error_and_the_kernel_lives(guarded, kind):
    server, cgroup = guarded
    kills = cgroup.oom_kills()
    async with Kernel(server, kind) as kernel:
        msg_id, reply = await kernel.socket.run(FENCED_CELLS[kind], cell_id=f"cell-{kind}")
        assert reply["status"] == "error", reply
        assert "MemoryError" in reply["ename"] or "allocate" in reply["evalue"], reply
        await assert_survived(kernel)
        event = await wait_for_event(server, lambda e: e["kernel_id"] == kernel.kernel_id)
        assert event["action"] == "fenced"
        assert event["cell_id"] == f"cell-{kind}" and event["path"] == kernel.path
        assert event["execution_count"] == reply["execution_count"]
        assert event["limit"] == LIMIT and event["source"] == "cgroup"
        # The cell's record says so too (its cost line is marked).
        (record,) = records_for(server, kernel.kernel_id, [msg_id])
        assert record["guard"] == "fenced"
    assert cgroup.oom_kills() == kills


async def test_a_xeus_python_kernel_gets_a_memory_error_too(guarded):
    """xeus-python (C++ around Python): the kernel process is the xpython binary, found by its
    connection-file argument like any other kernel."""
    from jupyter_client.kernelspec import KernelSpecManager

    if "xpython" not in KernelSpecManager().find_kernel_specs():
        pytest.skip("xeus-python is not installed")
    server, cgroup = guarded
    kills = cgroup.oom_kills()
    async with Kernel(server, "xeus", kernel_name="xpython") as kernel:
        _, reply = await kernel.socket.run(FENCED_CELLS["bytearray_2g"], cell_id="cell-xeus")
        assert reply["status"] == "error" and "MemoryError" in reply.get("ename", ""), reply
        await assert_survived(kernel)
        event = await wait_for_event(server, lambda e: e["kernel_id"] == kernel.kernel_id)
        assert event["action"] == "fenced" and event["cell_id"] == "cell-xeus"
    assert cgroup.oom_kills() == kills


async def test_two_kernels_allocating_at_once_both_live(guarded):
    server, cgroup = guarded
    kills = cgroup.oom_kills()
    async with Kernel(server, "first") as first, Kernel(server, "second") as second:
        runs = [k.socket.run(FENCED_CELLS["chunks_10m"], cell_id="together") for k in (first, second)]
        replies = await asyncio.gather(*runs)
        for _msg_id, reply in replies:
            assert reply["status"] == "error" and "MemoryError" in reply["ename"], reply
        for kernel in (first, second):
            await assert_survived(kernel)
    assert cgroup.oom_kills() == kills


async def test_memory_filled_in_reserved_pages_is_interrupted(guarded):
    """The second line: 0.6 GiB reserved while free, 0.3 GiB taken elsewhere, then the reserved
    pages filled one by one: no new mapping for the fence to refuse, the kernel is interrupted.
    (0.8 GiB, with the server, the worker and two kernels using about 0.25 GiB, is more than is
    left under 1 GiB: the fence refuses it at once.)"""
    server, cgroup = guarded
    kills = cgroup.oom_kills()
    async with Kernel(server, "reserved") as kernel, Kernel(server, "elsewhere") as elsewhere:
        _, reply = await kernel.socket.run("import numpy as np\na = np.empty((600 << 20) // 8)")
        assert reply["status"] == "ok", reply
        _, reply = await elsewhere.socket.run("y = b'y' * (300 << 20)")
        assert reply["status"] == "ok", reply
        msg_id, reply = await kernel.socket.run(
            "for i in range(0, len(a), 4):\n    a[i] = 1.0", cell_id="fill"
        )
        assert reply["status"] == "error" and reply["ename"] == "KeyboardInterrupt", reply
        await assert_survived(kernel)
        await assert_survived(elsewhere)
        event = await wait_for_event(server, lambda e: e["kernel_id"] == kernel.kernel_id)
        assert event["action"] == "interrupted" and event["path"] == kernel.path
        (record,) = records_for(server, kernel.kernel_id, [msg_id])
        assert record["guard"] == "interrupted"
    assert cgroup.oom_kills() == kills


# Cells that must never meet the guard, each run 20 times in one kernel.
BENIGN_CELLS = {
    # Peaks at 85 % of the limit (with the server, worker and kernel, about 0.2 GiB) and frees it.
    "peak_85_percent": "x = b'x' * (int(0.85 * (1 << 30)) - (220 << 20))\ndel x",
    # A 4 GiB file read through a read-only map: page cache, not the working set.
    "map_4g_file": (
        "import mmap\n"
        "with open(BIG, 'rb') as f, mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ) as m:\n"
        "    total = sum(m[i] for i in range(0, len(m), 1 << 16))"
    ),
    # 64 GiB reserved PROT_NONE (0; as GPU runtimes, V8 and the JVM do), 100 MiB of it used
    # (0x4000: MAP_NORESERVE).
    "reserve_64g": (
        "import ctypes, mmap\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.mmap.restype = ctypes.c_void_p\n"
        "libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t] + [ctypes.c_int] * 3 + [ctypes.c_long]\n"
        "libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]\n"
        "libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]\n"
        "addr = libc.mmap(None, 64 << 30, 0, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | 0x4000, -1, 0)\n"
        "assert addr not in (None, ctypes.c_void_p(-1).value)\n"
        "assert libc.mprotect(addr, 100 << 20, mmap.PROT_READ | mmap.PROT_WRITE) == 0, ctypes.get_errno()\n"
        "ctypes.memset(addr, 1, 100 << 20)\n"
        "libc.munmap(addr, 64 << 30)"
    ),
    # At half the limit, 8 new threads.
    "threads_at_half": (
        "import threading\n"
        "half = b'h' * ((1 << 29) - (200 << 20))\n"
        "threads = [threading.Thread(target=sum, args=(range(100000),)) for _ in range(8)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "del half"
    ),
}


@pytest.mark.parametrize("kind", sorted(BENIGN_CELLS))
async def test_benign_cells_meet_no_memory_error_and_no_interrupt(guarded, kind, tmp_path):
    server, cgroup = guarded
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        f.truncate(4 * GiB)  # sparse: read through, its pages still fill the page cache
    events_before = len(guard_events(server))
    async with Kernel(server, f"benign-{kind}") as kernel:
        _, reply = await kernel.socket.run(f"BIG = {str(big)!r}")
        for run in range(20):
            _, reply = await kernel.socket.run(BENIGN_CELLS[kind])
            assert reply["status"] == "ok", f"run {run + 1}: {reply}"
        assert resource.prlimit(kernel.pid, resource.RLIMIT_DATA)[0] != resource.RLIM_INFINITY  # fenced
        await assert_survived(kernel)
    assert len(guard_events(server)) == events_before


async def test_switching_off_restores_every_limit_and_on_fences_again(guarded):
    server, _cgroup = guarded
    async with Kernel(server, "switch") as kernel:
        # A descendant too: a child that sleeps, forked from the kernel.
        _, reply = await kernel.socket.run(
            "import subprocess, sys\n"
            "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])"
        )
        assert reply["status"] == "ok", reply
        await asyncio.sleep(1.5)
        with open(f"/proc/{kernel.pid}/task/{kernel.pid}/children") as f:
            (child,) = (int(pid) for pid in f.read().split())
        pids = (kernel.pid, child)

        async def soft_limits():
            return [resource.prlimit(pid, resource.RLIMIT_DATA)[0] for pid in pids]

        for _ in range(50):  # fenced within a walk of the tree
            if all(s != resource.RLIM_INFINITY for s in await soft_limits()):
                break
            await asyncio.sleep(0.1)
        assert all(s != resource.RLIM_INFINITY for s in await soft_limits()), await soft_limits()

        state = request(server, "PUT", "api/metrics/v1/guard", {"enabled": False})
        assert state["enabled"] is False
        for _ in range(50):
            if await soft_limits() == [resource.RLIM_INFINITY] * 2:
                break
            await asyncio.sleep(0.1)
        assert await soft_limits() == [resource.RLIM_INFINITY] * 2
        # Off, a runaway allocation is not refused by us (a smaller one than would be OOM-killed).
        _, reply = await kernel.socket.run("x = b'x' * (700 << 20); del x")
        assert reply["status"] == "ok", reply

        request(server, "PUT", "api/metrics/v1/guard", {"enabled": True})
        for _ in range(50):
            if all(s != resource.RLIM_INFINITY for s in await soft_limits()):
                break
            await asyncio.sleep(0.1)
        assert all(s != resource.RLIM_INFINITY for s in await soft_limits())
        await kernel.socket.run("child.kill()")


async def test_a_limit_the_kernel_set_itself_is_kept(guarded):
    server, _cgroup = guarded
    async with Kernel(server, "own-limit") as kernel:
        await asyncio.sleep(1.5)  # fenced by now
        _, reply = await kernel.socket.run(
            "import resource\nresource.setrlimit(resource.RLIMIT_DATA, (3 << 30, resource.RLIM_INFINITY))"
        )
        assert reply["status"] == "ok", reply
        await asyncio.sleep(1.5)
        assert resource.prlimit(kernel.pid, resource.RLIMIT_DATA)[0] == 3 << 30
        request(server, "PUT", "api/metrics/v1/guard", {"enabled": False})
        await asyncio.sleep(0.5)
        assert resource.prlimit(kernel.pid, resource.RLIMIT_DATA)[0] == 3 << 30
        request(server, "PUT", "api/metrics/v1/guard", {"enabled": True})


def test_bad_switch_requests_are_refused_clearly(guarded):
    server, _cgroup = guarded
    for body in ({}, {"enabled": "yes"}, []):
        with pytest.raises(urllib.error.HTTPError) as info:
            request(server, "PUT", "api/metrics/v1/guard", body)
        assert info.value.code == 400
        info.value.close()


def test_prometheus_counts_the_guards_actions(guarded):
    server, _cgroup = guarded
    counts = request(server, "GET", "api/metrics/v1/guard")["counts"]
    text = server.get("metrics")
    for action in ("fenced", "interrupted"):
        line = f'jupyter_kernel_memory_guard_actions_total{{action="{action}"}} {float(counts[action])}'
        assert line in text, (line, [t for t in text.splitlines() if "guard" in t])


def test_the_metrics_payload_carries_the_guards_summary(guarded):
    server, _cgroup = guarded
    body = server.wait_until(
        "api/metrics/v1", lambda b: b["sample"]["ready"] and b["guard"]["left"] is not None
    )
    assert_valid("metrics", body)
    guard = body["guard"]
    assert guard["enabled"] is True and guard["limit"] == LIMIT
    assert 0 < guard["left"] < LIMIT
    events = guard_events(server)
    assert guard["last_event_id"] == (events[-1]["id"] if events else 0)
    assert_valid("guard", request(server, "GET", "api/metrics/v1/guard"))
    assert_valid("events", server.get("api/metrics/v1/events"))


def worker_pid(server) -> int:
    found = subprocess.run(
        ["pgrep", "-P", str(server.proc.pid), "-f", "jupyter_resource_monitor.worker"],
        capture_output=True,
        text=True,
    ).stdout.split()
    assert len(found) == 1, found
    return int(found[0])


async def test_a_worker_killed_while_fencing_is_replaced_and_limits_still_come_back(guarded):
    """The limits each process had outlive the worker (a file under /dev/shm): the next worker
    fences on and gives back the original, not the dead worker's fence."""
    server, _cgroup = guarded
    async with Kernel(server, "worker-killed") as kernel:
        for _ in range(50):
            if resource.prlimit(kernel.pid, resource.RLIMIT_DATA)[0] != resource.RLIM_INFINITY:
                break
            await asyncio.sleep(0.1)
        first = worker_pid(server)
        os.kill(first, signal.SIGKILL)
        for _ in range(100):  # restarted after its backoff
            await asyncio.sleep(0.2)
            try:
                if worker_pid(server) != first:
                    break
            except AssertionError:
                continue
        assert worker_pid(server) != first
        _, reply = await kernel.socket.run(FENCED_CELLS["bytearray_2g"])
        assert reply["status"] == "error" and reply["ename"] == "MemoryError", reply
        request(server, "PUT", "api/metrics/v1/guard", {"enabled": False})
        for _ in range(50):
            if resource.prlimit(kernel.pid, resource.RLIMIT_DATA)[0] == resource.RLIM_INFINITY:
                break
            await asyncio.sleep(0.1)
        assert resource.prlimit(kernel.pid, resource.RLIMIT_DATA)[0] == resource.RLIM_INFINITY
        request(server, "PUT", "api/metrics/v1/guard", {"enabled": True})


async def test_a_single_c_call_filling_memory_reserved_before_is_still_explained(guarded):
    """What the guard cannot save: two arrays reserved while memory was free (each allowed: the
    fence sees data size, and untouched pages are not the working set), then filled by numpy in C.
    The page faults pass the fence, and an interrupt waits for the C call to return: the OOM
    killer ends the kernel, and the kill is explained as without the guard."""
    server, cgroup = guarded
    kills = cgroup.oom_kills()
    async with Kernel(server, "unsaveable") as kernel:
        _, reply = await kernel.socket.run(
            # Between the two, a step of the guard (at most SLOW_S) re-sizes the fence: each
            # reservation alone fits in what is left.
            "import numpy as np, time\na = np.empty((500 << 20) // 8)\ntime.sleep(2.5)\n"
            "b = np.empty((500 << 20) // 8)"
        )
        assert reply["status"] == "ok", reply
        await kernel.socket.send("a.fill(1.0); b.fill(1.0)")
        body = server.wait_until(
            "api/metrics/v1/events",
            lambda b: any(e["kernel_id"] == kernel.kernel_id for e in b["events"]),
            timeout=60,
        )
    event = [e for e in body["events"] if e["kernel_id"] == kernel.kernel_id][-1]
    assert event["type"] == "oom_kill" and event["path"] == kernel.path and event["limit"] == LIMIT
    assert cgroup.oom_kills() > kills


def kernel_process(server, kernel_id: str) -> int | None:
    """The server's child whose command line names the kernel's connection file."""
    for task in os.listdir(f"/proc/{server.proc.pid}/task"):
        with open(f"/proc/{server.proc.pid}/task/{task}/children") as f:
            for pid in f.read().split():
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                        if f"kernel-{kernel_id}.json".encode() in cmdline.read():
                            return int(pid)
                except OSError:
                    continue
    return None


async def test_a_new_kernel_is_fenced_at_once_not_at_the_next_walk(guarded):
    """With memory still, the guard steps every SLOW_S (2 s); a kernel started then is fenced
    as jupyter_server says it started (its kernel_actions event), before it can run a cell."""
    server, _cgroup = guarded
    await asyncio.sleep(3)  # nothing moves: the guard is in its slow steps
    body = {"path": "work/new.ipynb", "type": "notebook", "name": "new", "kernel": {"name": "python3"}}
    kernel_id = server.post("api/sessions", body)["kernel"]["id"]
    started = time.monotonic()
    try:
        while time.monotonic() - started < 0.5:
            pid = kernel_process(server, kernel_id)
            if pid and resource.prlimit(pid, resource.RLIMIT_DATA)[0] != resource.RLIM_INFINITY:
                break
            await asyncio.sleep(0.01)
        assert pid and resource.prlimit(pid, resource.RLIMIT_DATA)[0] != resource.RLIM_INFINITY, (
            "not fenced within 0.5 s of its start"
        )
    finally:
        request(server, "DELETE", f"api/kernels/{kernel_id}")
