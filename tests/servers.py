"""A real ``jupyter server`` in its own process, as a user starts it (the console script, from a
folder of their choosing), for tests that must not share the test process's state."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerProcess:
    """``jupyter-server`` started from ``cwd`` with the extension enabled and a token."""

    def __init__(
        self,
        cwd: Path,
        *args: str,
        env: dict[str, str] | None = None,
        token: str | None = None,
        base_url: str = "/",
    ):
        self.port = free_port()
        self.token = token or secrets.token_hex(16)
        self.base_url = base_url
        script = shutil.which("jupyter-server", path=os.path.dirname(sys.executable)) or shutil.which(
            "jupyter-server"
        )
        assert script, "the jupyter-server console script is not installed"
        argv = [
            sys.executable,
            script,
            "--allow-root",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            f"--IdentityProvider.token={self.token}",
            "--ServerApp.jpserver_extensions=jupyter_resource_monitor=True",
            f"--ServerApp.root_dir={cwd}",
            f"--ServerApp.base_url={base_url}",
            *args,
        ]
        self.log = open(cwd.parent / f"server-{self.port}.log", "wb")
        self.proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{self.base_url}{path.lstrip('/')}"

    def get(self, path: str, timeout: float = 5.0):
        request = urllib.request.Request(self.url(path), headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
            return (
                json.loads(body)
                if response.headers.get_content_type() == "application/json"
                else body.decode()
            )

    def post(self, path: str, body: dict, timeout: float = 60.0) -> dict:
        request = urllib.request.Request(
            self.url(path),
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())

    def start_notebook(self, path: str) -> str:
        """A notebook session for ``path`` with a python3 kernel, as JupyterLab opens one; returns
        the kernel's id."""
        session = self.post(
            "api/sessions", {"path": path, "type": "notebook", "name": path, "kernel": {"name": "python3"}}
        )
        return session["kernel"]["id"]

    def wait_until(self, path: str, predicate, timeout: float = 30.0):
        """GET ``path`` until ``predicate(body)``; return that body."""
        deadline = time.monotonic() + timeout
        body = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited with {self.proc.returncode}: {self.output()}")
            try:
                body = self.get(path)
                if predicate(body):
                    return body
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.2)
        raise AssertionError(
            f"{path}: condition not met in {timeout} s; last body {body}; log: {self.output()}"
        )

    def output(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return Path(self.log.name).read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


def contract_server(folder: Path) -> ServerProcess:
    """A server rooted at ``folder`` that samples 4 times a second and tracks that folder's disk:
    what test_contract checks and scripts/capture_payloads.py captures payloads from."""
    return ServerProcess(
        folder,
        "--ResourceMonitor.sample_interval=0.25",
        "--ResourceMonitor.track_disk_usage=True",
        f"--ResourceMonitor.disk_path={folder}",
    )
