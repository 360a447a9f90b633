"""Per-kernel usage: each running kernel's subtree, read from the shared snapshot.

No message goes to the kernel (jupyter-resource-usage asks over the control channel, which only
ipykernel answers): the worker already sampled every descendant of the server, and a local
kernel is a direct child of it, so its subtree's usage is in ``Snapshot.subtrees``.
"""

from __future__ import annotations

import socket
from typing import Any

from ..snapshot import Snapshot
from ..tracking.tracker import kernel_pid
from ..worker.limits import whole_cpus


def kernel_usage(kernel_manager, kernel_id: str, snap: Snapshot | None, tracker=None) -> dict[str, Any]:
    """One kernel's usage. Raises ``KeyError`` for an id the kernel manager does not know.
    With a :class:`~.tracker.Tracker`: its session's path and its OOM kills."""
    if kernel_id not in kernel_manager:
        raise KeyError(kernel_id)
    kernel = kernel_manager.get_kernel(kernel_id)
    pid = kernel_pid(kernel_manager, kernel_id)
    usage = snap.subtrees.get(pid) if snap is not None and pid is not None else None
    out: dict[str, Any] = {
        "id": kernel_id,
        "name": getattr(kernel, "kernel_name", None),
        "pid": pid,
        "available": usage is not None,
        "memory": None,
        "rss": None,
        "pss": None,
        "cpu_percent": None,
        "processes": None,
        "cpu_wait_percent": None,
    }
    if tracker is not None:
        session = tracker.session_of(kernel_id) or {}
        out["path"], out["session_type"] = session.get("path"), session.get("type")
        out["oom_events"] = [
            {
                "id": e.id,
                "time": e.time,
                "kernel_memory": e.kernel_memory,
                "server_memory": e.server_memory,
                "limit": e.limit,
            }
            for e in tracker.events_for(kernel_id)
        ]
    if usage is not None:
        out.update(
            memory=usage.pss,
            rss=usage.rss,
            pss=usage.pss,
            cpu_percent=usage.cpu_percent,
            processes=usage.processes,
            cpu_wait_percent=usage.cpu_wait_percent,
        )
    elif pid is None:
        out["reason"] = "not a local process"  # e.g. a kernel behind a gateway
    elif snap is not None and snap.left_out:
        out["reason"] = "left out by the process cap"
    else:
        out["reason"] = "not sampled yet"  # started after the latest sample
    return out


def all_kernels(kernel_manager, snap: Snapshot | None, tracker=None) -> list[dict[str, Any]]:
    """Usage of every running kernel, in the kernel manager's order."""
    kernels = []
    for kernel_id in list(kernel_manager.list_kernel_ids()):
        try:
            kernels.append(kernel_usage(kernel_manager, kernel_id, snap, tracker))
        except KeyError:
            continue  # shut down while we looked
    return kernels


def usage_reply(kernel_manager, kernel_id: str, snap: Snapshot | None, tracker=None) -> dict[str, Any]:
    """What jupyter-resource-usage's ``kernel_usage/get_usage/<id>`` returns, so its kernel panel
    keeps working: the content of an ipykernel ``usage_reply``, here from our snapshot."""
    usage = kernel_usage(kernel_manager, kernel_id, snap)
    if not usage["available"]:
        return {"content": {"reason": usage["reason"]}, "kernel_id": kernel_id}
    return {
        "msg_type": "usage_reply",
        "kernel_id": kernel_id,
        "content": {
            "hostname": socket.gethostname(),
            "pid": usage["pid"],
            "kernel_cpu": usage["cpu_percent"] or 0.0,
            "kernel_memory": usage["memory"],
            "cpu_count": whole_cpus(snap.cpu_count),
            "host_usage_flag": False,  # host figures would need /proc work here: not offered
        },
    }
