"""What a server nobody polls costs at rest: ours (with its worker) against no extension.

Each variant is a real ``jupyter server`` (from a folder of its own, no config files), all running
at the same time so they share the machine's state. Each is polled once (a client came and went),
then left alone for the idle timeout and ``--margin`` seconds more; then the CPU of its whole
process tree (the server, our worker: every thread's run time in schedstat, in ns) and the times
its threads were scheduled are read over ``--seconds``. One JSON line per variant, then a table.

Variants: ``none`` (the extension switched off), ``ours`` (this checkout, defaults: the event-loop
watch on), and with ``--also NAME=DIR`` another checkout's package put first on the server's path
(e.g. ``--also main=/path/to/main``: the same sitting, before and after a change).

usage: python benchmarks/rest_cost.py [--seconds 300] [--idle-timeout 60] [--also NAME=DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from tests import servers  # noqa: E402


def tree(pid: int) -> list[int]:
    out, queue = [], [pid]
    while queue:
        p = queue.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    queue += [int(c) for c in f.read().split()]
        except OSError:
            pass
    return out


def usage(pid: int) -> tuple[int, int, int]:
    """(ns on CPU, timeslices, processes) of every thread of every process in ``pid``'s tree."""
    ns = slices = 0
    procs = tree(pid)
    for p in procs:
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{p}/task/{tid}/schedstat") as f:
                    fields = f.read().split()
                ns += int(fields[0])
                slices += int(fields[2])
            except (OSError, IndexError, ValueError):
                pass
    return ns, slices, len(procs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=300.0, help="length of the measured rest")
    ap.add_argument("--idle-timeout", type=float, default=60.0, help="ResourceMonitor.idle_timeout")
    ap.add_argument("--margin", type=float, default=10.0, help="seconds past the idle timeout first")
    ap.add_argument("--also", action="append", default=[], metavar="NAME=DIR")
    args = ap.parse_args()
    variants = {"none": ("False", ROOT), "ours": ("True", ROOT)}
    for item in args.also:
        name, _, path = item.partition("=")
        variants[name] = ("True", path)
    started = {}
    try:
        for name, (enabled, path) in variants.items():
            folder = Path(tempfile.mkdtemp(prefix=f"jrm-rest-{name}-")) / "work"
            folder.mkdir()
            env = dict(os.environ, PYTHONPATH=path, JUPYTER_NO_CONFIG="1")
            server = servers.ServerProcess(
                folder,
                f"--ServerApp.jpserver_extensions=jupyter_resource_monitor={enabled}",
                f"--ResourceMonitor.idle_timeout={args.idle_timeout}",
                env=env,
            )
            started[name] = server
        for server in started.values():
            server.wait_until("api/status", lambda body: True, timeout=60)
            try:
                server.get("api/metrics/v1")  # a client came
            except Exception:  # noqa: BLE001 - 404 without the extension
                pass
        time.sleep(args.idle_timeout + args.margin)  # and went
        before = {name: usage(s.proc.pid) for name, s in started.items()}
        t0 = time.monotonic()
        time.sleep(args.seconds)
        elapsed = time.monotonic() - t0
        after = {name: usage(s.proc.pid) for name, s in started.items()}
    finally:
        for server in started.values():
            server.stop()
    rows = []
    for name in started:
        ns = after[name][0] - before[name][0]
        row = {
            "variant": name,
            "seconds": round(elapsed, 1),
            "cpu_pct": round(100 * ns / 1e9 / elapsed, 4),
            "wakeups_per_s": round((after[name][1] - before[name][1]) / elapsed, 2),
            "processes": after[name][2],
            "load_1min": round(os.getloadavg()[0], 2),
        }
        rows.append(row)
        print(json.dumps(row))
    print("| variant | CPU at rest, % of one | above none | wake-ups / s | processes |")
    print("|---|---:|---:|---:|---:|")
    base = rows[0]["cpu_pct"]
    for row in rows:
        print(
            f"| {row['variant']} | {row['cpu_pct']:.3f} | {row['cpu_pct'] - base:+.3f} | "
            f"{row['wakeups_per_s']} | {row['processes']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
