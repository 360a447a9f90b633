"""What the worker's cgroup readings cost: the fast working-set reading (kept files re-read with
``os.pread``) against opening the same files each time, and a sample's cgroup readings with the
layout resolved once against looking the cgroup up for every figure.

Needs a memory cgroup with a limit for the working set: when this process has none and runs as
root, it measures inside a new v1 or v2 memory cgroup (limit half the host's memory, removed
afterwards), made as
the tests make theirs. Prints one JSON line (µs per call, medians of 5 rounds).

usage: python benchmarks/cgroup_reads.py [--calls 20000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from jupyter_resource_monitor.worker import cgroup_memory, cpu_quota, limits, pressure  # noqa: E402
from jupyter_resource_monitor.worker.cgroups import (  # noqa: E402
    Cgroups,
    parse_int,
    parse_limit_bytes,
    read_keyed,
    read_text,
)


def per_call_us(fn, calls: int, rounds: int = 5) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls * 1e6)
    return round(statistics.median(times), 2)


def measure(calls: int) -> dict:
    cg = Cgroups()
    found = cg.memory_limit()
    out: dict = {
        "memory_cgroup": found.directory if found else None,
        "version": found.version if found else None,
    }
    if found is not None:
        v2 = found.version == 2
        usage = os.path.join(found.directory, "memory.current" if v2 else "memory.usage_in_bytes")
        stat = os.path.join(found.directory, "memory.stat")
        limit = os.path.join(found.directory, "memory.max" if v2 else "memory.limit_in_bytes")
        key = "inactive_file" if v2 else "total_inactive_file"

        def reopened():
            u = parse_int(read_text(usage))
            inactive = read_keyed(stat).get(key, 0)
            return u - inactive, parse_limit_bytes(read_text(limit))

        assert cg.working_set() is not None
        out["working_set_kept_us"] = per_call_us(cg.working_set, calls)
        out["working_set_reopened_us"] = per_call_us(reopened, calls)

    options = dict(configured=None, env_value=None)
    window = cpu_quota.ThrottleWindow()

    def resolved_once():
        cg.refresh()
        limits.memory_limit(**options, cgroups=cg)
        limits.cpu_limit(**options, cgroups=cg)
        limits.effective_cpu_count(cgroups=cg)
        cgroup_memory.read_cgroup_memory(cgroups=cg)
        cgroup_memory.read_oom_counter(cgroups=cg)
        cpu_quota.read_cpu_throttle(cg, window)
        pressure.read_psi(cgroups=cg)

    def looked_up_each_time():
        # what a sample did when every figure resolved the cgroup again
        limits.memory_limit(**options)
        limits.cpu_limit(**options)
        limits.effective_cpu_count()
        cgroup_memory.read_cgroup_memory()
        cgroup_memory.read_oom_counter()
        cpu_quota.read_cpu_throttle(Cgroups(), window)
        pressure.read_psi()

    out["sample_resolved_once_us"] = per_call_us(resolved_once, max(1, calls // 20))
    out["sample_looked_up_each_time_us"] = per_call_us(looked_up_each_time, max(1, calls // 20))
    cg.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=20000)
    args = ap.parse_args()
    made = None
    if Cgroups().memory_limit() is None and os.geteuid() == 0:
        from tests.cgroups import MemoryCgroup, unavailable

        if unavailable() is None:
            with open("/proc/self/cgroup") as f:
                before = f.read()
            made = MemoryCgroup(Cgroups().host_memory_total // 2)
            made.add(os.getpid())
    try:
        result = measure(args.calls)
    finally:
        if made is not None:
            # Back to where this process was, so the new cgroup can be removed.
            version = made.version
            for line in before.splitlines():
                _, controllers, path = line.split(":", 2)
                if (version == 1 and "memory" in controllers.split(",")) or (
                    version == 2 and controllers == ""
                ):
                    mount = "/sys/fs/cgroup/memory" if version == 1 else "/sys/fs/cgroup"
                    with open(os.path.join(mount, path.lstrip("/"), "cgroup.procs"), "w") as f:
                        f.write(str(os.getpid()))
            made.remove()
            result["made_cgroup"] = True
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
