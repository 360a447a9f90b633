"""What the sampling worker costs, read from /proc, while its process tree changes.

A real worker, started as the supervisor starts it, samples the tree of this script and is
demanded every second (as by a polling client). A workload then changes the tree:

- ``new``: ``--procs`` sleeping children of a process holding ``--mem-gb`` GiB appear at once
  (benchmarks/workload.py), after ``--settle`` seconds of an idle tree;
- ``churn``: a process starts ``--rate`` short-lived processes a second (forked; ``--exec``:
  each runs /bin/sleep), each living ``--life`` seconds.

The worker's CPU (utime + stime of /proc/<worker>/stat, every thread) is read every 100 ms and
reported over windows counted from the workload's start (``--window`` seconds each, plus the
20 s window that starts 3 s in), next to what the worker said of itself in its last report
(``monitor_cpu_percent``, its own CPU over its last ~10 s) and /proc over the same stretch.
``--phases`` instead runs the worker's sampling in this process against the same workload and
prints the CPU of each phase of a sample (thread time), for profiling. One JSON line on stdout.

usage:
  python benchmarks/worker_cost.py --scenario new --procs 1000 [--mem-gb 0.05] [--duration 30]
  python benchmarks/worker_cost.py --scenario churn --rate 50 [--exec] [--duration 30]
  add --pythonpath DIR to run a checkout's worker, --phases to profile in process.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

CHURN = r"""
import os, sys, time
rate, life, execs = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3] == "1"
print("READY", flush=True)
live = []
next_at = time.monotonic()
while True:
    now = time.monotonic()
    if now >= next_at:
        next_at += 1 / rate
        if execs:
            pid = os.posix_spawn("/bin/sleep", ["sleep", str(life)], os.environ)
        else:
            pid = os.fork()
            if pid == 0:
                time.sleep(life)
                os._exit(0)
        live.append(pid)
    while live:
        done, _ = os.waitpid(-1, os.WNOHANG)
        if not done:
            break
        live.remove(done)
    time.sleep(max(0.0, min(next_at - time.monotonic(), 0.01)))
"""


def start_workload(args) -> subprocess.Popen:
    if args.scenario == "new":
        command = [
            sys.executable,
            os.path.join(HERE, "workload.py"),
            "--procs",
            str(args.procs),
            "--mem-gb",
            str(args.mem_gb),
            "--lifetime",
            str(args.duration + 600),
        ]
    else:
        command = [sys.executable, "-c", CHURN, str(args.rate), str(args.life), "1" if args.exec else "0"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE)
    line = proc.stdout.readline()
    assert line.startswith(b"READY"), line
    return proc


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as f:
        fields = f.read().rpartition(b")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def windows(readings, start: float, length: float, duration: float) -> list[dict]:
    """CPU percent of the worker over consecutive windows from ``start``, and over the 20 s
    window that starts 3 s in."""

    def at(t):
        return min(readings, key=lambda item: abs(item[0] - t))[1]

    spans = [(start + i, start + min(i + length, duration)) for i in range(0, int(duration), int(length))]
    spans.append((start + 3, start + 23))
    out = []
    for a, b in spans:
        if b - a <= 0 or b > readings[-1][0] + 0.2:
            continue
        out.append(
            {
                "from_s": round(a - start, 1),
                "to_s": round(b - start, 1),
                "cpu_pct": round(100 * (at(b) - at(a)) / (b - a), 2),
            }
        )
    return out


def run_process(args) -> dict:
    sys.path.insert(0, args.pythonpath or os.path.dirname(HERE))
    from jupyter_resource_monitor.tracking.supervisor import worker_command
    from jupyter_resource_monitor.worker.main import WorkerOptions

    env = dict(os.environ)
    if args.pythonpath:
        env["PYTHONPATH"] = args.pythonpath + os.pathsep + env.get("PYTHONPATH", "")
    options = WorkerOptions(root_pid=os.getpid(), idle_timeout_s=0)
    worker = subprocess.Popen(
        worker_command(options), stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd="/", env=env
    )
    readings: list[tuple[float, float]] = []
    reports: list[tuple[float, dict]] = []
    buffer = b""
    load = None
    try:

        def pump(seconds: float) -> None:
            nonlocal buffer
            end = time.monotonic() + seconds
            next_demand = 0.0
            while time.monotonic() < end:
                now = time.monotonic()
                if now >= next_demand:
                    worker.stdin.write(b"d\n")
                    worker.stdin.flush()
                    next_demand = now + 1.0
                readings.append((now, cpu_seconds(worker.pid)))
                ready, _, _ = select.select([worker.stdout], [], [], 0.1)
                if ready:
                    buffer += os.read(worker.stdout.fileno(), 1 << 22)
                    *lines, buffer = buffer.split(b"\n")
                    for line in lines:
                        if line.startswith(b'{"taken_at"'):
                            reports.append((time.monotonic(), json.loads(line)))

        pump(args.settle)
        before = len(reports)
        load = start_workload(args)
        started = time.monotonic()
        pump(args.duration)
    finally:
        worker.kill()
        worker.wait()
        if load is not None:
            stop(load)
    after = [snap for _, snap in reports[before:]]

    def at(t):
        return min(readings, key=lambda item: abs(item[0] - t))[1]

    last = after[-1] if after else None
    # /proc over exactly the stretch the worker's last report covers
    same_window = (
        round(
            100
            * (at(last["taken_monotonic"]) - at(last["taken_monotonic"] - last["monitor_cpu_window_s"]))
            / last["monitor_cpu_window_s"],
            2,
        )
        if last and last.get("monitor_cpu_window_s")
        else None
    )
    return {
        "scenario": args.scenario,
        "procs": args.procs if args.scenario == "new" else None,
        "rate": args.rate if args.scenario == "churn" else None,
        "exec": args.exec if args.scenario == "churn" else None,
        "duration_s": args.duration,
        "load_1min": round(os.getloadavg()[0], 2),
        "windows": windows(readings, started, args.window, args.duration),
        "self_report_last": last["monitor_cpu_percent"] if last else None,
        "self_report_window_s": last.get("monitor_cpu_window_s") if last else None,
        "proc_same_window": same_window,
        "samples": len(after),
        "seen_max": max((s["seen"] for s in after), default=None),
        "interval_max_s": max((s["interval_s"] for s in after), default=None),
    }


def run_phases(args) -> dict:
    sys.path.insert(0, args.pythonpath or os.path.dirname(HERE))
    from jupyter_resource_monitor.snapshot import encode
    from jupyter_resource_monitor.worker import sampler as sampler_module
    from jupyter_resource_monitor.worker import schedstat
    from jupyter_resource_monitor.worker.main import WALK_CPU_SHARE, Monitor, OwnCpu, WorkerOptions

    spent: collections.Counter = collections.Counter()

    def timed(cls, name, label):
        real = getattr(cls, name)

        def wrapper(*a, **k):
            t0 = time.thread_time()
            try:
                return real(*a, **k)
            finally:
                spent[label] += time.thread_time() - t0

        setattr(cls, name, wrapper)

    timed(sampler_module.Sampler, "_walk", "walk (stat, children)")
    timed(sampler_module.Sampler, "_read_pss", "exact readings")
    timed(sampler_module.Sampler, "_estimate", "estimates")
    timed(sampler_module.Sampler, "_totals", "totals")
    timed(sampler_module.Sampler, "_expect_reaped", "reaped bookkeeping")
    timed(schedstat.CpuWait, "update", "cpu waiting (schedstat)")
    monitor = Monitor(WorkerOptions(root_pid=os.getpid()))
    own = OwnCpu()
    load = start_workload(args)
    started, cpu0 = time.monotonic(), time.thread_time()
    interval, samples = 1.0, 0
    try:
        while time.monotonic() - started < args.duration:
            at, t0 = time.monotonic(), time.thread_time()
            snapshot = monitor.snapshot(interval, own)
            t1 = time.thread_time()
            encode(snapshot)
            spent["encode"] += time.thread_time() - t1
            spent["whole sample"] += time.thread_time() - t0
            samples += 1
            interval = max(1.0, (time.thread_time() - t0 - monitor.sampler.last_pss_cost_s) / WALK_CPU_SHARE)
            time.sleep(max(0.0, at + interval - time.monotonic()))
    finally:
        stop(load)
    elapsed = time.monotonic() - started
    return {
        "scenario": args.scenario,
        "samples": samples,
        "cpu_pct": round(100 * (time.thread_time() - cpu0) / elapsed, 2),
        "ms_per_sample": {k: round(1000 * v / samples, 2) for k, v in spent.most_common()},
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", choices=("new", "churn"), default="new")
    ap.add_argument("--procs", type=int, default=1000, help="new: sleeping children")
    ap.add_argument("--mem-gb", type=float, default=0.05, help="new: GiB their parent holds")
    ap.add_argument("--rate", type=float, default=50.0, help="churn: processes started per second")
    ap.add_argument("--life", type=float, default=0.2, help="churn: seconds each one lives")
    ap.add_argument("--exec", action="store_true", help="churn: each runs /bin/sleep (exec'd)")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds measured from the workload's start")
    ap.add_argument("--settle", type=float, default=5.0, help="seconds of an idle tree before it")
    ap.add_argument("--window", type=float, default=10.0, help="seconds per reported window")
    ap.add_argument("--pythonpath", help="a checkout to run the worker from")
    ap.add_argument("--phases", action="store_true", help="profile the phases of a sample in process")
    args = ap.parse_args()
    result = run_phases(args) if args.phases else run_process(args)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
