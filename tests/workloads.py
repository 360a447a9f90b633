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
    proc = subprocess.Popen([sys.executable, "-c", FORKED, str(mb), str(children), str(busy)],
                            stdout=subprocess.PIPE)
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
