"""Cell boundaries that a busy kernel cannot shift: real kernels (ipykernel, xeus-python) through a
real server's kernel WebSocket, cells sent at once as Run All sends them, each record compared with
what the test reads itself.

ipykernel publishes its statuses from a thread of its own: a cell whose code holds the GIL in one
long C call delays its ``busy`` (and often the previous cell's ``idle``) until the call returns,
so boundaries read at those statuses gave one cell's memory and CPU to its neighbour.
"""

from __future__ import annotations

import ast
import json
import os
import time

import pytest
from jupyter_client.kernelspec import KernelSpecManager

from . import servers
from .kernel_ws import KernelSocket, execute_request, records_for

MiB = 1 << 20
XPYTHON = pytest.mark.skipif(
    "xpython" not in KernelSpecManager().find_kernel_specs(), reason="xeus-python is not installed"
)
KERNELS = ["python3", pytest.param("xpython", marks=XPYTHON)]
RUNS = 10
TICK = 1 / os.sysconf("SC_CLK_TCK")  # the resolution of a process's CPU account in /proc


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("boundaries") / "work"
    folder.mkdir()
    server = servers.ServerProcess(folder)
    try:
        server.wait_until("api/status", lambda body: True)
        yield server
    finally:
        server.stop()


@pytest.fixture
def kernel(server, request):
    """A fresh kernel of the parametrised name: (id, pid). Shut down after the test."""
    kernel_id = server.post("api/kernels", {"name": request.param})["id"]
    try:
        body = server.wait_until(f"api/metrics/v1/kernels/{kernel_id}", lambda b: b["pid"] is not None)
        yield kernel_id, body["pid"]
    finally:
        _delete(server, kernel_id)


def _delete(server, kernel_id: str) -> None:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(
        server.url(f"api/kernels/{kernel_id}"),
        method="DELETE",
        headers={"Authorization": f"token {server.token}"},
    )
    try:
        urllib.request.urlopen(request, timeout=60).close()
    except urllib.error.URLError:
        pass


def vm_rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) << 10
    raise AssertionError("no VmRSS")


def listed(server, kernel_id: str) -> list[str]:
    return [e["msg_id"] for e in server.get(f"api/metrics/v1/kernels/{kernel_id}/cells")["cells"]]


# One C call holding the GIL for its whole run: 300 MiB filled and freed within one statement.
C_CALL = "n = len(b'y' * (300 << 20))"
SPIN = "import time\nt = time.process_time()\nwhile time.process_time() - t < {s}: pass"
# The C call first (the kernel's busy for the cell waits for it), in the middle, and last.
PLACES = {
    "first": (C_CALL + "\nm = 1", 1.5, 1.0),
    "middle": ("import time\ntime.sleep(0.05)\n" + C_CALL + "\ntime.sleep(0.05)", 0.3, 0.3),
    "end": ("import time\ntime.sleep(0.05)\n" + C_CALL, 0.3, 0.3),
}


@pytest.mark.parametrize("kernel", KERNELS, indirect=True)
@pytest.mark.parametrize("place", list(PLACES))
async def test_a_c_call_holding_the_gil_keeps_its_memory_and_cpu_to_its_own_cell(server, kernel, place):
    """A sleep, the 300 MiB C call, then a CPU spin, sent at once, ten times: the sleep cell
    carries neither the 300 MiB nor any CPU, the allocating cell its 300 MiB, every record in
    order."""
    kernel_id, pid = kernel
    allocate, sleep_s, spin_s = PLACES[place]
    cells = [f"import time\ntime.sleep({sleep_s})", allocate, SPIN.format(s=spin_s)]
    failures = []
    async with KernelSocket(server, kernel_id) as k:
        await k.run("x = 1")
        for run in range(RUNS):
            size = vm_rss(pid)
            msg_ids = [await k.send(code, cell_id=f"cell-{i}") for i, code in enumerate(cells)]
            for msg_id in msg_ids:
                assert (await k.reply(msg_id))["status"] == "ok"
            records = records_for(server, kernel_id, msg_ids)
            assert listed(server, kernel_id)[-3:] == msg_ids  # in the order they ran
            sleep, alloc, spin = records
            for earlier, later in zip(records, records[1:], strict=False):
                assert later["started"] >= earlier["ended"] - 0.005, records
            # What is wrong in each record, and whether the record says so.
            wrong = {
                "sleep cpu": (sleep["cpu_s"] >= 0.05, sleep["cpu_exact"]),
                "sleep peak": (sleep["peak_rss"] >= size + 150 * MiB, sleep["peak_exact"]),
                # The 300 MiB on top of the kernel's size when the cell began (it may have given
                # back some memory since this test read it), less a few pages.
                "allocation peak": (
                    alloc["peak_rss"] < min(size, alloc["rss_start"]) + 299 * MiB,
                    alloc["peak_exact"],
                ),
                "spin cpu": (not spin_s * 0.95 <= spin["cpu_s"] <= spin_s * 1.2, spin["cpu_exact"]),
            }
            problems = [name for name, (bad, _) in wrong.items() if bad]
            # A record that says its figures are exact has them right, whatever else happened.
            claimed = [name for name, (bad, exact) in wrong.items() if bad and exact]
            assert not claimed, (claimed, size, [(r["cpu_s"], r["peak_rss"], r["late_s"]) for r in records])
            if problems:
                failures.append((run, problems, [r["late_s"] for r in records]))
    print(f"{kernel_id} {place}: {RUNS - len(failures)}/{RUNS} runs right; {failures}")
    # ipykernel's reply can be held back by the C call too (it leaves through a thread that needs
    # the GIL; about one run in five here): the boundary is then read from the kernel's trail,
    # where the reply was dated. A trail that missed (its thread held back on a busy machine)
    # leaves the records flagged, never wrong: one such run in ten is allowed.
    assert len(failures) <= 1, failures


@pytest.mark.parametrize("kernel", KERNELS, indirect=True)
async def test_an_allocation_on_an_idle_kernel_starts_before_it(server, kernel):
    """``x = bytearray(80 << 20)`` alone (the first cell of a new kernel, then again after the
    memory was freed, ten times): the start is read before the allocation, so the record shows
    the 80 MiB kept, with an exact peak."""
    kernel_id, pid = kernel
    runs, truths = [], []
    async with KernelSocket(server, kernel_id) as k:
        for run in range(RUNS):
            if run:
                await k.run("del x")
                time.sleep(0.3)  # idle
            before = vm_rss(pid)
            msg_id, reply = await k.run("x = bytearray(80 << 20)", cell_id=f"alloc-{run}")
            assert reply["status"] == "ok"
            runs.append(msg_id)
            truths.append((vm_rss(pid) - before) / MiB)
    kept = []
    for record, truth in zip(records_for(server, kernel_id, runs), truths, strict=True):
        kept.append((record["rss_end"] - record["rss_start"]) / MiB)
        assert record["peak_exact"] and record["cpu_exact"], record
        # The peak is the cell's: what it kept, on top of what was there.
        assert record["rss_end"] <= record["peak_rss"] <= record["rss_end"] + 8 * MiB, record
        # What the kernel kept, as this test saw it around the cell (a new kernel may give back
        # some of its start-up's memory meanwhile).
        assert abs(kept[-1] - truth) <= 4, (record, truth)
    print(f"{kernel_id}: kept {[round(k, 1) for k in kept]} MiB; seen {[round(t, 1) for t in truths]}")
    assert all(abs(k - 80) <= 4 for k in kept[1:]), kept


def run_all_notebook() -> list[str]:
    """30 cells of every kind: sleeps, CPU spins, allocations kept or freed (the C call first),
    prints. Each notes its own CPU (``time.process_time()`` around its body) in ``_own``."""
    bodies = []
    for i in range(30):
        kind = i % 5
        if kind == 0:
            body = f"time.sleep({0.1 + 0.05 * (i % 3)})"
        elif kind == 1:
            body = f"t = time.process_time()\nwhile time.process_time() - t < {0.1 + 0.1 * (i % 4)}: pass"
        elif kind == 2:
            body = f"a{i} = bytearray({40 + 20 * (i % 3)} << 20)" if i % 2 else "n = len(b'y' * (200 << 20))"
        elif kind == 3:
            body = "for j in range(3000):\n    print(j, 'x' * 40)"
        else:
            body = "s = sum(i * i for i in range(300000))"
        bodies.append(body)
    # The first statement is the cell's own: its account starts just before it.
    # Its output sent (ipykernel's flush waits for its iopub thread) before its account closes.
    return [
        f"_c = time.process_time()\n{body}\nsys.stdout.flush()\n_own.append(time.process_time() - _c)"
        for body in bodies
    ]


@pytest.mark.parametrize("kernel", KERNELS, indirect=True)
async def test_run_all_gives_each_cell_its_own_cpu(server, kernel):
    kernel_id, pid = kernel
    cells = run_all_notebook()
    async with KernelSocket(server, kernel_id) as k:
        await k.run("import sys, time\n_own = []")
        msg_ids = [await k.send(code, cell_id=f"cell-{i}") for i, code in enumerate(cells)]
        for msg_id in msg_ids:
            assert (await k.reply(msg_id))["status"] == "ok"
        message = execute_request("", session=k.session)
        message["content"]["user_expressions"] = {"own": "_own"}
        await k.conn.write_message(json.dumps(message))
        reply = await k.reply(message["header"]["msg_id"])
    own = ast.literal_eval(reply["user_expressions"]["own"]["data"]["text/plain"])
    assert len(own) == len(cells)
    records = records_for(server, kernel_id, msg_ids)
    assert listed(server, kernel_id)[-31:-1] == msg_ids
    off = []
    for i, (record, truth) in enumerate(zip(records, own, strict=True)):
        # The cell's own account misses what the kernel does around its code (a few ms); cpu_s
        # counts clock ticks, and may hold as much of a neighbour's work as its late_s says.
        slack = 0.02 + TICK + (record["late_s"] or 0)
        if not abs(record["cpu_s"] - truth) <= max(0.15 * truth, slack):
            off.append((i, record["cpu_s"], round(truth, 3), record["late_s"], record["cpu_exact"]))
    print(f"{kernel_id}: {len(cells) - len(off)}/{len(cells)} within; off: {off}")
    # A record whose CPU is off says so; and few are: a boundary held back by a C call at the
    # start of the next cell is read from the trail (see the test above); one it missed puts two
    # records off.
    assert not [o for o in off if o[-1]], off
    assert len(off) <= 2, off
