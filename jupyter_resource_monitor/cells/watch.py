"""Hooks the cell records into the server: the kernel manager's iopub watcher, its restarts and
shutdowns, and the kernel WebSocket (where a request's ``cellId`` passes by).

No new socket is opened: jupyter_server already receives every iopub message of every kernel once,
to track activity (``start_watching_activity``); our handler runs on that same stream before
jupyter_server's own, so output-heavy cells add no transport cost, only the few microseconds of
:func:`.frames.parse_iopub` per message.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from .. import adapters
from ..snapshot import Snapshot
from ..tracking.tracker import kernel_pid
from . import frames
from .kernel import KernelCells
from .notebook_peaks import NotebookPeaks
from .trail import Trail


class Cells:
    """Every kernel's :class:`KernelCells`, by kernel id."""

    def __init__(
        self,
        kernel_manager,
        log: logging.Logger | None = None,
        path_of: Callable[[str], str | None] = lambda kernel_id: None,
        trail: Trail | None = None,
    ):
        self.kernel_manager = kernel_manager
        self.trail = trail
        self.log = log or logging.getLogger(__name__)
        self.kernels: dict[str, KernelCells] = {}
        self._restarters: set[str] = set()
        # Each notebook's highest kernel peak, kept after its kernels are gone. ``path_of`` gives
        # a kernel's session path (the tracker's, refreshed every few seconds); the last one
        # known is kept per kernel, as the session may be deleted before its kernel shuts down.
        self.peaks = NotebookPeaks()
        self.path_of = path_of
        self._paths: dict[str, str] = {}
        # Called with (kernel id, the reply, its cell id) for each execute reply on its way to a
        # client (the memory guard looks for a failed allocation).
        self.reply_listeners: list[Callable[[str, frames.Reply, str | None], Any]] = []

    # -- installation ---------------------------------------------------------------------------

    def install(self, settings: dict[str, Any]) -> None:
        """Wrap the kernel manager's activity watching, restart and shutdown, and the kernel
        WebSocket connection class (a subclass of whatever the server is configured with)."""
        km = self.kernel_manager
        if not adapters.wrap_kernel_manager(
            km,
            after_watch_start=self._attach,
            before_watch_stop=lambda kernel_id: self.ended(kernel_id, "died"),
            # before the old process is killed: its peak is read
            before_restart=lambda kernel_id: self.ended(kernel_id, "died"),
            log=self.log,
        ):
            return
        for kernel_id in list(km.list_kernel_ids()):  # none at start-up, unless an extension started one
            self._attach(kernel_id)
        adapters.wrap_kernel_websocket(settings, lambda base: connection_class(base, self), self.log)

    def _attach(self, kernel_id: str) -> None:
        try:
            kernel = self.kernel_manager.get_kernel(kernel_id)
        except KeyError:
            return
        shared = adapters.activity_stream(kernel, self.log)
        if shared is None:
            return
        stream, server_callback = shared
        if kernel_id not in self.kernels:
            self.kernels[kernel_id] = KernelCells(
                kernel_id, functools.partial(kernel_pid, self.kernel_manager, kernel_id), trail=self.trail
            )
        cells = self.kernels[kernel_id]

        def on_iopub(msg_list):
            try:
                msg = frames.parse_iopub(msg_list)
                if msg is not None:
                    cells.on_message(msg)
            except Exception:  # noqa: BLE001 - never break the server's own activity tracking
                self.log.exception("Per-cell figures: kernel %s", kernel_id)
            server_callback(msg_list)

        stream.on_recv(on_iopub)
        self._hook_restarter(kernel_id, kernel)

    def _hook_restarter(self, kernel_id: str, kernel) -> None:
        """A kernel that dies by itself is restarted by its restarter, which tells callbacks
        first, while the dead process is still the one known."""
        if kernel_id in self._restarters:
            return
        if adapters.on_kernel_death(kernel, lambda: self.ended(kernel_id, "died"), self.log):
            self._restarters.add(kernel_id)

    # -- events -----------------------------------------------------------------------------------

    def request(self, kernel_id: str, request: frames.Request) -> None:
        cells = self.kernels.get(kernel_id)
        if cells is not None:
            cells.request(request)

    def reply(self, kernel_id: str, reply: frames.Reply) -> None:
        cells = self.kernels.get(kernel_id)
        cell_id = cells.cell_of(reply.msg_id) if cells is not None else None
        if cells is not None:
            cells.reply(reply)
        for listener in self.reply_listeners:
            try:
                listener(kernel_id, reply, cell_id)
            except Exception:  # noqa: BLE001 - the reply goes on whatever happens here
                self.log.exception("Per-cell figures: a reply listener failed")

    def mark(self, kernel_id: str, msg_id: str | None, guard: str) -> None:
        """Note on a request's record what the memory guard did (msg_id None: the running one)."""
        cells = self.kernels.get(kernel_id)
        if cells is not None:
            cells.mark(msg_id, guard)

    def ended(self, kernel_id: str, status: str) -> None:
        cells = self.kernels.get(kernel_id)
        if cells is not None:
            cells.ended(status)
            self._note_peak(kernel_id, cells)

    def _note_peak(self, kernel_id: str, cells: KernelCells) -> None:
        """Remember the kernel's peak so far under its notebook's path."""
        path = self.path_of(kernel_id) or self._paths.get(kernel_id)
        if path:
            self._paths[kernel_id] = path
            self.peaks.note(path, cells.peak_since_start)

    def on_snapshot(self, snap: Snapshot) -> None:
        """Per sample: children's PSS and CPU for running cells; forget kernels that are gone; hook
        restarters that did not exist when the kernel was attached."""
        known = set(self.kernel_manager.list_kernel_ids())
        for kernel_id in [k for k in self.kernels if k not in known]:
            self._note_peak(kernel_id, self.kernels.pop(kernel_id))
            self._restarters.discard(kernel_id)
            self._paths.pop(kernel_id, None)
        for kernel_id, cells in self.kernels.items():
            self._note_peak(kernel_id, cells)
            if kernel_id not in self._restarters:
                try:
                    self._hook_restarter(kernel_id, self.kernel_manager.get_kernel(kernel_id))
                except KeyError:
                    continue
            if not cells.running:
                continue
            pid = cells.pid()
            usage = snap.subtrees.get(pid) if pid is not None else None
            if usage is not None:
                cells.observe_children(snap.taken_at, usage, pid, complete=snap.left_out == 0)

    def notebook_peak(self, path: str) -> dict[str, Any]:
        """The route's answer for one notebook path: its highest kernel peak in this server's
        life (null: none known)."""
        known = self.peaks.get(path)
        return {"path": path, "peak": known.peak if known else None, "at": known.at if known else None}

    def body(self, kernel_id: str) -> bytes:
        """The route's body; ``KeyError`` for a kernel the kernel manager does not know."""
        if kernel_id not in self.kernel_manager:
            raise KeyError(kernel_id)
        cells = self.kernels.get(kernel_id)
        return cells.body() if cells is not None else b'{"cells": [], "peak_since_start": null}'


def connection_class(base: type, cells: Cells) -> type:
    """``base`` (the server's kernel WebSocket connection class), noting each execute_request's
    id, ``cellId`` and ``silent`` before passing the message on unchanged (on an idle kernel, the
    request's start), and each execute_reply on its way back (its request's end, unless its idle
    came first: see :mod:`.kernel`). Other messages cost a few bytes' comparison; those of other
    channels than shell (iopub output among them), an attribute's."""

    class CellTrackingConnection(base):  # type: ignore[misc, valid-type]
        def handle_incoming_message(self, incoming_msg):
            try:
                if isinstance(incoming_msg, (bytes, bytearray, memoryview)):
                    request = (
                        frames.parse_ws_v1(bytes(incoming_msg))
                        if getattr(self, "subprotocol", None) == "v1.kernel.websocket.jupyter.org"
                        else None
                    )
                else:
                    request = frames.parse_ws_json(incoming_msg)
                if request is not None and self._passes_on():
                    cells.request(self.kernel_id, request)
            except Exception:  # noqa: BLE001 - the message goes on whatever happens here
                cells.log.exception("Per-cell figures: reading a request")
            return super().handle_incoming_message(incoming_msg)

        def _passes_on(self) -> bool:
            """Whether the server sends an execute_request on (as jupyter_server's connection
            decides): a request it drops would wait for an end that never comes."""
            channels = getattr(self, "channels", None)
            if channels is not None and "shell" not in channels:
                return False  # closed
            allowed = getattr(getattr(self, "multi_kernel_manager", None), "allowed_message_types", None)
            return not allowed or "execute_request" in allowed

        def handle_outgoing_message(self, stream, outgoing_msg):
            try:
                channel = stream if isinstance(stream, str) else getattr(stream, "channel", None)
                if channel == "shell":
                    reply = frames.parse_reply(outgoing_msg)
                    if reply is not None:
                        cells.reply(self.kernel_id, reply)
            except Exception:  # noqa: BLE001 - the message goes on whatever happens here
                cells.log.exception("Per-cell figures: reading a reply")
            return super().handle_outgoing_message(stream, outgoing_msg)

    CellTrackingConnection.__name__ = CellTrackingConnection.__qualname__ = f"CellTracking{base.__name__}"
    return CellTrackingConnection
