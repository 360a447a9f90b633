"""What the server keeps from sample to sample: history, OOM events, who owns each subtree.

:meth:`Tracker.on_snapshot` runs on the event loop once per sample (O(kernels + terminals), like
decoding the sample); request handlers only read what it prepared. Kernel deaths arrive through
jupyter_client's restarter callbacks, which fire only for kernels that died by themselves.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable
from typing import Any

from .. import adapters
from ..snapshot import Snapshot, Usage
from ..worker import cgroup_memory
from .history import History
from .oom import MAX_EVENTS, OomDetector, OomEvent

# Sessions (which notebook a kernel serves) are re-read at most this often.
SESSIONS_EVERY_S = 2.0
# The dead kernel's curve an OOM event carries: this much before death.
CURVE_BEFORE_DEATH_S = 600.0


def kernel_pid(kernel_manager, kernel_id: str) -> int | None:
    """The local process of a kernel, or None (a gateway/remote kernel, or not started yet)."""
    try:
        kernel = kernel_manager.get_kernel(kernel_id)
    except KeyError:
        return None
    provisioner = getattr(kernel, "provisioner", None)
    pid = getattr(provisioner, "pid", None)
    return pid if isinstance(pid, int) else None


def memory_figure(snap: Snapshot | None, limit_source: str) -> tuple[str, int]:
    """Which figure is compared with the memory limit, and its value: the cgroup's working set
    when the limit is the cgroup's (that is what its OOM killer counts), else the PSS of the
    server's processes."""
    if snap is None:
        return "pss", 0
    if limit_source == "cgroup" and snap.cgroup_memory is not None:
        return "working_set", snap.cgroup_memory.working_set
    return "pss", snap.total.pss


class Tracker:
    def __init__(
        self,
        kernel_manager,
        session_manager=None,
        terminal_manager=lambda: None,
        limits=None,
        log: logging.Logger | None = None,
        history: History | None = None,
    ):
        self.kernel_manager = kernel_manager
        self.session_manager = session_manager
        self.terminal_manager = terminal_manager
        # (snapshot) -> (memory Limit, cpu Limit): the rule the payload uses, config included.
        self.limits = limits
        self.log = log or logging.getLogger(__name__)
        self.history = history or History()
        self.detector = OomDetector()
        self.events: collections.deque[OomEvent] = collections.deque(maxlen=MAX_EVENTS)
        # Called on the loop with each new OOM event (the event bus: see ..events).
        self.oom_listeners: list[Callable[[OomEvent], None]] = []
        self.oom_kills_total = 0  # for Prometheus: never decreases, unlike the bounded list
        self.deaths_total = 0  # kernels that died by themselves, for whatever reason
        self.owners: list[dict[str, Any]] = []  # memory by notebook/console/terminal, largest first
        self.sessions: dict[str, dict[str, Any]] = {}  # kernel id -> session model
        self._hooked: set[str] = set()
        self._last_seen: dict[str, tuple[Usage, Snapshot]] = {}
        self._sessions_at = -SESSIONS_EVERY_S
        self._sessions_task: asyncio.Task | None = None

    # -- per sample -------------------------------------------------------------------------

    def on_snapshot(self, snap: Snapshot) -> None:
        self.detector.observe(snap.oom)
        memory_limit = self._memory_limit(snap)
        figure, used = memory_figure(snap, memory_limit.source)
        running: dict[str, tuple[int, float | None]] = {}
        owners = []
        kernel_ids = list(self.kernel_manager.list_kernel_ids())
        for kernel_id in kernel_ids:
            self._hook(kernel_id)
            pid = kernel_pid(self.kernel_manager, kernel_id)
            usage = snap.subtrees.get(pid) if pid is not None else None
            if usage is None:
                continue
            running[kernel_id] = (usage.pss, usage.cpu_percent)
            if usage.rss > 0:  # not a dead kernel not yet reaped (a zombie holds no memory)
                self._last_seen[kernel_id] = (usage, snap)
            owners.append(self._kernel_owner(kernel_id, usage))
        for name, pid in self._terminal_pids():
            usage = snap.subtrees.get(pid)
            if usage is not None:
                owners.append(
                    {
                        "type": "terminal",
                        "name": name,
                        "path": None,
                        "kernel_id": None,
                        "memory": usage.pss,
                        "cpu_percent": usage.cpu_percent,
                    }
                )
        owners.sort(key=lambda o: o["memory"], reverse=True)
        self.owners = owners
        known = set(kernel_ids)
        for gone in [k for k in self._last_seen if k not in known]:
            del self._last_seen[gone]
        self._hooked &= known
        self.history.add(snap.taken_at, snap.total.pss, used, snap.total.cpu_percent, running, known)
        self._maybe_refresh_sessions()

    def _memory_limit(self, snap: Snapshot):
        return self.limits(snap)[0] if self.limits else snap.memory_limit

    def _kernel_owner(self, kernel_id: str, usage: Usage) -> dict[str, Any]:
        session = self.sessions.get(kernel_id)
        path = session.get("path") if session else None
        return {
            "type": (session.get("type") or "notebook") if session else "kernel",
            "name": _basename(path) if path else self._kernel_name(kernel_id),
            "path": path,
            "kernel_id": kernel_id,
            "memory": usage.pss,
            "cpu_percent": usage.cpu_percent,
        }

    def _kernel_name(self, kernel_id: str) -> str | None:
        try:
            return getattr(self.kernel_manager.get_kernel(kernel_id), "kernel_name", None)
        except KeyError:
            return None

    def _terminal_pids(self) -> list[tuple[str, int]]:
        terminals = getattr(self.terminal_manager(), "terminals", None) or {}
        out = []
        for name, term in list(terminals.items()):
            pid = getattr(getattr(term, "ptyproc", None), "pid", None)
            if isinstance(pid, int):
                out.append((name, pid))
        return out

    # -- sessions: which notebook a kernel serves ---------------------------------------------

    def _maybe_refresh_sessions(self) -> None:
        now = time.monotonic()
        if self.session_manager is None or now - self._sessions_at < SESSIONS_EVERY_S:
            return
        if self._sessions_task is not None and not self._sessions_task.done():
            return
        self._sessions_at = now
        self._sessions_task = asyncio.get_running_loop().create_task(self._refresh_sessions())

    async def _refresh_sessions(self) -> None:
        try:
            sessions = await self.session_manager.list_sessions()
        except Exception:  # noqa: BLE001 - names are a nicety; never break sampling for them
            self.log.debug("Resource monitor: listing sessions failed", exc_info=True)
            return
        self.sessions = {s["kernel"]["id"]: s for s in sessions if s.get("kernel")}

    def session_of(self, kernel_id: str) -> dict[str, Any] | None:
        return self.sessions.get(kernel_id)

    # -- kernel deaths -------------------------------------------------------------------------

    def _hook(self, kernel_id: str) -> None:
        if kernel_id in self._hooked:
            return
        try:
            manager = self.kernel_manager.get_kernel(kernel_id)
        except KeyError:
            return
        # False until the kernel's restarter exists: tried again on the next sample.
        if adapters.on_kernel_death(manager, lambda kid=kernel_id: self.kernel_died(kid), self.log):
            self._hooked.add(kernel_id)

    def kernel_died(self, kernel_id: str) -> OomEvent | None:
        """A kernel died by itself (the restarter's callback). Record an event if the OOM
        killer did it; return it."""
        # The worker reads the counter every sample, but may be paused or a sample behind:
        # one small file read here, once per death, settles it.
        self.detector.observe(cgroup_memory.read_oom_counter())
        self.deaths_total += 1
        exit_code = _exit_code(self.kernel_manager, kernel_id)
        if not self.detector.kernel_died(exit_code):
            self.log.info("Kernel %s died (exit status %s); not an OOM kill", kernel_id, exit_code)
            return None
        event = self._event(kernel_id, exit_code)
        self.events.append(event)
        self.oom_kills_total += 1
        self.log.warning(
            "Kernel %s (%s) was killed by the OOM killer: it used %s bytes, the server %s of %s",
            kernel_id,
            event.path or event.kernel_name,
            event.kernel_memory,
            event.server_memory,
            event.limit,
        )
        for listener in self.oom_listeners:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - the event is recorded; a listener's bug stays its own
                self.log.exception("Resource monitor: an OOM event listener failed")
        return event

    def _event(self, kernel_id: str, exit_code: int | None) -> OomEvent:
        usage, snap = self._last_seen.get(kernel_id, (None, None))
        memory_limit = self._memory_limit(snap) if snap is not None else None
        figure, used = memory_figure(snap, memory_limit.source if memory_limit else "")
        session = self.sessions.get(kernel_id) or {}
        since = round(1000 * (time.time() - CURVE_BEFORE_DEATH_S))
        return OomEvent(
            id=self.oom_kills_total + 1,
            time=time.time(),
            kernel_id=kernel_id,
            kernel_name=self._kernel_name(kernel_id),
            path=session.get("path"),
            session_type=session.get("type"),
            kernel_memory=usage.pss if usage else None,
            server_memory=used if snap else None,
            memory_figure=figure,
            limit=int(memory_limit.value) if memory_limit else 0,
            limit_source=memory_limit.source if memory_limit else "unknown",
            counter_source=self.detector.source or "unknown",
            exit_signal="SIGKILL" if exit_code is not None else None,
            sample_time=snap.taken_at if snap else None,
            memory_before=[[t, m] for t, m, _cpu in self.history.kernel_points(kernel_id, since)],
        )

    def events_for(self, kernel_id: str) -> list[OomEvent]:
        return [e for e in self.events if e.kernel_id == kernel_id]


def _exit_code(kernel_manager, kernel_id: str) -> int | None:
    """The dead kernel's exit status, where its provisioner holds a ``Popen`` (local kernels)."""
    try:
        manager = kernel_manager.get_kernel(kernel_id)
    except KeyError:
        return None
    code = getattr(getattr(getattr(manager, "provisioner", None), "process", None), "returncode", None)
    return code if isinstance(code, int) else None


def _basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1] or path
