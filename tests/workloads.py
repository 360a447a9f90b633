"""Real processes for the tests to measure: a CPU spinner and a parent whose forked children share
its memory copy-on-write, as a notebook's multiprocessing pool does."""

from __future__ import annotations

import os
import subprocess
import sys

import psutil

FORKED = r"""
import os, sys, time
mb, children, busy = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
data = bytearray(mb << 20)
for offset in range(0, len(data), 4096):  # touch every page: resident, then shared after fork
    data[offset] = 1
for i in range(children + busy):
    if os.fork() == 0:
        if i >= children:
            while True:
                pass
        time.sleep(600)
        os._exit(0)
print("READY", flush=True)
time.sleep(600)
"""


def start(mb: int = 0, children: int = 0, busy: int = 0) -> subprocess.Popen:
    """A child of this process holding ``mb`` MiB, forked into ``children`` sleeping and ``busy``
    spinning processes. Returns once all of them exist. Stop it with :func:`stop`."""
    proc = subprocess.Popen(
        [sys.executable, "-c", FORKED, str(mb), str(children), str(busy)], stdout=subprocess.PIPE
    )
    assert proc.stdout.readline().startswith(b"READY")
    return proc


def stop(proc: subprocess.Popen) -> None:
    for child in psutil.Process(proc.pid).children(recursive=True):
        child.kill()
    proc.kill()
    proc.wait()
    proc.stdout.close()


def tree_truth(pid: int = None) -> dict:
    """PSS and RSS summed over ``pid`` (default: this process) and its descendants, the exact and
    expensive way."""
    root = psutil.Process(pid or os.getpid())
    pss = rss = 0
    for p in [root] + root.children(recursive=True):
        try:
            info = p.memory_full_info()
        except psutil.Error:
            continue
        pss += info.pss
        rss += info.rss
    return {"pss": pss, "rss": rss}


# Shapes of fork families: each process holds the same `mb` MiB copy-on-write, and forks the
# processes listed for it: "chain" forks one child that forks one child..., "tree" mixes depths.
SHAPED = r"""
import os, subprocess, sys, time
mb, shape, execs, exec_mb = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
data = bytearray(mb << 20)
for offset in range(0, len(data), 4096):
    data[offset] = 1
# exec'd processes beside the family: same name, same parent, private memory of their own
for _ in range(execs):
    child = subprocess.Popen([sys.executable, "-c",
                              f"d = bytearray({exec_mb} << 20)\nfor o in range(0, len(d), 4096): d[o] = 1\n"
                              "import time; print('R', flush=True); time.sleep(600)"], stdout=subprocess.PIPE)
    child.stdout.readline()
r, w = os.pipe()

def spawn(plan):
    # plan: list of subplans; each child forks its own subplan, then sleeps
    for sub in plan:
        if os.fork() == 0:
            spawn(sub)
            os.write(w, b"x")
            time.sleep(600)
            os._exit(0)

plans = {
    "chain": [[[[[[[]]]]]]],                 # 6 deep below the root
    "tree": [[[], [[[]]]], [], [[], []]],   # depths 1 to 4, mixed fan-out
}
plan = plans[shape]

def count(p):
    return sum(1 + count(s) for s in p)

need = count(plan)
spawn(plan)
got = 0
while got < need:
    got += len(os.read(r, 64))
print("READY", flush=True)
time.sleep(600)
"""


def start_shaped(shape: str, mb: int, execs: int = 0, exec_mb: int = 0) -> subprocess.Popen:
    """A fork family of ``shape`` ("chain" or "tree") sharing ``mb`` MiB, plus ``execs`` exec'd
    children with ``exec_mb`` MiB each of private memory. Returns once all of them exist."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SHAPED, str(mb), shape, str(execs), str(exec_mb)], stdout=subprocess.PIPE
    )
    assert proc.stdout.readline().startswith(b"READY")
    return proc


# Keeps forking short CPU bursts (each child spins `burst_ms` then exits, the parent waits for
# it), as a build or a `subprocess.run` loop does: no child lives long enough to be sampled.
BURSTS = r"""
import os, sys, time
burst, gap = float(sys.argv[1]) / 1000, float(sys.argv[2]) / 1000
print("READY", flush=True)
while True:
    pid = os.fork()
    if pid == 0:
        end = time.process_time() + burst
        while time.process_time() < end:
            pass
        os._exit(0)
    os.waitpid(pid, 0)
    time.sleep(gap)
"""


def start_bursts(burst_ms: int = 40, gap_ms: int = 10) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", BURSTS, str(burst_ms), str(gap_ms)], stdout=subprocess.PIPE
    )
    assert proc.stdout.readline().startswith(b"READY")
    return proc


def cpu_seconds_with_reaped(pid: int) -> float:
    """CPU time of ``pid`` and of every child it has reaped, from the kernel's own account."""
    t = psutil.Process(pid).cpu_times()
    return t.user + t.system + t.children_user + t.children_system
