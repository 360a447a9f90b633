"""Just enough of a Jupyter message, from its raw frames, for cell boundaries.

Every iopub message of a kernel passes through here, including megabytes of stream output, so
nothing is decoded unless it is one of the few message types we need: the ``header`` frame (a
few hundred bytes) is searched for the type's name first, and only then are the small ``header``
and ``parent_header`` frames (and, for ``status`` and ``error``, the content) parsed as JSON.
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

DELIMITER = b"<IDS|MSG>"
# iopub message types that bound or qualify an execution. Names searched in the header frame: a
# false positive (a user named "status") only costs a JSON decode that then finds the real type.
WANTED = (b"status", b"execute_input", b"error")


class Message(NamedTuple):
    msg_type: str
    date: str | None  # the kernel's timestamp (ISO 8601), when it sent the message
    parent_id: str | None
    parent_type: str | None
    content: dict[str, Any] | None  # decoded for status and error only


def parse_iopub(frames: list[bytes]) -> Message | None:
    """The message if its type is one of :data:`WANTED`, else None (without decoding it)."""
    try:
        i = frames.index(DELIMITER)
        header_frame = frames[i + 2]
    except (ValueError, IndexError):
        return None
    if not any(name in header_frame for name in WANTED):
        return None
    try:
        header = json.loads(header_frame)
        msg_type = header.get("msg_type")
        if msg_type not in ("status", "execute_input", "error"):
            return None
        parent = json.loads(frames[i + 3]) or {}
        content = json.loads(frames[i + 5]) if msg_type != "execute_input" else None
    except (ValueError, IndexError, AttributeError):
        return None
    date = header.get("date")
    return Message(
        msg_type,
        date if isinstance(date, str) else None,
        parent.get("msg_id"),
        parent.get("msg_type"),
        content if isinstance(content, dict) else None,
    )


class Request(NamedTuple):
    msg_id: str
    cell_id: str | None
    silent: bool


def _request(head: Any, meta: Any, body: Any) -> Request | None:
    if not isinstance(head, dict) or head.get("msg_type") != "execute_request":
        return None
    msg_id = head.get("msg_id")
    if not isinstance(msg_id, str):
        return None
    cell_id = meta.get("cellId") if isinstance(meta, dict) else None
    silent = bool(body.get("silent")) if isinstance(body, dict) else False
    return Request(msg_id, cell_id if isinstance(cell_id, str) else None, silent)


def parse_ws_v1(message: bytes) -> Request | None:
    """An ``execute_request`` on the shell channel from a ``v1.kernel.websocket.jupyter.org``
    frame (offsets, then channel, header, parent_header, metadata, content, buffers); None for
    anything else, found without copying the message."""
    view = memoryview(message)
    try:
        count = int.from_bytes(view[:8], "little")
        if count < 6:
            return None
        offsets = [int.from_bytes(view[8 * (k + 1) : 8 * (k + 2)], "little") for k in range(6)]
        if view[offsets[0] : offsets[1]] != b"shell":
            return None
        header = bytes(view[offsets[1] : offsets[2]])
        if b"execute_request" not in header:
            return None
        return _request(
            json.loads(header),
            json.loads(bytes(view[offsets[3] : offsets[4]]) or b"{}"),
            json.loads(bytes(view[offsets[4] : offsets[5]]) or b"{}"),
        )
    except (ValueError, IndexError):
        return None


def parse_ws_json(message: str | bytes) -> Request | None:
    """The same from the older JSON WebSocket protocol (one JSON document per message)."""
    if isinstance(message, bytes) or "execute_request" not in message:
        return None
    try:
        msg = json.loads(message)
        if msg.get("channel", "shell") != "shell":
            return None
        return _request(msg.get("header"), msg.get("metadata"), msg.get("content"))
    except (ValueError, AttributeError, TypeError):
        return None


class Reply(NamedTuple):
    """An execute_reply on its way to a client: which request it answers, its content frame,
    decoded only if needed (see :meth:`status`), and the kernel's timestamp (ISO 8601)."""

    msg_id: str
    content: bytes
    date: str | None = None

    def status(self) -> str:
        """``ok``, ``error``, ``aborted`` or ``interrupted`` (an error whose ``ename`` is
        ``KeyboardInterrupt``); ``ok`` for a content that says nothing else."""
        try:
            content = json.loads(self.content)
        except ValueError:
            return "ok"
        status = content.get("status") if isinstance(content, dict) else None
        if status == "error":
            return "interrupted" if content.get("ename") == "KeyboardInterrupt" else "error"
        return status if status in ("ok", "aborted") else "ok"


def parse_reply(frames: list[bytes]) -> Reply | None:
    """The execute_reply among a kernel's shell messages (raw frames), else None: its header frame
    is searched for the name first, then the header and parent_header decoded; not its content."""
    try:
        i = frames.index(DELIMITER)
        header_frame = frames[i + 2]
        if b"execute_reply" not in header_frame:
            return None
        header = json.loads(header_frame)
        if header.get("msg_type") != "execute_reply":
            return None
        msg_id = (json.loads(frames[i + 3]) or {}).get("msg_id")
        content = frames[i + 5]
    except (ValueError, IndexError, AttributeError, TypeError):
        return None
    date = header.get("date")
    if not isinstance(msg_id, str):
        return None
    return Reply(msg_id, bytes(content), date if isinstance(date, str) else None)
