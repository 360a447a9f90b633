"""What the fence reads of one process (worker side). Each read is one small /proc file."""

from __future__ import annotations

import os
import re
from typing import NamedTuple

from ..worker import procfs

PROC = "/proc"
# jupyter_client names a kernel's connection file kernel-<id>.json and passes it on the kernel's
# command line (ipykernel, xeus, IRkernel and IJulia alike): that is how a kernel is told from a
# terminal or another child of the server without asking the server.
_CONNECTION_FILE = re.compile(rb"kernel-([0-9a-fA-F-]{8,64})\.json$")
# Device files of GPU runtimes: their drivers were not tried under a data limit.
GPU_DEVICES = ("/dev/nvidia", "/dev/kfd", "/dev/dri/renderD")


class Facts(NamedTuple):
    uid: int  # real uid
    vm_data: int  # bytes of private writable mappings: what RLIMIT_DATA counts
    resident: int  # bytes of anonymous and shared-memory pages resident


def read_facts(pid: int, root: str = PROC) -> Facts | None:
    """The process's uid, data size and resident memory from ``/proc/<pid>/status``; None when it
    is gone or a zombie (no data size)."""
    try:
        with open(f"{root}/{pid}/status", "rb") as f:
            data = f.read()
    except OSError:
        return None
    uid = vm_data = None
    resident = 0
    for line in data.splitlines():
        key, _, value = line.partition(b":")
        if key == b"Uid":
            uid = int(value.split()[0])
        elif key == b"VmData":
            vm_data = int(value.split()[0]) * 1024
        elif key in (b"RssAnon", b"RssShmem"):
            resident += int(value.split()[0]) * 1024
    if uid is None or vm_data is None:
        return None
    return Facts(uid, vm_data, resident)


def cmdline(pid: int, root: str = PROC) -> bytes | None:
    """The process's command line (NUL-separated), or None when it is gone."""
    try:
        with open(f"{root}/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return None


def kernel_id_in(command: bytes | None) -> str | None:
    """The kernel id in a command line's connection-file argument, or None (not a kernel)."""
    for arg in (command or b"").split(b"\0"):
        found = _CONNECTION_FILE.search(arg)
        if found:
            return found.group(1).decode()
    return None


def start_ticks(pid: int, root: str = PROC) -> int | None:
    """When the process started (a PID-reuse key), or None when it is gone."""
    try:
        return procfs.read_stat(pid, root).start_ticks
    except (procfs.ProcfsError, OSError, ValueError, IndexError):
        return None


def children(pid: int, root: str = PROC) -> list[int]:
    """Direct children of ``pid`` (every thread's), empty when it is gone."""
    try:
        return procfs.read_children(pid, 0, root)
    except (procfs.ProcfsError, OSError, ValueError):
        return []


def uses_gpu(pid: int, root: str = PROC) -> bool:
    """Whether the process holds a GPU device open."""
    try:
        fds = os.listdir(f"{root}/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            target = os.readlink(f"{root}/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith(GPU_DEVICES):
            return True
    return False
