"""What watching the event loop costs the server: its CPU, idle, with ``track_event_loop`` on and
off.

A real ``jupyter server`` runs with nobody polling (so the worker only probes, it does not sample)
for ``--seconds``; the server's own CPU (the run time of its threads in schedstat: the worker is another
process) over that time, with the watch on, less the same with it off, divided by the probes sent
(4 a second), is what answering one probe costs the loop. Settings alternate, ``--rounds`` each;
the table gives the median.

    flock /tmp/timing.lock python benchmarks/probe_cost.py      # from the repository root; ~4 min

To compare another checkout of the package, put it first on the path: ``PYTHONPATH=<checkout>``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests import servers  # noqa: E402

PROBES_PER_S = 4
SETTLE_S = 5.0  # after start: imports, the first requests, the worker's start


def cpu_s(pid: int) -> float:
    """CPU time of every thread of ``pid``, from schedstat (nanoseconds: /proc/<pid>/stat's
    10 ms ticks are too coarse for a few ms over the run)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/schedstat") as stat:
            total += int(stat.read().split()[0])
    return total / 1e9


def measure(watch: bool, seconds: float) -> float:
    """CPU seconds the idle server spent over ``seconds``."""
    folder = Path(tempfile.mkdtemp()) / "work"
    folder.mkdir()
    server = servers.ServerProcess(folder, f"--ResourceMonitor.track_event_loop={watch}")
    try:
        server.wait_until("api/status", lambda body: True)
        time.sleep(SETTLE_S)
        before = cpu_s(server.proc.pid)
        time.sleep(seconds)
        return cpu_s(server.proc.pid) - before
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    results: dict[bool, list[float]] = {True: [], False: []}
    for _ in range(args.rounds):
        for watch in (False, True):
            results[watch].append(measure(watch, args.seconds))
    off, on = statistics.median(results[False]), statistics.median(results[True])
    probes = PROBES_PER_S * args.seconds
    print(f"idle server, {args.seconds:.0f} s, median of {args.rounds}")
    print(f"all runs, CPU s: on {results[True]}, off {results[False]}")
    print("| event-loop watch | server CPU, ms per s | per probe, µs |")
    print("|---|---:|---:|")
    print(f"| off | {1000 * off / args.seconds:.3f} | |")
    print(f"| on | {1000 * on / args.seconds:.3f} | {1e6 * (on - off) / probes:.0f} |")


if __name__ == "__main__":
    main()
