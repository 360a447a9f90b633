"""Capture real answers of every route for the frontend's contract tests
(src/__tests__/contract/payloads/*.json): from a real server without a limit (with disk tracking,
its very first answer before any sample included) and from one in a 640 MiB memory cgroup whose
notebook kernel the OOM killer ends (the memory guard off), and from one in such a cgroup with the
guard on, where the same cell ends with a MemoryError. Rerun (as root) after a payload change:

    python scripts/capture_payloads.py && npx prettier --write src/__tests__/contract/payloads
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import cgroups, servers  # noqa: E402
from tests.kernel_ws import KernelSocket  # noqa: E402
from tests.test_oom import ALLOCATE_FOREVER, LIMIT, send_code  # noqa: E402

OUT = ROOT / "src" / "__tests__" / "contract" / "payloads"


def save(name: str, body) -> None:
    (OUT / f"{name}.json").write_text(json.dumps(body, indent=1) + "\n")
    print("wrote", name)


def routes(server: servers.ServerProcess, kernel_id: str, prefix: str) -> None:
    save(f"{prefix}-metrics", server.get("api/metrics/v1"))
    save(f"{prefix}-kernels", server.get("api/metrics/v1/kernels"))
    save(f"{prefix}-kernel", server.get(f"api/metrics/v1/kernels/{kernel_id}"))
    save(f"{prefix}-events", server.get("api/metrics/v1/events"))
    save(f"{prefix}-history", server.get("api/metrics/v1/history"))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "home"
        folder.mkdir()
        server = servers.contract_server(folder)
        try:
            save(
                "nolimit-first-metrics",
                server.wait_until("api/metrics/v1", lambda b: not b["sample"]["ready"]),
            )
            kernel_id = server.start_notebook("analysis.ipynb")
            server.wait_until(
                f"api/metrics/v1/kernels/{kernel_id}",
                lambda k: k["available"] and k["cpu_percent"] is not None,
            )
            server.wait_until(
                "api/metrics/v1/history", lambda b: len(b["kernels"]["points"].get(kernel_id, [])) >= 2
            )
            routes(server, kernel_id, "nolimit")
        finally:
            server.stop()

        reason = cgroups.unavailable()
        if reason:
            sys.exit(f"no cgroup here: {reason}")
        cgroup = cgroups.MemoryCgroup(LIMIT)
        folder = Path(tmp) / "work"
        folder.mkdir()
        # The memory guard off: the kernel is to be OOM-killed (the guard would keep it alive).
        server = servers.ServerProcess(
            folder, "--ResourceMonitor.sample_interval=0.5", "--ResourceMonitor.memory_guard=False"
        )
        cgroup.add(server.proc.pid)
        try:
            server.wait_until("api/metrics/v1", lambda b: b["sample"]["ready"])
            kernel_id = server.start_notebook("work/analysis.ipynb")
            server.wait_until(f"api/metrics/v1/kernels/{kernel_id}", lambda k: k["available"], timeout=60)
            asyncio.run(send_code(server, kernel_id, ALLOCATE_FOREVER))
            server.wait_until("api/metrics/v1/events", lambda b: b["events"], timeout=60)
            server.wait_until(
                f"api/metrics/v1/kernels/{kernel_id}",
                lambda k: k["available"] and k["oom_events"],
                timeout=60,
            )
            routes(server, kernel_id, "cgroup-oom")
        finally:
            server.stop()
            cgroup.remove()

        # The memory guard on (its default under a cgroup limit): the same cell gets a MemoryError.
        cgroup = cgroups.MemoryCgroup(LIMIT)
        folder = Path(tmp) / "guarded"
        folder.mkdir()
        server = servers.ServerProcess(folder, "--ResourceMonitor.sample_interval=0.5")
        cgroup.add(server.proc.pid)
        try:
            server.wait_until("api/metrics/v1/guard", lambda b: b["enabled"])
            kernel_id = server.start_notebook("guarded/analysis.ipynb")
            server.wait_until(f"api/metrics/v1/kernels/{kernel_id}", lambda k: k["available"], timeout=60)
            asyncio.run(run_cell(server, kernel_id, ALLOCATE_FOREVER))
            server.wait_until("api/metrics/v1/guard", lambda b: b["events"] and b["events"][-1]["path"])
            server.wait_until("api/metrics/v1", lambda b: b["guard"]["last_event_id"] and b["guard"]["left"])
            routes(server, kernel_id, "cgroup-guard")
            save("cgroup-guard-guard", server.get("api/metrics/v1/guard"))
        finally:
            server.stop()
            cgroup.remove()


async def run_cell(server: servers.ServerProcess, kernel_id: str, code: str) -> None:
    async with KernelSocket(server, kernel_id) as socket:
        await socket.run(code, cell_id="d6c1a3b0-hog")


if __name__ == "__main__":
    main()
