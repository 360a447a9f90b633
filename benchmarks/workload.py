"""The incident workload: one process holding a lot of memory, forked into many idle children.

The parent maps ``--mem-gb`` GiB of anonymous memory and writes to every page, so all of it is
resident, then forks ``--procs`` children that sleep and ``--busy`` children that spin on a CPU.
Every child shares the parent's pages copy-on-write, so each child's ``/proc/<pid>/smaps_rollup``
walks the whole region: a monitor that reads it for every process pays ``procs + busy + 1`` times
the cost of one big process, while the true PSS of the family stays about ``--mem-gb``.
The busy children give a known CPU figure: the family burns about ``busy * 100`` %.

When every child is forked it prints one line, ``READY pid=<parent pid> children=<n>``, and then
waits. SIGTERM, SIGHUP (the terminal that runs it closed) or SIGINT kill the children and exit.
Children also die with the parent (``PR_SET_PDEATHSIG``), so a SIGKILLed parent leaves nothing
behind. Everything stops by itself after ``--lifetime`` seconds.

Linux only.

usage: python workload.py [--procs 96] [--mem-gb 2] [--busy 0] [--lifetime 3600]
"""

import argparse
import ctypes
import mmap
import os
import signal
import sys
import time

PAGE = mmap.PAGESIZE
CHUNK = 64 << 20  # bytes written per slice while filling the region
PR_SET_PDEATHSIG = 1  # prctl(2)


def fill(size: int) -> mmap.mmap:
    """Map ``size`` bytes of private anonymous memory and make every page resident.

    Non-zero bytes are written (not only read) so that each page gets its own frame instead of the
    shared zero page.
    """
    region = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    block = b"\x01" * CHUNK
    for start in range(0, size, CHUNK):
        end = min(size, start + CHUNK)
        region[start:end] = block[: end - start]
    return region


def die_with_parent(parent: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent exits (prctl(2) PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    # The parent may have exited between fork() and prctl(): the signal would then never come.
    if os.getppid() != parent:
        os._exit(0)


def child(parent: int, busy: bool, deadline: float) -> None:
    """Body of a forked child: sleep (or spin) until killed or until ``deadline``; never returns."""
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    die_with_parent(parent)
    try:
        if busy:
            while time.monotonic() < deadline:
                pass
        else:
            while time.monotonic() < deadline:
                time.sleep(min(60.0, max(0.0, deadline - time.monotonic())))
    finally:
        os._exit(0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--procs", type=int, default=96, help="sleeping children")
    ap.add_argument("--mem-gb", type=float, default=2.0, help="GiB the parent fills before forking")
    ap.add_argument("--busy", type=int, default=0, help="children that spin on a CPU")
    ap.add_argument(
        "--lifetime", type=float, default=3600.0, help="seconds after which everything exits by itself"
    )
    args = ap.parse_args()

    size = max(PAGE, int(args.mem_gb * (1 << 30)) // PAGE * PAGE)
    region = fill(size)
    deadline = time.monotonic() + args.lifetime
    parent = os.getpid()
    children = []

    def stop(*_):
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in children:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        os._exit(0)

    # Installed before forking, so a signal during the forks still cleans up; children reset them.
    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, stop)

    for i in range(args.procs + args.busy):
        pid = os.fork()
        if pid == 0:
            child(parent, busy=i >= args.procs, deadline=deadline)
        children.append(pid)

    print(f"READY pid={parent} children={len(children)} bytes={size}", flush=True)
    while time.monotonic() < deadline:
        time.sleep(min(60.0, max(0.0, deadline - time.monotonic())))
    del region
    stop()


if __name__ == "__main__":
    sys.exit(main())
