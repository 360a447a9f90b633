"""The memory guard: how many kernels survive the runaway corpus with the guard on and off, and
what the guard costs at rest and while re-sizing under a fast allocation loop.

Each run starts a fresh kernel (holding a sentinel) in a real ``jupyter server`` inside a new
1 GiB memory cgroup (root, cgroup v1 or v2), sends one runaway cell of tests/test_memory_guard.py
and counts the run as survived when the same kernel process answers afterwards with its sentinel.
The cost is the worker's CPU (its threads' run time in /proc/<worker>/task/*/schedstat) while
nobody polls: the worker's sampling is paused then, so what it spends is the guard's.

    python benchmarks/guard.py --runs 10    # from the repository root, as root; ~25 minutes
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests import cgroups, servers  # noqa: E402
from tests.kernel_ws import KernelSocket  # noqa: E402
from tests.test_memory_guard import FENCED_CELLS, LIMIT, Kernel, check_sentinel  # noqa: E402

# The second line's case: pages reserved while free, filled after 0.3 GiB was taken elsewhere.
RESERVE_CELL = "import numpy as np\na = np.empty((600 << 20) // 8)"
ELSEWHERE_CELL = "y = b'y' * (300 << 20)"
FILL_CELL = "for i in range(0, len(a), 4):\n    a[i] = 1.0"
SECOND_LINE = "filled later (second line)"
HANG_S = 90.0


def cpu_s(pid: int) -> float:
    """The process's CPU time from its threads' schedstat (nanoseconds: ticks are too coarse for
    a cost of a few hundredths of a percent)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            total += int(f.read().split()[0])
    return total / 1e9


def start(guard: bool, *args: str) -> tuple[servers.ServerProcess, cgroups.MemoryCgroup]:
    cgroup = cgroups.MemoryCgroup(LIMIT)
    folder = Path(tempfile.mkdtemp()) / "work"
    folder.mkdir()
    server = servers.ServerProcess(folder, f"--ResourceMonitor.memory_guard={guard}", *args)
    cgroup.add(server.proc.pid)
    server.wait_until("api/metrics/v1/guard", lambda b: b["enabled"] is guard)
    return server, cgroup


class SetupFailed(Exception):
    """The kernel never got to run the cell (it failed to start, say): the run is taken again."""


async def survives(server, name: str, code: str) -> bool:
    for attempt in range(3):
        try:
            return await _survives(server, f"{name}-{attempt}", code)
        except SetupFailed:
            continue
    raise RuntimeError(f"{name}: no kernel could be set up in 3 attempts")


async def _survives(server, name: str, code: str) -> bool:
    if code is None:  # the second line's case
        try:
            elsewhere = await Kernel(server, f"{name}-elsewhere").__aenter__()
        except Exception as exc:  # noqa: BLE001 - a kernel that would not start
            raise SetupFailed from exc
        try:
            _, reply = await elsewhere.socket.run(ELSEWHERE_CELL)
            if reply["status"] != "ok":
                raise SetupFailed(reply)
            return await _survives(server, name, FILL_CELL)
        finally:
            try:
                await elsewhere.__aexit__(None, None, None)
            except Exception:  # noqa: BLE001 - it may have been the one killed
                pass
    kernel = Kernel(server, name)
    try:
        try:
            await kernel.__aenter__()
        except Exception as exc:  # noqa: BLE001 - a kernel that would not start (a port taken, say)
            raise SetupFailed from exc
        if code == FILL_CELL:
            await kernel.socket.run(RESERVE_CELL)
        msg_id = await kernel.socket.send(code)
        # A runaway cell the guard stops ends in seconds; one that hangs (a pool whose child the
        # OOM killer ended waits for it forever) counts as lost.
        reply = asyncio.ensure_future(kernel.socket.reply(msg_id, timeout=HANG_S))
        while not reply.done():  # a kernel OOM-killed never replies: its process changes
            await asyncio.wait([reply], timeout=0.5)
            if not reply.done() and await kernel.getpid() != kernel.pid:
                reply.cancel()
                return False
        reply.result()
        if await kernel.getpid() != kernel.pid:
            return False
        return (await check_sentinel(kernel.socket))["status"] == "ok"
    except (AssertionError, asyncio.TimeoutError):
        return False
    finally:
        try:
            await kernel.__aexit__(None, None, None)
        except Exception:  # noqa: BLE001 - a kernel that died does not close cleanly
            pass


async def corpus(runs: int) -> dict[str, dict[bool, int]]:
    kinds = {**FENCED_CELLS, SECOND_LINE: None}
    results = {kind: {True: 0, False: 0} for kind in kinds}
    for guard in (True, False):
        server, cgroup = start(guard)
        try:
            for kind, code in kinds.items():
                for run in range(runs):
                    ok = await survives(server, f"{kind.split()[0]}-{run}", code)
                    results[kind][guard] += ok
                    outcome = "survived" if ok else "lost"
                    print(f"guard {'on ' if guard else 'off'} {kind}: run {run + 1} {outcome}", flush=True)
        finally:
            server.stop()
            cgroup.remove()
    return results


async def cost(seconds: float) -> dict[str, float]:
    # The event-loop watch off and sampling pausing 5 s after the last poll: the worker's CPU at
    # rest is then the guard's (and its paused main thread's, which waits on a pipe).
    server, cgroup = start(
        True, "--ResourceMonitor.track_event_loop=False", "--ResourceMonitor.idle_timeout=5"
    )
    try:
        body = {"path": "work/cost.ipynb", "type": "notebook", "name": "cost", "kernel": {"name": "python3"}}
        kernel_id = server.post("api/sessions", body)["kernel"]["id"]
        found = os.popen(f"pgrep -P {server.proc.pid} -f jupyter_resource_monitor.worker").read()
        worker = int(found.split()[0])
        await asyncio.sleep(15)  # the kernel up and still, the worker paused
        before, t0 = cpu_s(worker), time.monotonic()
        await asyncio.sleep(seconds)
        rest = 100 * (cpu_s(worker) - before) / (time.monotonic() - t0)
        # A fast allocation loop: 1 MiB chunks, freed and taken again, for 30 s.
        loop = (
            "import time\nend = time.monotonic() + 30\nhog = []\n"
            "while time.monotonic() < end:\n    hog.append(b'x' * (1 << 20))\n"
            "    if len(hog) > 400: hog.clear()"
        )
        async with KernelSocket(server, kernel_id) as socket:
            before, t0 = cpu_s(worker), time.monotonic()
            _, reply = await socket.run(loop)
            busy = 100 * (cpu_s(worker) - before) / (time.monotonic() - t0)
        assert reply["status"] == "ok", reply
        return {"rest_percent": rest, "allocating_percent": busy}
    finally:
        server.stop()
        cgroup.remove()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=300.0, help="of rest")
    parser.add_argument("--skip-corpus", action="store_true")
    args = parser.parse_args()
    if not args.skip_corpus:
        results = asyncio.run(corpus(args.runs))
        print("\n| runaway cell | survived, guard on | survived, guard off |\n|---|---:|---:|")
        for kind, by in results.items():
            print(f"| {kind} | {by[True]} / {args.runs} | {by[False]} / {args.runs} |")
    measured = asyncio.run(cost(args.seconds))
    print(
        f"\nguard CPU (worker, sampling paused): at rest {measured['rest_percent']:.3f} % of a CPU; "
        f"under a 1 MiB allocation loop {measured['allocating_percent']:.3f} %"
    )


if __name__ == "__main__":
    main()
