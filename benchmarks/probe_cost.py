"""What watching the event loop costs the server: its CPU, idle, with ``track_event_loop`` on and
off.

A real ``jupyter server`` runs for ``--seconds`` with one client polling every 5 s (probes flow
only while someone polls; the worker samples in both settings, so sampling costs the same in
each); the server's own CPU (the run time of its threads in schedstat: the worker is another
process) over that time, with the watch on, less the same with it off, divided by the probes sent
(4 a second), is what answering one probe costs the loop. Settings alternate, ``--rounds`` each;
the table gives the median.

    flock /tmp/timing.lock python benchmarks/probe_cost.py      # from the repository root; ~4 min

A last setting, ``bare loop``, is the floor: a bare asyncio loop in a process of its own, woken as
often by a line on a pipe that one reader callback reads. What a probe costs above it is ours.

``--also DIR`` adds a third setting, the watch on with the package of another checkout (``DIR`` put
first on the server's path), measured in the same rounds: absolute figures drift with the machine's
state, so compare settings of one run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests import servers  # noqa: E402

PROBES_PER_S = 4
SETTLE_S = 5.0  # after start: imports, the first requests, the worker's start
POLL_EVERY_S = 5.0


def cpu_s(pid: int) -> float:
    """CPU time of every thread of ``pid``, from schedstat (nanoseconds: /proc/<pid>/stat's
    10 ms ticks are too coarse for a few ms over the run)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/schedstat") as stat:
            total += int(stat.read().split()[0])
    return total / 1e9


def measure(watch: bool, seconds: float, pythonpath: str | None = None) -> float:
    """CPU seconds the server spent over ``seconds``, polled every 5 s."""
    folder = Path(tempfile.mkdtemp()) / "work"
    folder.mkdir()
    env = dict(os.environ, PYTHONPATH=pythonpath) if pythonpath else None
    server = servers.ServerProcess(folder, f"--ResourceMonitor.track_event_loop={watch}", env=env)
    try:
        server.wait_until("api/status", lambda body: True)
        server.get("api/metrics/v1")
        time.sleep(SETTLE_S)
        before, start = cpu_s(server.proc.pid), time.monotonic()
        while (left := start + seconds - time.monotonic()) > 0:
            server.get("api/metrics/v1")  # a client connected: the watch is on
            time.sleep(min(POLL_EVERY_S, left))
        return cpu_s(server.proc.pid) - before
    finally:
        server.stop()


# The writer: a probe-sized line down the pipe (its fd in argv) every 250 ms.
# It ends at EPIPE, when the loop's process is gone.
WRITER = """
import os, sys, time
try:
    while True:
        time.sleep(0.25)
        os.write(int(sys.argv[1]), b"p 1 2.0\\n")
except OSError:
    pass
"""
# A bare asyncio loop: one reader callback for the pipe the writer writes to.
BARE_LOOP = """
import asyncio, os, subprocess, sys
r, w = os.pipe()
writer = subprocess.Popen([sys.executable, "-c", sys.argv[1], str(w)], pass_fds=(w,))
loop = asyncio.new_event_loop()
loop.add_reader(r, lambda: os.read(r, 4096))
print("ready", flush=True)
try:
    loop.run_forever()
finally:
    writer.kill()
"""


def measure_bare(seconds: float) -> float:
    """CPU seconds a bare asyncio loop spent over ``seconds``, woken 4 times a second."""
    loop = subprocess.Popen([sys.executable, "-c", BARE_LOOP, WRITER], stdout=subprocess.PIPE, text=True)
    try:
        loop.stdout.readline()
        time.sleep(SETTLE_S)
        before = cpu_s(loop.pid)
        time.sleep(seconds)
        return cpu_s(loop.pid) - before
    finally:
        loop.terminate()
        loop.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--also", metavar="DIR", help="another checkout, measured with the watch on")
    args = parser.parse_args()
    settings = {"off": (False, None), "on": (True, None)}
    if args.also:
        settings[f"on, {args.also}"] = (True, args.also)
    results: dict[str, list[float]] = {name: [] for name in settings}
    for _ in range(args.rounds):
        for name, (watch, pythonpath) in settings.items():
            results[name].append(measure(watch, args.seconds, pythonpath))
        results.setdefault("bare loop", []).append(measure_bare(args.seconds))
    median = {name: statistics.median(values) for name, values in results.items()}
    probes = PROBES_PER_S * args.seconds
    print(f"idle server, {args.seconds:.0f} s, median of {args.rounds}")
    runs = "; ".join(f"{name} {[round(1000 * v, 1) for v in values]}" for name, values in results.items())
    print(f"all runs, CPU ms: {runs}")
    print("| event-loop watch | CPU, ms per s | per probe, µs |")
    print("|---|---:|---:|")
    for name, value in median.items():
        above = 0.0 if name == "bare loop" else median["off"]  # a bare loop does nothing else
        per_probe = "" if name == "off" else f"{1e6 * (value - above) / probes:.0f}"
        print(f"| {name} | {1000 * value / args.seconds:.3f} | {per_probe} |")


if __name__ == "__main__":
    main()
