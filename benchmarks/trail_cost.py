"""What the kernels' trail (cells/trail.py) costs: the worker's thread following kernels
(% of one CPU) and the server's lookup of one late boundary (µs on the event loop).

The writer runs as in the worker, a thread reading real processes (sleeping Pythons standing in
for kernels with cells queued) every 10 ms; its CPU is read from /proc for its thread alone.

    python benchmarks/trail_cost.py                 # from the repository root; ~1 minute
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jupyter_resource_monitor.cells.trail import Trail, TrailWriter  # noqa: E402

SECONDS = 20
TICKS = os.sysconf("SC_CLK_TCK")


def thread_ticks(tid: int) -> int:
    with open(f"/proc/self/task/{tid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return int(fields[11]) + int(fields[12])


def follow(kernels: int) -> tuple[float, float]:
    """(% of a CPU the writer's thread used, µs per lookup) while following ``kernels``."""
    writer: TrailWriter | None = None
    trail = Trail(lambda line: writer.command(json.loads(line[2:])) or True)
    writer = TrailWriter(trail.fd)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    children = [subprocess.Popen(sleeper) for _ in range(kernels)]
    try:
        for child in children:
            trail.follow(child.pid)
        time.sleep(1)
        start, ticks = time.monotonic(), thread_ticks(thread.native_id)
        time.sleep(SECONDS)
        used = (thread_ticks(thread.native_id) - ticks) / TICKS / (time.monotonic() - start)
        # A boundary 0.5 s late: what the server does on its loop when one arrives.
        when, n = time.time() - 0.5, 1000
        began = time.perf_counter()
        for _ in range(n):
            assert trail.at(children[0].pid, when, None) is not None
        lookup_us = (time.perf_counter() - began) / n * 1e6
        return used * 100, lookup_us
    finally:
        for child in children:
            child.kill()
            child.wait()
        writer.stop()
        thread.join(5)


def main() -> None:
    print("| kernels followed | writer thread, % of a CPU | one lookup, 0.5 s back |")
    print("|---|---|---|")
    for kernels in (1, 4, 8):
        cpu, lookup = follow(kernels)
        print(f"| {kernels} | {cpu:.2f} % | {lookup:.0f} µs |")


if __name__ == "__main__":
    main()
