"""A kernel client over the server's kernel WebSocket, as JupyterLab talks to it (the JSON
protocol, each execute_request carrying its cell's id in ``metadata.cellId``)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid

from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from . import servers


def execute_request(code: str, cell_id: str | None = None, session: str = "test") -> dict:
    return {
        "header": {
            "msg_id": uuid.uuid4().hex,
            "msg_type": "execute_request",
            "username": "test",
            "session": session,
            "date": "",
            "version": "5.3",
        },
        "parent_header": {},
        "metadata": {"cellId": cell_id} if cell_id else {},
        "channel": "shell",
        "buffers": [],
        "content": {
            "code": code,
            "silent": False,
            "store_history": True,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        },
    }


class KernelSocket:
    """One WebSocket to one kernel: send requests, wait for their replies."""

    def __init__(self, server: servers.ServerProcess, kernel_id: str):
        self.server, self.kernel_id = server, kernel_id
        self.session = uuid.uuid4().hex
        self.replies: dict[str, dict] = {}
        # iopub status messages read so far: (parent msg_id, execution_state, header date as the
        # server forwarded it, time.time() when read here)
        self.statuses: list[tuple[str | None, str, str, float]] = []
        self.conn = None

    async def __aenter__(self) -> KernelSocket:
        url = self.server.url(f"api/kernels/{self.kernel_id}/channels?session_id={self.session}")
        # jupyter_server accepts the connection once the kernel answers kernel_info (it waits up
        # to 60 s): a kernel just started on a loaded machine may take longer than tornado's 20 s.
        request = HTTPRequest(
            "ws" + url[len("http") :],
            headers={"Authorization": f"token {self.server.token}"},
            connect_timeout=60,
            request_timeout=60,
        )
        self.conn = await websocket_connect(request, max_message_size=1 << 30)
        return self

    async def __aexit__(self, *exc) -> None:
        self.conn.close()
        try:  # wait for the close, so no socket outlives the event loop
            while await asyncio.wait_for(self.conn.read_message(), 10) is not None:
                pass
        except asyncio.TimeoutError:
            pass

    async def send(self, code: str, cell_id: str | None = None) -> str:
        msg = execute_request(code, cell_id, self.session)
        await self.conn.write_message(json.dumps(msg))
        return msg["header"]["msg_id"]

    async def interrupt(self) -> str:
        """An ``interrupt_request`` on the control channel (what the server sends for a kernelspec
        whose ``interrupt_mode`` is ``message``); its reply comes through :meth:`reply`."""
        msg = execute_request("", session=self.session)
        msg["header"]["msg_type"], msg["channel"], msg["content"] = "interrupt_request", "control", {}
        await self.conn.write_message(json.dumps(msg))
        return msg["header"]["msg_id"]

    async def reply(self, msg_id: str, timeout: float = 120.0) -> dict:
        """The content of the reply (execute_reply, interrupt_reply) to ``msg_id``."""
        deadline = time.monotonic() + timeout
        while msg_id not in self.replies:
            left = deadline - time.monotonic()
            assert left > 0, f"no reply to {msg_id}"
            raw = await asyncio.wait_for(self.conn.read_message(), left)
            assert raw is not None, "the kernel WebSocket closed"
            if isinstance(raw, bytes):
                continue  # binary frames: not replies here
            msg = json.loads(raw)
            if msg.get("channel") == "iopub" and msg["header"]["msg_type"] == "status":
                self.statuses.append(
                    (
                        msg["parent_header"].get("msg_id"),
                        msg["content"]["execution_state"],
                        msg["header"]["date"],
                        time.time(),
                    )
                )
            if msg.get("channel") in ("shell", "control") and msg["header"]["msg_type"].endswith("_reply"):
                self.replies[msg["parent_header"]["msg_id"]] = msg["content"]
        return self.replies[msg_id]

    async def run(self, code: str, cell_id: str | None = None) -> tuple[str, dict]:
        msg_id = await self.send(code, cell_id)
        return msg_id, await self.reply(msg_id)


def cells(server: servers.ServerProcess, kernel_id: str) -> list[dict]:
    return server.get(f"api/metrics/v1/kernels/{kernel_id}/cells")["cells"]


def records_for(
    server: servers.ServerProcess, kernel_id: str, msg_ids: list[str], timeout: float = 30.0
) -> list[dict]:
    """Wait until every msg_id has a record; return them in the order of ``msg_ids``."""
    body = server.wait_until(
        f"api/metrics/v1/kernels/{kernel_id}/cells",
        lambda b: {m for m in msg_ids} <= {e["msg_id"] for e in b["cells"]},
        timeout=timeout,
    )
    by_id = {e["msg_id"]: e for e in body["cells"]}
    return [by_id[m] for m in msg_ids]


def kernel_cpu_s(pid: int) -> float:
    """The kernel's own CPU account: utime + stime + cutime + cstime from /proc/<pid>/stat."""
    import os

    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / os.sysconf("SC_CLK_TCK")
