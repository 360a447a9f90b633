"""The per-kernel state machine alone (cells/kernel.py), fed the messages a kernel and its
clients send, in the orders the server sees them, with a fake process for its reader and a fake
clock: every figure is known exactly, nothing spins a real CPU. Real kernels are in
test_cells.py and test_boundaries.py."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from jupyter_resource_monitor.cells import peak
from jupyter_resource_monitor.cells.frames import Message, Reply, Request
from jupyter_resource_monitor.cells.kernel import LATE_S, MAX_RECORDS, KernelCells
from jupyter_resource_monitor.cells.trail import Trail, TrailWriter
from jupyter_resource_monitor.snapshot import Usage

MiB = 1 << 20
TICKS = peak.CLOCK_TICKS
OK = b'{"status": "ok", "execution_count": 1}'


class FakeKernel:
    """A kernel process as the reader sees it (CPU, RSS, peak since the last reset) and the time,
    both moved by the test; and the messages it sends, dated by its clock."""

    pid = 4242

    def __init__(self):
        self.now = 1_000_000.0
        self.ticks = 0
        self.reaped = 0
        self.rss = 100 * MiB
        self.hwm = self.rss
        self.reads = 0

    def clock(self) -> float:
        return self.now

    def read(self, pid: int, reset: bool) -> peak.Reading:
        assert pid == self.pid
        self.reads += 1
        reading = peak.Reading(self.now, self.ticks + self.reaped, self.rss, self.hwm, self.reaped)
        if reset:
            self.hwm = self.rss
        return reading

    def run(self, wall: float = 0.0, cpu: float = 0.0, spike: int = 0, keep: int = 0) -> None:
        """Some of a cell's work: ``wall`` seconds pass, ``cpu`` of them on the CPU; ``spike`` bytes
        taken and given back, ``keep`` kept."""
        self.now += wall
        self.ticks += round(cpu * TICKS)
        self.hwm = max(self.hwm, self.rss + spike, self.rss + keep)
        self.rss += keep

    def date(self, at: float | None = None) -> str:
        at = self.now if at is None else at
        return datetime.fromtimestamp(at, tz=timezone.utc).isoformat().replace("+00:00", "Z")

    def status(self, state: str, msg_id: str | None, at: float | None = None, parent_type="execute_request"):
        return Message("status", self.date(at), msg_id, parent_type, {"execution_state": state})

    def input(self, msg_id: str) -> Message:
        return Message("execute_input", self.date(), msg_id, "execute_request", None)

    def reply(self, msg_id: str, content: bytes = OK, at: float | None = None) -> Reply:
        return Reply(msg_id, content, self.date(at))


def store_of(kernel: FakeKernel, **kwargs) -> KernelCells:
    return KernelCells("k", lambda: kernel.pid, reader=kernel.read, clock=kernel.clock, **kwargs)


def records(store: KernelCells) -> list[dict]:
    return json.loads(store.body())["cells"]


def ready(store: KernelCells, kernel: FakeKernel) -> None:
    """The kernel has answered something since it started (the WebSocket's kernel_info): idle."""
    store.on_message(kernel.status("busy", "info", parent_type="kernel_info_request"))
    store.on_message(kernel.status("idle", "info", parent_type="kernel_info_request"))


def test_a_request_to_an_idle_kernel_starts_as_it_passes_through():
    """``x = bytearray(80 << 20)``: the allocation holds the GIL, so the kernel's busy comes after
    it. The start was read when the request passed through the server: the 80 MiB are kept."""
    kernel = FakeKernel()
    store = store_of(kernel)
    ready(store, kernel)
    store.request(Request("m", "cell", False))
    passed = kernel.now
    kernel.run(wall=0.001)
    took_up = kernel.now  # the kernel's busy is dated here...
    kernel.run(wall=0.04, cpu=0.04, keep=80 * MiB)
    store.reply(kernel.reply("m"))  # ...but its reply comes first
    store.on_message(kernel.status("busy", "m", at=took_up))
    store.on_message(kernel.input("m"))
    store.on_message(kernel.status("idle", "m"))
    (record,) = records(store)
    assert record["rss_start"] == 100 * MiB and record["rss_end"] == 180 * MiB
    assert record["peak_rss"] == 180 * MiB and record["peak_exact"] and record["cpu_exact"]
    assert record["cpu_s"] == pytest.approx(0.04, abs=1 / TICKS)
    assert record["started"] == pytest.approx(took_up, abs=1e-6) and record["started"] > passed
    assert record["wall_s"] == pytest.approx(0.04, abs=1e-6)
    assert record["late_s"] == 0


def three_queued(store: KernelCells, kernel: FakeKernel) -> tuple[list[str], float, float]:
    """Sleep 1.5 s, then a 300 MiB C call (first statement), then 1 s of CPU, sent at once; the
    kernel's replies on time. Returns the ids, when the C call began and when it ended."""
    ids = ["sleep", "alloc", "spin"]
    for msg_id in ids:
        store.request(Request(msg_id, f"cell-{msg_id}", False))
    store.on_message(kernel.status("busy", "sleep"))
    store.on_message(kernel.input("sleep"))
    kernel.run(wall=1.5)
    store.reply(kernel.reply("sleep"))
    kernel.run(wall=0.001)
    began = kernel.now
    kernel.run(wall=0.2, cpu=0.2, spike=300 * MiB)
    return ids, began, kernel.now


def test_the_reply_ends_a_cell_and_starts_the_next_whatever_the_late_statuses_say():
    kernel = FakeKernel()
    store = store_of(kernel)
    ready(store, kernel)
    ids, began, done = three_queued(store, kernel)
    # The statuses held back by the C call, dated when they were written.
    store.on_message(kernel.status("idle", "sleep", at=began - 0.0005))
    store.on_message(kernel.status("busy", "alloc", at=began))
    store.on_message(kernel.input("alloc"))
    store.reply(kernel.reply("alloc"))
    store.on_message(kernel.status("idle", "alloc"))
    store.on_message(kernel.status("busy", "spin"))
    store.on_message(kernel.input("spin"))
    kernel.run(wall=1.0, cpu=1.0)
    store.reply(kernel.reply("spin"))
    store.on_message(kernel.status("idle", "spin"))
    sleep, alloc, spin = records(store)
    assert [r["msg_id"] for r in (sleep, alloc, spin)] == ids
    assert sleep["cpu_s"] == 0 and sleep["peak_rss"] == 100 * MiB
    assert alloc["peak_rss"] == 400 * MiB and alloc["cpu_s"] == pytest.approx(0.2, abs=1 / TICKS)
    assert spin["cpu_s"] == pytest.approx(1.0, abs=1 / TICKS) and spin["peak_rss"] == 100 * MiB
    assert all(r["cpu_exact"] and r["peak_exact"] for r in (sleep, alloc, spin))
    assert alloc["started"] == pytest.approx(began, abs=1e-6)  # the busy's date, come late
    assert sleep["ended"] <= alloc["started"] <= alloc["ended"] <= spin["started"]


def test_a_boundary_read_late_says_so_for_the_cpu_and_the_peak():
    """The sleep cell's reply held back too (with subshells, ipykernel's replies leave through a
    thread that needs the GIL): its end, read at the first of its reply and idle after the C call,
    holds the 300 MiB and the C call's CPU; both records say their figures are not exact."""
    kernel = FakeKernel()
    store = store_of(kernel)
    ready(store, kernel)
    for msg_id in ("sleep", "alloc"):
        store.request(Request(msg_id, None, False))
    store.on_message(kernel.status("busy", "sleep"))
    store.on_message(kernel.input("sleep"))
    kernel.run(wall=1.5)
    ended = kernel.now
    kernel.run(wall=0.001)
    began = kernel.now
    kernel.run(wall=0.2, cpu=0.2, spike=300 * MiB)
    store.on_message(kernel.status("idle", "sleep", at=ended))
    store.reply(kernel.reply("sleep", at=ended))  # after its idle: changes nothing
    store.on_message(kernel.status("busy", "alloc", at=began))
    store.on_message(kernel.input("alloc"))
    store.reply(kernel.reply("alloc"))
    sleep, alloc = records(store)
    assert sleep["cpu_s"] == pytest.approx(0.2, abs=1 / TICKS) and sleep["peak_rss"] == 400 * MiB
    assert not sleep["cpu_exact"] and not sleep["peak_exact"]
    assert sleep["late_s"] == pytest.approx(0.2, abs=1e-3) and sleep["late_s"] > LATE_S
    # The allocating cell's start was read after its work: its peak is still counted (the reading
    # before that reset holds it), its CPU missed.
    assert alloc["peak_rss"] == 400 * MiB and alloc["cpu_s"] == 0
    assert not alloc["cpu_exact"] and not alloc["peak_exact"]
    assert sleep["ended"] == pytest.approx(ended, abs=1e-6)
    assert alloc["started"] == pytest.approx(began, abs=1e-6)


def test_a_kernel_that_says_busy_for_queued_requests_early_is_not_believed_late():
    """xeus-python says busy (and execute_input) for the requests queued behind a cell before that
    cell's reply: their start is still that reply."""
    kernel = FakeKernel()
    store = store_of(kernel)
    ready(store, kernel)
    for msg_id in ("first", "second"):
        store.request(Request(msg_id, None, False))
    store.on_message(kernel.status("busy", "first"))
    store.on_message(kernel.input("first"))
    kernel.run(wall=1.0, cpu=0.5)
    store.on_message(kernel.status("busy", "second"))
    store.on_message(kernel.input("second"))
    kernel.run(wall=0.001)
    store.reply(kernel.reply("first"))
    store.on_message(kernel.status("idle", "first"))
    kernel.run(wall=0.3, cpu=0.3, spike=50 * MiB)
    store.reply(kernel.reply("second"))
    store.on_message(kernel.status("idle", "second"))
    first, second = records(store)
    assert first["cpu_s"] == pytest.approx(0.5, abs=1 / TICKS) and first["peak_rss"] == 100 * MiB
    assert second["cpu_s"] == pytest.approx(0.3, abs=1 / TICKS) and second["peak_rss"] == 150 * MiB
    assert first["cpu_exact"] and second["cpu_exact"] and first["late_s"] == 0
    assert second["started"] == pytest.approx(first["ended"], abs=1e-6)


def test_a_kernel_not_known_idle_starts_a_request_at_its_busy():
    """Before the kernel has answered anything (still starting up), a request waits; its start is
    its busy. One whose busy never comes (the first cell after a restart can run before the
    server's iopub watcher has reconnected) is recorded from its reply, nothing measured."""
    kernel = FakeKernel()
    store = store_of(kernel)
    store.request(Request("early", "cell-early", False))
    assert kernel.reads == 0
    kernel.run(wall=1.0, cpu=1.0)  # start-up: no cell's work
    store.on_message(kernel.status("busy", "early"))
    store.on_message(kernel.input("early"))
    kernel.run(wall=0.1, cpu=0.1)
    store.reply(kernel.reply("early"))
    (early,) = records(store)
    assert early["cpu_s"] == pytest.approx(0.1, abs=1 / TICKS) and early["cpu_exact"]
    store.ended("died")  # a restart
    store.request(Request("unseen", "cell-unseen", False))
    kernel.run(wall=0.1, cpu=0.1)
    store.reply(kernel.reply("unseen", b'{"status": "error", "ename": "NameError"}'))
    unseen = records(store)[-1]
    assert unseen["cell_id"] == "cell-unseen" and unseen["status"] == "error"
    assert unseen["started"] is None and unseen["ended"] == kernel.now
    assert unseen["cpu_s"] is None and unseen["peak_rss"] is None and not unseen["cpu_exact"]


def test_an_idle_first_ends_the_cell_and_the_reply_after_it_gives_the_status():
    kernel = FakeKernel()
    store = store_of(kernel)
    ready(store, kernel)
    store.request(Request("m", None, False))
    store.on_message(kernel.status("busy", "m"))
    kernel.run(wall=0.2, cpu=0.1)
    store.on_message(kernel.status("idle", "m"))  # no execute_input seen: it ran nothing
    assert records(store)[0]["status"] == "aborted"
    body = store.body()
    store.reply(kernel.reply("m", b'{"status": "error", "ename": "ValueError"}'))
    assert store.body() is not body
    (record,) = records(store)
    assert record["status"] == "error" and record["cpu_s"] == pytest.approx(0.1, abs=1 / TICKS)


def test_silent_requests_are_boundaries_not_records():
    kernel = FakeKernel()
    store = store_of(kernel)
    ready(store, kernel)
    store.request(Request("silent", None, True))
    store.request(Request("cell", "c", False))
    store.on_message(kernel.status("busy", "silent"))
    kernel.run(wall=0.5, cpu=0.5)
    store.reply(kernel.reply("silent"))
    store.on_message(kernel.status("idle", "silent"))
    store.on_message(kernel.status("busy", "cell"))
    store.on_message(kernel.input("cell"))
    kernel.run(wall=0.2, cpu=0.2)
    store.reply(kernel.reply("cell"))
    (record,) = records(store)
    assert record["msg_id"] == "cell" and record["cpu_s"] == pytest.approx(0.2, abs=1 / TICKS)


def test_another_clients_cell_is_recorded_from_its_busy_and_idle():
    """A request that did not pass through the server (a console on the kernel's own ports)."""
    kernel = FakeKernel()
    store = store_of(kernel)
    ready(store, kernel)
    store.on_message(kernel.status("busy", "console"))
    store.on_message(kernel.input("console"))
    kernel.run(wall=0.3, cpu=0.3, keep=10 * MiB)
    store.on_message(kernel.status("idle", "console"))
    (record,) = records(store)
    assert record["cell_id"] is None and record["cpu_s"] == pytest.approx(0.3, abs=1 / TICKS)
    assert record["rss_end"] - record["rss_start"] == 10 * MiB and record["peak_exact"]
    # A request through the server now, on a kernel idle again: read as it passes through.
    store.request(Request("next", None, False))
    assert store.running


def test_records_are_bounded_newest_last_and_encoded_once_per_change():
    kernel = FakeKernel()
    store = store_of(kernel)
    ready(store, kernel)
    for i in range(MAX_RECORDS + 100):
        store.request(Request(f"m{i}", None, False))
        store.on_message(kernel.status("busy", f"m{i}"))
        store.on_message(kernel.input(f"m{i}"))
        kernel.run(wall=0.01, cpu=0.01)
        store.reply(kernel.reply(f"m{i}"))
        store.on_message(kernel.status("idle", f"m{i}"))
    body = store.body()
    assert store.body() is body  # nothing changed: the same bytes, nothing re-encoded
    records = json.loads(body)["cells"]
    assert len(records) == MAX_RECORDS >= 200
    assert records[-1]["msg_id"] == f"m{MAX_RECORDS + 99}" and records[0]["msg_id"] == "m100"
    assert all(e["cpu_s"] == pytest.approx(0.01, abs=1 / TICKS) for e in records)
    # A silent request from a client outside the server (no execute_input): not a cell.
    store.on_message(kernel.status("busy", "silent"))
    store.on_message(kernel.status("idle", "silent"))
    assert json.loads(store.body())["cells"] == records


def test_a_starting_status_keeps_the_requests_sent_since_the_restart():
    """xeus-python says ``starting`` once up, 0.3 s after the server launched it, and the next cell
    is often on its way by then: a ``starting`` keeps the requests waiting, and starts the first.
    Those sent to the old process are aborted when the server restarts it."""
    kernel = FakeKernel()
    store = store_of(kernel)
    store.request(Request("old", "queued-before", False))  # for the old process
    store.ended("died")  # the server restarts the kernel
    store.request(Request("new", "after", False))  # sent once the new process was launched
    kernel.run(wall=0.3, cpu=0.3)  # its start-up
    store.on_message(Message("status", kernel.date(), None, None, {"execution_state": "starting"}))
    store.on_message(kernel.status("busy", "new"))
    store.on_message(kernel.input("new"))
    kernel.run(wall=0.1, cpu=0.1)
    store.on_message(kernel.status("idle", "new"))
    by_id = {e["msg_id"]: e for e in records(store)}
    assert by_id["old"]["status"] == "aborted" and by_id["old"]["cell_id"] == "queued-before"
    assert by_id["new"]["status"] == "ok" and by_id["new"]["cell_id"] == "after"
    assert by_id["new"]["cpu_s"] == pytest.approx(0.1, abs=1 / TICKS)


def test_a_request_waiting_behind_a_cell_when_the_kernel_dies_is_aborted():
    kernel = FakeKernel()
    store = store_of(kernel)
    ready(store, kernel)
    for msg_id in ("running", "waiting"):
        store.request(Request(msg_id, msg_id, False))
        store.on_message(kernel.status("busy", msg_id))  # xeus says busy for both
    store.on_message(kernel.input("running"))
    kernel.run(wall=1.0, cpu=0.4, spike=20 * MiB)
    store.ended("died")
    running, waiting = records(store)
    assert running["status"] == "died" and running["cpu_s"] == pytest.approx(0.4, abs=1 / TICKS)
    assert running["cpu_exact"] and not running["peak_exact"]  # read before the kill, without reset
    assert waiting["status"] == "aborted" and waiting["started"] is None and waiting["cpu_s"] is None


def test_a_date_later_than_its_receipt_is_not_believed():
    """xeus 6 writes 12.045123 s as ``12.45123``: a reply dated 0.4 s after the server read it.
    The cell ends when the reply was read at the latest."""
    kernel = FakeKernel()
    store = store_of(kernel)
    ready(store, kernel)
    store.request(Request("m", None, False))
    kernel.run(wall=0.5)
    store.reply(kernel.reply("m", at=kernel.now + 0.4))
    (record,) = records(store)
    assert record["ended"] == kernel.now and record["wall_s"] == pytest.approx(0.5, abs=1e-6)


def test_children_cpu_s_takes_off_a_child_reaped_after_the_last_sample():
    """Samples of the kernel's subtree during a cell: one child runs through it (still running at
    its end), another works between the two samples and is reaped after the last one, which moves
    its whole account into the kernel's reaped time, so into cpu_s: taken off, not counted twice."""
    kernel = FakeKernel()
    store = store_of(kernel)
    ready(store, kernel)
    store.request(Request("m", None, False))
    store.on_message(kernel.status("busy", "m"))
    store.on_message(kernel.input("m"))
    kernel.run(wall=0.3)
    # running: 0.3 s so far; reaped-later: 0.05 s (its start-up)
    store.observe_children(kernel.now, Usage(children_cpu_s=0.35, reaped_cpu_s=0.0), kernel.pid)
    kernel.run(wall=1.0)
    # running: 1.3 s; reaped-later: 1.05 s, done
    store.observe_children(kernel.now, Usage(children_cpu_s=2.35, reaped_cpu_s=0.0), kernel.pid)
    kernel.reaped += round(1.05 * TICKS)  # p.wait() as the cell ends
    kernel.run(wall=0.1)
    store.reply(kernel.reply("m"))
    (record,) = records(store)
    assert record["cpu_s"] == pytest.approx(1.05, abs=1 / TICKS)
    # The running child's 1.0 s between the samples, less the reaped one's 0.05 s before the first.
    assert record["children_cpu_s"] == pytest.approx(0.95, abs=1 / TICKS)
    # A sample that left processes out is not compared; fewer than two complete: unknown.
    store.request(Request("n", None, False))
    store.on_message(kernel.status("busy", "n"))
    store.on_message(kernel.input("n"))
    kernel.run(wall=0.1)
    store.observe_children(kernel.now, Usage(children_cpu_s=1.0, reaped_cpu_s=0.0), kernel.pid)
    store.observe_children(
        kernel.now, Usage(children_cpu_s=3.0, reaped_cpu_s=0.0), kernel.pid, complete=False
    )
    store.reply(kernel.reply("n"))
    assert records(store)[-1]["children_cpu_s"] is None


def xeus_date(at: float) -> str:
    """``at`` as xeus 6 writes it: the microseconds without their leading zeros."""
    whole = datetime.fromtimestamp(int(at), tz=timezone.utc).isoformat().replace("+00:00", "")
    return f"{whole}.{round((at - int(at)) * 1e6)}Z"


def test_a_kernel_that_drops_the_leading_zeros_of_its_microseconds_is_read_as_it_meant():
    """xeus 6 writes 12.045123 s as ``12.45123``. Once one such date reads later than its receipt
    (impossible on one clock), the kernel's short fractions are read as microseconds: a late
    boundary is then seen late, not hidden by a date capped at its receipt."""
    kernel = FakeKernel()
    kernel.now = 1_000_000.0 + 0.045  # a date in the first tenth of a second: written short
    store = store_of(kernel)
    ready(store, kernel)
    store.request(Request("first", None, False))
    store.request(Request("second", None, False))
    kernel.run(wall=1.0)  # first: sleeps to 1 000 001.045
    ended = kernel.now
    kernel.run(wall=0.3, cpu=0.3)  # second's C call, before first's reply reached the server
    reply = Reply("first", OK, xeus_date(ended))
    assert kernel_time_of(reply.date) > kernel.now  # the short date reads 0.4 s late: given away
    store.reply(reply)
    kernel.run(wall=0.01)
    store.reply(Reply("second", OK, xeus_date(kernel.now)))
    first, second = records(store)
    assert first["ended"] == pytest.approx(ended, abs=1e-6)
    assert first["late_s"] == pytest.approx(0.3, abs=1e-3) and not first["cpu_exact"]
    # Before the kernel gave itself away, a short date is read as written (another kernel may
    # write milliseconds): capped at its receipt.
    other = FakeKernel()
    other.now = 1_000_000.0 + 0.5
    store = store_of(other)
    ready(store, other)
    store.request(Request("m", None, False))
    other.run(wall=0.2)
    store.reply(Reply("m", OK, other.date(other.now - 0.1)[:-4] + "Z"))  # milliseconds: .600
    (record,) = records(store)
    assert record["ended"] == pytest.approx(other.now - 0.1, abs=1e-3)


def kernel_time_of(date: str) -> float:
    return datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp()


class TrailOf:
    """The real trail (cells/trail.py), both halves in this process: the writer's readings of
    the fake kernel are taken when the test says, instead of every 10 ms."""

    def __init__(self, kernel: FakeKernel):
        self.kernel = kernel
        self.sent: list[bytes] = []
        self.trail = Trail(self.send)
        self.writer = TrailWriter(self.trail.fd, follow=lambda pid: self)
        self.pid = kernel.pid

    def send(self, line: bytes) -> bool:
        self.sent.append(line)
        self.writer.command(json.loads(line[2:]))
        return True

    def read(self):  # what the writer reads of the followed process
        k = self.kernel
        return (k.now, k.ticks + k.reaped, k.rss, k.hwm, k.reaped)

    def close(self) -> None:
        pass

    def take(self, wall: float, cpu: float = 0.0, spike: int = 0) -> None:
        """The kernel runs ``wall`` seconds (``cpu`` of them on the CPU, ``spike`` bytes taken and
        given back at the end) while the writer reads it every 10 ms."""
        steps = max(1, round(wall / 0.01))
        for _ in range(steps):
            self.kernel.run(wall=wall / steps, cpu=cpu / steps)
            self.writer.tick()
        if spike:
            self.kernel.run(spike=spike)
            self.writer.tick()


def test_a_reply_held_back_by_the_next_cell_is_read_from_the_trail_where_the_kernel_dated_it():
    """ipykernel's reply for the sleep cell leaves only after the next cell's C call (it needs the
    GIL): read on arrival, the sleep cell would carry the C call's CPU and 300 MiB. The kernel was
    followed since a request waited behind another, so the boundary is read where the reply was
    dated; the C call's CPU and memory stay with its cell, and both records are exact."""
    kernel = FakeKernel()
    trailed = TrailOf(kernel)
    store = store_of(kernel, trail=trailed.trail)
    ready(store, kernel)
    for msg_id in ("sleep", "alloc"):
        store.request(Request(msg_id, None, False))
    assert trailed.sent == [b't {"slot": 0, "pid": %d}\n' % kernel.pid]  # followed while one waits
    store.on_message(kernel.status("busy", "sleep"))
    store.on_message(kernel.input("sleep"))
    trailed.take(1.5)
    ended = kernel.now
    trailed.take(0.001)
    began = kernel.now
    trailed.take(0.2, cpu=0.2, spike=300 * MiB)  # the C call: nothing reaches the server meanwhile
    store.reply(kernel.reply("sleep", at=ended))
    assert trailed.sent[-1] == b't {"slot": 0, "pid": null}\n'  # nothing waits any more
    store.on_message(kernel.status("idle", "sleep", at=ended))
    store.on_message(kernel.status("busy", "alloc", at=began))
    store.on_message(kernel.input("alloc"))
    store.reply(kernel.reply("alloc"))
    store.on_message(kernel.status("idle", "alloc"))
    sleep, alloc = records(store)
    assert sleep["cpu_s"] == 0 and sleep["peak_rss"] == 100 * MiB
    assert alloc["cpu_s"] == pytest.approx(0.2, abs=1 / TICKS) and alloc["peak_rss"] == 400 * MiB
    assert all(r["cpu_exact"] and r["peak_exact"] for r in (sleep, alloc))
    assert sleep["late_s"] <= 0.01 and alloc["late_s"] <= 0.01


def test_a_trail_that_does_not_reach_back_leaves_the_late_boundary_said_inexact():
    """The writer read nothing before the reply's date (a worker restarting, a machine too busy
    for its thread): the boundary is read on arrival, and the records say so."""
    kernel = FakeKernel()
    trailed = TrailOf(kernel)
    store = store_of(kernel, trail=trailed.trail)
    ready(store, kernel)
    for msg_id in ("sleep", "alloc"):
        store.request(Request(msg_id, None, False))
    store.on_message(kernel.status("busy", "sleep"))
    kernel.run(wall=1.5)
    ended = kernel.now
    trailed.take(0.2, cpu=0.2, spike=300 * MiB)  # read only after the reply's date
    store.reply(kernel.reply("sleep", at=ended))
    store.on_message(kernel.status("busy", "alloc", at=ended))
    store.reply(kernel.reply("alloc"))
    sleep, alloc = records(store)
    assert sleep["peak_rss"] == 400 * MiB and not sleep["peak_exact"] and not sleep["cpu_exact"]
    assert sleep["late_s"] > LATE_S
