"""What per-cell tracking costs the server: its CPU with ``track_cells`` on and off.

A real ``jupyter server`` (the console script) runs a python3 kernel; this script talks to the
kernel through the server's kernel WebSocket, as JupyterLab does, and reads the server process's
own CPU (utime + stime of its /proc/<pid>/stat: the kernel and the sampling worker are other
processes) before and after each workload:

- ``short cells``: 300 cells of ``x = 1``, each sent when the previous one's reply has come;
- ``100 MB printed``: one cell writing (and flushing) 100 lines of 1 MiB to stdout, read until
  the kernel is idle.

Nobody polls the metrics, so the worker stays stopped: the figures are the server's own. Each
workload runs 3 times per setting, alternating; the table gives the median.

    flock /tmp/timing.lock python benchmarks/cells.py      # from the repository root; ~3 minutes
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests import servers  # noqa: E402
from tests.kernel_ws import KernelSocket, execute_request  # noqa: E402

SHORT_CELLS = 300
# Flushed line by line: 100 stream messages of 1 MiB (unflushed, ipykernel would merge them into
# messages larger than a WebSocket client's read buffer).
PRINT_100MB = (
    "import sys\nline = 'x' * ((1 << 20) - 1) + '\\n'\n"
    "for _ in range(100):\n    sys.stdout.write(line)\n    sys.stdout.flush()"
)
ROUNDS = 3
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


async def until_idle(k: KernelSocket, msg_id: str) -> int:
    """Read every message until the kernel is idle after ``msg_id``; return the bytes received."""
    received = 0
    while True:
        raw = await asyncio.wait_for(k.conn.read_message(), 300)
        assert raw is not None, "the kernel WebSocket closed"
        received += len(raw)
        if isinstance(raw, bytes) or len(raw) > 4096:
            continue  # output, not a status: not decoded, so the reader keeps up with the server
        msg = json.loads(raw)
        if (
            msg["header"]["msg_type"] == "status"
            and msg["parent_header"].get("msg_id") == msg_id
            and msg["content"]["execution_state"] == "idle"
        ):
            return received


async def short_cells(k: KernelSocket) -> None:
    for _ in range(SHORT_CELLS):
        msg = execute_request("x = 1", cell_id="c", session=k.session)
        await k.conn.write_message(json.dumps(msg))
        await until_idle(k, msg["header"]["msg_id"])


async def print_100mb(k: KernelSocket) -> None:
    msg = execute_request(PRINT_100MB, cell_id="p", session=k.session)
    await k.conn.write_message(json.dumps(msg))
    received = await until_idle(k, msg["header"]["msg_id"])
    assert received >= 100 << 20, received


async def measure(tracking: bool) -> dict[str, float]:
    folder = Path(tempfile.mkdtemp()) / "work"
    folder.mkdir()
    # No output rate limit (1 MB/s by default): all 100 MB go through the WebSocket.
    server = servers.ServerProcess(
        folder,
        f"--ResourceMonitor.track_cells={tracking}",
        "--ZMQChannelsWebsocketConnection.iopub_data_rate_limit=0",
    )
    try:
        server.wait_until("api/status", lambda body: True)
        kernel_id = server.post("api/kernels", {"name": "python3"})["id"]
        out = {}
        async with KernelSocket(server, kernel_id) as k:
            await k.run("x = 0")
            for name, workload in (("short", short_cells), ("print", print_100mb)):
                before, t0 = cpu_s(server.proc.pid), time.monotonic()
                await workload(k)
                out[name] = cpu_s(server.proc.pid) - before
                out[name + "_wall"] = time.monotonic() - t0
        if tracking:  # the records are there: the tracking really ran
            body = server.get(f"api/metrics/v1/kernels/{kernel_id}/cells")
            assert len(body["cells"]) >= 200, len(body["cells"])
        return out
    finally:
        server.stop()


def main() -> None:
    results: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    for _ in range(ROUNDS):
        for tracking in (False, True):
            results[tracking].append(asyncio.run(measure(tracking)))
            print(f"tracking {'on' if tracking else 'off'}: {results[tracking][-1]}", file=sys.stderr)

    def med(tracking, key):
        return statistics.median(r[key] for r in results[tracking])

    print("| workload | server CPU, tracking off | server CPU, tracking on | difference |")
    print("|---|---|---|---|")
    off, on = med(False, "short"), med(True, "short")
    print(
        f"| {SHORT_CELLS} short cells | {off:.2f} s ({1000 * off / SHORT_CELLS:.2f} ms/cell) | "
        f"{on:.2f} s ({1000 * on / SHORT_CELLS:.2f} ms/cell) | "
        f"{1000 * (on - off) / SHORT_CELLS:+.3f} ms/cell |"
    )
    off, on = med(False, "print"), med(True, "print")
    print(f"| a cell printing 100 MB | {off:.2f} s | {on:.2f} s | {on - off:+.2f} s |")
    print(
        f"\nmedian of {ROUNDS} runs each; wall: short cells {med(False, 'short_wall'):.1f} s off / "
        f"{med(True, 'short_wall'):.1f} s on, 100 MB {med(False, 'print_wall'):.1f} s off / "
        f"{med(True, 'print_wall'):.1f} s on"
    )


if __name__ == "__main__":
    main()
