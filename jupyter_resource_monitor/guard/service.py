"""The guard on the server's side: its switch, the second line and what it tells the user.

Everything here runs on the event loop and is O(1) per call: a worker status line, an execute reply
on its way to a client, a route's read. The fences themselves are set by the worker's thread
(:mod:`.fence`).
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import json
import logging
import resource
import time
from collections.abc import Callable
from typing import Any

from ..worker.cgroups import Cgroups
from . import headroom
from .fence import GuardOptions

MAX_EVENTS = 100
# jupyter_server's own events of kernels started, restarted, interrupted and shut down.
KERNEL_ACTIONS_SCHEMA_ID = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
# The error names kernels give a failed allocation: Python's, Julia's; R's is recognised by its
# message (an ordinary "error").
MEMORY_ERRORS = frozenset({"MemoryError", "OutOfMemoryError", "std::bad_alloc", "bad_alloc"})
MEMORY_ERROR_TEXT = ("cannot allocate vector", "Unable to allocate", "std::bad_alloc")
# A kernel is interrupted at most once in this many seconds (the interrupt takes a moment).
INTERRUPT_EVERY_S = 5.0


def guard_options(config, cgroup_limit: int | None, env_limit: str | None) -> GuardOptions | None:
    """The worker's guard options from the configuration, or None (no guard).

    By default the guard is on where a cgroup limit applies: the limit the OOM killer enforces.
    A limit that is only configured (``mem_limit``, ``MEM_LIMIT``, with no cgroup limit) is often
    a figure to display that nothing enforces, and may be below what the server already uses:
    fencing against it would refuse healthy kernels their memory, so there the guard acts only
    when switched on (``memory_guard = True``), as against the host's memory without any limit.
    """
    configured = config.mem_limit if isinstance(config.mem_limit, int) else 0
    if not configured and env_limit and env_limit.strip().isdigit():
        configured = int(env_limit)
    if config.memory_guard is False or (config.memory_guard is None and not cgroup_limit):
        return None
    return GuardOptions(
        enabled=True,
        mem_limit=configured,
        host=not cgroup_limit and not configured,
        reserve_fraction=config.memory_guard_reserve,
        reserve_min=config.memory_guard_reserve_min,
        interrupt_at=config.memory_guard_interrupt_at,
    )


def is_memory_error(content: dict) -> bool:
    """Whether an execute reply's content says an allocation failed."""
    if content.get("status") != "error":
        return False
    ename = str(content.get("ename") or "")
    # xeus-python names the class as its repr: "<class 'MemoryError'>".
    if ename in MEMORY_ERRORS or "MemoryError" in ename:
        return True
    text = str(content.get("evalue") or "")
    return any(part in text for part in MEMORY_ERROR_TEXT)


def fenced(pid: int | None) -> bool:
    """Whether a process carries a data limit now (ours, or its own)."""
    if pid is None:
        return False
    try:
        soft, _hard = resource.prlimit(pid, resource.RLIMIT_DATA)
    except OSError:
        return False
    return soft != resource.RLIM_INFINITY


class GuardService:
    """The guard's switch and its record of what it did."""

    def __init__(
        self,
        supervisor,
        kernel_manager,
        options: GuardOptions | None,
        pid_of: Callable[[str], int | None],
        session_of: Callable[[str], dict | None] = lambda kernel_id: None,
        session_manager=None,
        log: logging.Logger | None = None,
    ):
        self.supervisor = supervisor
        self.kernel_manager = kernel_manager
        self.options = options
        self.pid_of = pid_of
        self.session_of = session_of
        self.session_manager = session_manager
        self.log = log or logging.getLogger(__name__)
        self.available = options is not None
        self.enabled = self.available
        self.events: collections.deque[dict[str, Any]] = collections.deque(maxlen=MAX_EVENTS)
        self.counts = {"fenced": 0, "interrupted": 0}
        self.listeners: list[Callable[[dict], None]] = []  # the event bus
        # Notes on a cell's record what the guard did: (kernel id, msg id or None, action).
        self.marks: Callable[[str, str | None, str], None] = lambda kernel_id, msg_id, action: None
        self._interrupted_at: dict[str, float] = {}
        self._last_state: dict | None = None
        if self.available:
            supervisor.status_listeners.append(self.on_status_line)

    # -- the switch ---------------------------------------------------------------------------------

    def set_enabled(self, enabled: bool) -> bool:
        """Switch the guard on or off (off gives every kernel its limit back); returns the new
        state. Without a guard (no limit applies), it stays off."""
        if not self.available:
            return False
        self.enabled = bool(enabled)
        line = b"g " + json.dumps({"enabled": self.enabled}).encode() + b"\n"
        self.supervisor.greeting = [line]  # a restarted worker starts in the same state
        self.supervisor.send(line)
        return self.enabled

    async def on_kernel_action(self, logger=None, schema_id: str = "", data: dict | None = None) -> None:
        """jupyter_server's kernel_actions event (its bus calls listeners with these keywords):
        a kernel (re)started is fenced at once, before it can run a cell, not at the worker's
        next walk of the tree (up to SLOW_S)."""
        try:
            data = data or {}
            if (
                self.enabled
                and data.get("action") in ("start", "restart")
                and data.get("status") == "success"
            ):
                self.supervisor.send(b'g {"walk": true}\n')
        except Exception:  # noqa: BLE001 - the kernel's start must not fail because of us
            self.log.exception("Memory guard: reading a kernel_actions event")

    # -- the second line --------------------------------------------------------------------------

    def on_status_line(self, status: dict) -> None:
        if status.get("event") != "guard" or status.get("action") != "pressure" or not self.enabled:
            return
        kernel_id = status.get("kernel_id")
        if not isinstance(kernel_id, str) or kernel_id not in self.kernel_manager:
            return
        try:
            kernel = self.kernel_manager.get_kernel(kernel_id)
        except KeyError:
            return
        if getattr(kernel, "execution_state", None) != "busy":
            return  # an idle kernel's memory is what it keeps: nothing to stop
        if self.pid_of(kernel_id) != status.get("pid"):
            return  # the growing process is gone (OOM-killed, restarted): the new one is not it
        now = time.monotonic()
        if now - self._interrupted_at.get(kernel_id, -INTERRUPT_EVERY_S) < INTERRUPT_EVERY_S:
            return
        self._interrupted_at[kernel_id] = now
        self.log.warning(
            "Memory guard: interrupting kernel %s, growing at %s of %s bytes",
            kernel_id,
            status.get("used"),
            status.get("limit"),
        )
        result = self.kernel_manager.interrupt_kernel(kernel_id)
        if inspect.isawaitable(result):
            asyncio.ensure_future(result)
        self.marks(kernel_id, None, "interrupted")
        self._record("interrupted", kernel_id, used=status.get("used"), limit=status.get("limit"))

    # -- the fence's catches ---------------------------------------------------------------------

    def on_reply(self, kernel_id: str, reply, cell_id: str | None) -> dict | None:
        """An execute reply (``frames.Reply``) on its way to a client: record it when it says an
        allocation failed in a fenced kernel. Decodes the content only when it names an error."""
        content = reply.content
        if not self.enabled or b'"error"' not in content:
            return None
        try:
            decoded = json.loads(content)
        except ValueError:
            return None
        if not isinstance(decoded, dict) or not is_memory_error(decoded):
            return None
        if not fenced(self.pid_of(kernel_id)):
            return None
        count = decoded.get("execution_count")
        self.marks(kernel_id, reply.msg_id, "fenced")
        return self._record(
            "fenced",
            kernel_id,
            cell_id=cell_id,
            execution_count=count if isinstance(count, int) else None,
            ename=str(decoded.get("ename") or "")[:64],
        )

    def _headroom_now(self) -> dict:
        """What is left now, read once (a few small files): the worker's last account may be
        from before a pause. A configured limit's figure (a sum over processes) is the worker's."""
        state = dict(self._last_state or {})
        if self.options is None:
            return state
        cgroups = Cgroups()
        source = headroom.find_source(self.options.mem_limit, self.options.host, cgroups)
        try:
            if source is not None and not isinstance(source, headroom.ConfiguredSource):
                used = source.used()
                options = self.options
                reserve = headroom.reserve_for(source.limit, options.reserve_fraction, options.reserve_min)
                room = headroom.Headroom(source.name, source.limit, used, reserve)
                state.update(source=room.source, limit=room.limit, used=room.used, left=room.left)
        except (OSError, ValueError, KeyError):
            pass
        finally:
            if source is not None:
                source.close()
            cgroups.close()
        return state

    def _record(self, action: str, kernel_id: str, **fields) -> dict:
        self.counts[action] += 1
        state = self._headroom_now()
        session = self.session_of(kernel_id) or {}
        record = {
            "id": sum(self.counts.values()),
            "time": time.time(),
            "action": action,
            "kernel_id": kernel_id,
            "path": session.get("path"),
            "cell_id": None,
            "execution_count": None,
            "limit": state.get("limit"),
            "used": state.get("used"),
            "left": state.get("left"),
            "source": state.get("source"),
            **fields,
        }
        if record["limit"] is None:
            record.update(limit=fields.get("limit"))
        if record["path"] is None and self.session_manager is not None:
            asyncio.ensure_future(self._publish_with_path(record))
        else:
            self._publish(record)
        return record

    async def _publish_with_path(self, record: dict) -> None:
        """The tracker's sessions are refreshed while someone polls: a kernel nobody polled yet
        is looked up once, so the record names its notebook."""
        try:
            session = await self.session_manager.get_session(kernel_id=record["kernel_id"])
            record["path"] = (session or {}).get("path")
        except Exception:  # noqa: BLE001 - no session (a bare kernel): the record says null
            pass
        self._publish(record)

    def _publish(self, record: dict) -> None:
        self.events.append(record)
        for listener in self.listeners:
            try:
                listener(record)
            except Exception:  # noqa: BLE001 - the record stands; a listener's bug stays its own
                self.log.exception("Memory guard: an event listener failed")

    # -- state ------------------------------------------------------------------------------------

    def on_snapshot(self, snap) -> None:
        if snap.guard is not None:
            self._last_state = snap.guard

    def summary(self) -> dict[str, Any]:
        """The few figures ``/api/metrics/v1`` carries: enough for the detail view, and the last
        record's id so a client knows when to read the records."""
        worker = self._last_state or {}
        return {
            "enabled": self.enabled,
            "limit": worker.get("limit"),
            "left": worker.get("left"),
            "fenced": worker.get("fenced"),
            "last_event_id": self.events[-1]["id"] if self.events else 0,
        }

    def state(self) -> dict[str, Any]:
        """The route's view: the switch, the worker's last account and the counts."""
        worker = self._last_state or {}
        return {
            "available": self.available,
            "enabled": self.enabled,
            "source": worker.get("source"),
            "limit": worker.get("limit"),
            "used": worker.get("used"),
            "reserve": worker.get("reserve"),
            "left": worker.get("left"),
            "kernels": worker.get("kernels"),
            "fenced": worker.get("fenced"),
            "interrupt_at": self.options.interrupt_at if self.options else None,
            "counts": dict(self.counts),
        }
