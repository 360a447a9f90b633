"""This server's memory of each notebook's peak (``GET /api/metrics/v1/notebooks/peaks``): a real
kernel of a real notebook session allocates ~300 MiB, its session is deleted (the kernel shuts
down), and the server still says what that notebook needed."""

from __future__ import annotations

import urllib.parse
import urllib.request

import pytest

from jupyter_resource_monitor.cells.notebook_peaks import NotebookPeaks

from . import servers
from .kernel_ws import KernelSocket, records_for

MiB = 1 << 20
PATH = "work dir/big cell.ipynb"
# ~300 MiB, every page touched (bytearray zero-fills it), kept until the next cell.
ALLOCATE = "b = bytearray(300 << 20)"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("peaks") / "home"
    (folder / "work dir").mkdir(parents=True)
    server = servers.ServerProcess(folder, "--ResourceMonitor.sample_interval=0.25")
    try:
        server.wait_until("api/status", lambda body: True)
        yield server
    finally:
        server.stop()


def peaks(server, path: str) -> dict:
    return server.get("api/metrics/v1/notebooks/peaks?" + urllib.parse.urlencode({"path": path}))


def delete(server, path: str) -> int:
    request = urllib.request.Request(
        server.url(path), method="DELETE", headers={"Authorization": f"token {server.token}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return response.status


async def test_a_notebooks_peak_outlives_its_kernel(server):
    assert peaks(server, PATH) == {"path": PATH, "peak": None, "at": None}
    session = server.post(
        "api/sessions", {"path": PATH, "type": "notebook", "name": PATH, "kernel": {"name": "python3"}}
    )
    kernel_id = session["kernel"]["id"]
    # The server learns the session's path from its session list (every few seconds).
    server.wait_until(
        f"api/metrics/v1/kernels/{kernel_id}", lambda b: b["path"] == PATH and b["pid"] is not None
    )
    async with KernelSocket(server, kernel_id) as k:
        msg_id, reply = await k.run(ALLOCATE, cell_id="big")
        assert reply["status"] == "ok"
    (record,) = records_for(server, kernel_id, [msg_id])  # it lands when the kernel says idle
    assert record["peak_rss"] >= 300 * MiB
    live = server.get(f"api/metrics/v1/kernels/{kernel_id}/cells")["peak_since_start"]
    assert live >= 300 * MiB
    assert delete(server, f"api/sessions/{session['id']}") == 204
    assert kernel_id not in [k["id"] for k in server.get("api/kernels")]
    remembered = peaks(server, PATH)
    assert remembered["path"] == PATH
    assert remembered["peak"] >= 300 * MiB and remembered["peak"] >= live
    assert remembered["at"] is not None
    # Only that notebook's: another path has nothing.
    assert peaks(server, "work dir/other.ipynb")["peak"] is None


def test_the_history_keeps_the_highest_peak_of_the_paths_updated_last():
    history = NotebookPeaks(max_paths=3)
    history.note("a.ipynb", 500)
    history.note("a.ipynb", 200)  # a later, smaller kernel does not lower it
    assert history.get("a.ipynb").peak == 500
    history.note(None, 900)
    history.note("b.ipynb", None)
    assert len(history) == 1
    for name in ("b", "c", "d"):
        history.note(f"{name}.ipynb", 100)
    assert history.get("a.ipynb") is None  # the oldest updated is forgotten first
    history.note("b.ipynb", 150)  # b is the newest again: c goes next
    history.note("e.ipynb", 1)
    assert history.get("c.ipynb") is None and history.get("b.ipynb").peak == 150
    assert len(history) == 3
