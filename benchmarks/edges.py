"""How true the sampler's figures are at the edges, at its default budget, over time.

For each workload the sampler (defaults, as the worker runs it) samples once a second; the table
gives its PSS against psutil's PSS summed over the tree at 5, 10 and 30 s, and its CPU averaged
over the run against the kernel's own account (the root's CPU plus every child it reaped).

    python benchmarks/edges.py            # from the repository root; about 3 minutes

Workloads (tests/workloads.py): a fork chain 6 deep and a tree of mixed depth, each sharing
1 GiB; the tree again with 3 exec'd children of 200 MiB private each beside it (same name and
parent); one process holding 1 GiB forked into 96 sleeping children; a loop forking 40 ms CPU
bursts every 50 ms (no child lives long enough to be sampled).
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from jupyter_resource_monitor.worker.sampler import Sampler  # noqa: E402
from tests import workloads  # noqa: E402

CHECKPOINTS = (5, 10, 30)
GIB = 1 << 30


def run(name, start):
    proc = start()
    try:
        sampler = Sampler(proc.pid)
        t0 = time.monotonic()
        cpu0 = workloads.cpu_seconds_with_reaped(proc.pid)
        ratios, busy, last = {}, 0.0, t0
        for at in CHECKPOINTS:
            while time.monotonic() - t0 < at:
                time.sleep(1.0)
                sample = sampler.sample()
                now = time.monotonic()
                busy += (sample.total.cpu_percent or 0.0) * (now - last)
                last = now
            truth = workloads.tree_truth(proc.pid)["pss"]
            ratios[at] = (sample.total.pss, truth)
        cpu_truth = 100 * (workloads.cpu_seconds_with_reaped(proc.pid) - cpu0) / (last - t0)
        return name, ratios, busy / (last - t0), cpu_truth, sample.total.processes
    finally:
        workloads.stop(proc)


def main():
    rows = [
        run("fork chain, 6 deep, 1 GiB", lambda: workloads.start_shaped("chain", mb=1024)),
        run("fork tree, depths 1-4, 1 GiB", lambda: workloads.start_shaped("tree", mb=1024)),
        run(
            "same tree + 3 exec'd × 200 MiB",
            lambda: workloads.start_shaped("tree", mb=1024, execs=3, exec_mb=200),
        ),
        run("1 GiB forked into 96 siblings", lambda: workloads.start(mb=1024, children=96)),
        run("40 ms CPU bursts forked every 50 ms", lambda: workloads.start_bursts(burst_ms=40, gap_ms=10)),
    ]
    head = "| workload | processes | " + " | ".join(f"PSS at {at} s (reported / truth)" for at in CHECKPOINTS)
    print(head + " | CPU reported / truth |")
    print("|---" * (3 + len(CHECKPOINTS)) + "|")
    for name, ratios, cpu, cpu_truth, processes in rows:
        cells = " | ".join(f"{r / GIB:.2f} / {t / GIB:.2f} GiB = {r / t:.2f}×" for r, t in ratios.values())
        print(f"| {name} | {processes} | {cells} | {cpu:.0f} / {cpu_truth:.0f} % |")


if __name__ == "__main__":
    main()
