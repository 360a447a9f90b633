"""One kernel's executions: the state between ``busy`` and ``idle``, and the bounded records.

Everything here runs on the event loop, once per message the kernel publishes on iopub: a few
microseconds for the messages that are not boundaries (see :mod:`.frames`), one :func:`.peak.read`
(~20 µs) at each boundary of an execution.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import json
import time
from collections.abc import Callable
from datetime import datetime

from ..snapshot import Usage
from . import peak
from .frames import Message, Reply, Request

# How long a request answered before its busy was seen waits for that busy (the reply and the
# busy come on two sockets: the server may read either first) before it is recorded from its reply.
ANSWERED_WAIT_S = 0.5
# Records kept per kernel (the newest). The route serves a body encoded once per change.
MAX_RECORDS = 500
# Requests seen on their way to the kernel and not yet started (a long Run All queue is
# shorter); beyond this, the oldest are forgotten.
MAX_PENDING = 2000
# A boundary read this long after the kernel crossed it may miss part of the cell's peak (the
# kernel was already running its code before the reset) or count some of the next cell's, so the
# record says its peak is not exact. Reads are late when the server's loop is busy, or when the
# kernel cannot publish its status in time (a C call holding its GIL starves its iopub thread).
LATE_S = 0.02

STATUSES = ("ok", "error", "aborted", "interrupted", "died")


@dataclasses.dataclass(slots=True)
class Execution:
    """What the route serves for one execution (times in seconds since the epoch, sizes in
    bytes; None where unknown)."""

    msg_id: str
    cell_id: str | None
    started: float | None
    ended: float | None = None
    wall_s: float | None = None
    cpu_s: float | None = None
    peak_rss: int | None = None
    peak_exact: bool = False
    children_peak_pss: int | None = None
    rss_start: int | None = None
    rss_end: int | None = None
    status: str = "ok"
    # (ours) seconds by which the readings missed the kernel's boundaries: cpu_s and the peak
    # may hold up to this much of the previous or next request's work
    late_s: float | None = None
    # (ours) CPU seconds of the kernel's descendants during the cell that cpu_s leaves out (those
    # still running at its end), sampled: see _children_cpu_s
    children_cpu_s: float | None = None
    # (ours) what the memory guard did to the cell: "fenced" (an allocation failed under its fence)
    # or "interrupted"; None: nothing
    guard: str | None = None


@dataclasses.dataclass(slots=True)
class _Open:
    record: Execution
    pid: int | None  # the kernel's process when it started this
    start: peak.Reading | None
    late: float | None  # how long after the kernel's busy the start was read
    requested: bool  # the request passed through the server, non-silent
    saw_input: bool = False  # the kernel broadcast execute_input: it ran code
    waiting: bool = False  # said busy while another ran: not started yet
    status: str = "ok"
    # (children_cpu_s, reaped_cpu_s) of the kernel's subtree (see snapshot.Usage) in the first and
    # the last complete sample taken during the execution, and how many there were
    cpu_first: tuple[float, float] | None = None
    cpu_last: tuple[float, float] | None = None
    cpu_samples: int = 0
    # its execute_reply, passed to the client before its idle was read, and when (see ended)
    answered: tuple[Reply, float] | None = None


def kernel_time(date: str | None, default: float) -> float:
    """Seconds since the epoch from a message header's ``date`` (the kernel's clock, the same host's
    for a local kernel), else ``default``. Not always right: see :meth:`KernelExecutions._time`."""
    if not date:
        return default
    try:
        return datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default


class KernelExecutions:
    """Executions of one kernel. ``pid()`` gives its local process now (None: not local)."""

    def __init__(self, kernel_id: str, pid: Callable[[], int | None], max_records: int = MAX_RECORDS):
        self.kernel_id = kernel_id
        self.pid = pid
        self.records: collections.deque[Execution] = collections.deque(maxlen=max_records)
        # Each record's JSON, encoded once (again only if the newest changes): a body costs a join.
        self._encoded: collections.deque[bytes] = collections.deque(maxlen=max_records)
        self.peak_since_start: int | None = None  # running maximum of every VmHWM read
        self._pending: collections.OrderedDict[str, Request] = collections.OrderedDict()
        self._open: dict[str, _Open] = {}
        # Requests answered before their busy was seen (see reply): (request, reply, receipt)
        self._answered: collections.OrderedDict[str, tuple[Request, Reply, float]] = collections.OrderedDict()
        # Those of them since recorded from their reply: a busy that still comes opens nothing.
        self._replied: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._last_end: tuple[Execution, float] | None = None  # last record, when its end was read
        self._clock: float | None = None  # the time given to the last busy or idle (see _time)
        self._body: bytes | None = None
        # What the memory guard did to requests not recorded yet (see mark)
        self._marks: collections.OrderedDict[str, str] = collections.OrderedDict()

    # -- what passes through the server ---------------------------------------------------------

    def request(self, request: Request) -> None:
        """An execute_request on its way to the kernel (from a WebSocket client)."""
        self._pending[request.msg_id] = request
        while len(self._pending) > MAX_PENDING:
            self._pending.popitem(last=False)

    def on_message(self, msg: Message) -> None:
        if msg.msg_type == "status":
            state = (msg.content or {}).get("execution_state")
            if state == "busy":
                self._busy(msg)
            elif state == "idle":
                self._idle(msg)
            elif state == "starting":
                # A new kernel process: whatever ran is over. The requests waiting stay: a
                # kernel says "starting" once it is up (xeus-python 0.3 s after it was launched,
                # later under load), and the requests sent since the launch are queued for it.
                # Those sent to the old process were aborted when the server restarted it or saw
                # it die (watch.py).
                self.ended("died", keep_queued=True)
        elif msg.msg_type == "execute_input":
            current = self._open.get(msg.parent_id)
            if current is not None:
                current.saw_input = True
        elif msg.msg_type == "error":
            current = self._open.get(msg.parent_id)
            if current is not None:
                ename = (msg.content or {}).get("ename")
                current.status = "interrupted" if ename == "KeyboardInterrupt" else "error"

    def _time(self, msg: Message) -> float:
        """When the kernel said busy or idle: the date it wrote, but never later than the server
        received it, nor earlier than the busy or idle before it.

        xeus 6 (in xeus-python 0.19) writes the microseconds of its dates without leading zeros
        (12.045123 s as ``12.45123``), so the dates of one message in ten read up to 0.9 s late:
        a cell's busy read later than its idle. Such a date, capped at its receipt, falls between
        the true moment and the receipt: off by no more than the message's delivery."""
        received = time.time()
        at = min(kernel_time(msg.date, received), received)
        if self._clock is not None and at < self._clock:
            at = self._clock
        self._clock = at
        return at

    def _busy(self, msg: Message) -> None:
        started = self._time(msg)
        if self._last_end is not None and started < self._last_end[1]:
            # The kernel started this before the previous end was read: that reading may hold
            # some of this request's work.
            self._late_end(*self._last_end, started)
        self._last_end = None
        if msg.parent_type != "execute_request" or msg.parent_id is None:
            return
        answered = self._answered.pop(msg.parent_id, None)
        # The kernel says busy for requests in order: those answered still without theirs missed it.
        self._settle()
        if msg.parent_id in self._replied:  # recorded from its reply already
            del self._replied[msg.parent_id]
            return
        request = answered[0] if answered is not None else self._pending.pop(msg.parent_id, None)
        if request is not None and request.silent:
            return
        pid = self.pid()
        record = Execution(
            msg_id=msg.parent_id, cell_id=request.cell_id if request else None, started=started
        )
        current = _Open(record, pid, None, None, requested=request is not None)
        if self._open:
            # Some kernels (xeus) say busy for a request as it arrives, while another still runs:
            # it starts when those before it end (see _idle), as the kernel runs one at a time.
            current.waiting = True
        else:
            self._start(current, peak.read(pid, reset=True) if pid is not None else None)
        self._open[msg.parent_id] = current

    def _start(self, current: _Open, reading: peak.Reading | None) -> None:
        current.start = reading
        record = current.record
        if reading is None:
            return
        self._peak(reading.hwm)
        record.started = record.started or reading.at
        record.rss_start = reading.rss
        current.late = max(0.0, reading.at - record.started)

    def _idle(self, msg: Message) -> None:
        ended = self._time(msg)
        current = self._open.pop(msg.parent_id, None) if msg.parent_id else None
        if current is None:
            return
        end = peak.read(current.pid, reset=True) if current.pid is not None else None
        waiting = next(iter(self._open.values()), None)
        if waiting is not None and waiting.waiting:
            # The next request starts as this one ends: this end is its start.
            waiting.waiting = False
            waiting.record.started = ended
            self._start(waiting, end)
        if current.waiting:  # ended before those ahead of it: overlapping, its figures unknown
            current.start = None
        if not current.saw_input:
            if not current.requested:
                return  # silent, from a client that did not go through the server: not a cell
            current.status = "aborted"  # seen non-silent, but the kernel ran nothing
        self._close(current, end, ended)
        if waiting is not None and end is not None:
            self._late_end(current.record, end.at, ended)
            self._last_end = None

    def _late_end(self, record: Execution, read_at: float, next_started: float) -> None:
        """``record``'s end was read at ``read_at``, after the kernel started something else."""
        if read_at <= next_started:
            return
        record.late_s = round(max(record.late_s or 0.0, read_at - next_started), 4)
        record.peak_exact = record.peak_exact and record.late_s <= LATE_S
        if self.records and self.records[-1] is record:
            self._encoded[-1] = _encode(record)
        self._body = None

    def _close(self, current: _Open, end: peak.Reading | None, ended: float | None) -> None:
        record, start = current.record, current.start
        record.status = current.status
        record.ended = ended
        if record.started is not None and ended is not None:
            record.wall_s = round(max(0.0, ended - record.started), 6)
        if end is not None:
            self._peak(end.hwm)
            record.rss_end = end.rss
            if start is not None:
                record.cpu_s = round((end.cpu_ticks - start.cpu_ticks) / peak.CLOCK_TICKS, 3)
                exact = current.late is not None and current.late <= LATE_S
                # A late start: the peak read before that reset covers the cell's first moments
                # too (and whatever ran between cells), so it counts, and the peak is not exact.
                record.peak_rss = end.hwm if exact else max(start.hwm, end.hwm)
                record.peak_exact = exact
                record.late_s = round(current.late, 4) if current.late is not None else None
                record.children_cpu_s = _children_cpu_s(current, end)
            self._last_end = (record, end.at)
        else:
            self._last_end = None
        self._append(record)

    def _append(self, record: Execution) -> None:
        record.guard = self._marks.pop(record.msg_id, record.guard)
        self.records.append(record)
        self._encoded.append(_encode(record))
        self._body = None

    def _peak(self, hwm: int) -> None:
        if self.peak_since_start is None or hwm > self.peak_since_start:
            self.peak_since_start = hwm
            self._body = None

    def mark(self, msg_id: str | None, guard: str) -> None:
        """Note what the memory guard did to a request (None: the one running now)."""
        if msg_id is None:
            for current in self._open.values():
                current.record.guard = guard
            return
        current = self._open.get(msg_id)
        if current is not None:
            current.record.guard = guard
            return
        for i in range(len(self.records) - 1, max(len(self.records) - 5, -1), -1):
            if self.records[i].msg_id == msg_id:
                self.records[i].guard = guard
                self._encoded[i] = _encode(self.records[i])
                self._body = None
                return
        self._marks[msg_id] = guard  # recorded later (its idle or busy is still on its way)
        while len(self._marks) > MAX_PENDING:
            self._marks.popitem(last=False)

    def cell_of(self, msg_id: str) -> str | None:
        """The cell id of a request waiting, running or just recorded (its idle may be read before
        its reply), if the client gave one."""
        current = self._open.get(msg_id)
        if current is not None:
            return current.record.cell_id
        request = self._pending.get(msg_id)
        if request is not None:
            return request.cell_id
        for record in itertools.islice(reversed(self.records), 4):
            if record.msg_id == msg_id:
                return record.cell_id
        return None

    def reply(self, reply: Reply) -> None:
        """An execute_reply on its way to the client. A request still waiting then (neither open
        nor recorded) has not had its busy read: the kernel says busy before it replies (ipykernel
        as it takes the request up, xeus as it arrives), but the server reads the two sockets in
        either order, so that busy may be read next. Or it never will be: the first cell after a
        restart can run before the server's iopub watcher, re-created once the new process is up,
        has subscribed (ZeroMQ's slow joiner). A request whose busy is not read before the next
        request's, nor within :data:`ANSWERED_WAIT_S`, nor before the kernel ends, is recorded from
        its reply: its status, the reply's receipt as its end, nothing measured."""
        current = self._open.get(reply.msg_id)
        if current is not None:  # its idle is on its way; or the kernel ends first (see ended)
            current.answered = (reply, time.time())
        request = self._pending.pop(reply.msg_id, None)
        if request is None:  # open or recorded already
            return
        self._answered[reply.msg_id] = (request, reply, time.time())
        while len(self._answered) > MAX_PENDING:
            self._answered.popitem(last=False)

    def _settle(self, received_before: float | None = None) -> None:
        """Record the requests answered (before ``received_before``) whose busy was not read."""
        while self._answered:
            msg_id, (request, reply, received) = next(iter(self._answered.items()))
            if received_before is not None and received >= received_before:
                return
            del self._answered[msg_id]
            self._replied[msg_id] = None
            while len(self._replied) > MAX_PENDING:
                self._replied.popitem(last=False)
            if not request.silent:
                self._append(
                    Execution(msg_id, request.cell_id, started=None, ended=received, status=reply.status())
                )

    # -- from elsewhere ---------------------------------------------------------------------------

    def ended(self, status: str, keep_queued: bool = False) -> None:
        """The kernel died, restarted or shut down: close what was running with ``status`` and
        record requests still queued as aborted (unless ``keep_queued``: a new process has them)."""
        now = time.time()
        if not keep_queued:
            self._settle()  # answered: they ran
        if self._open:
            for current in list(self._open.values()):
                if current.waiting:  # said busy on arrival (xeus), never started: nothing ran
                    current.record.started = None
                    current.status = "aborted"
                    self._close(current, None, now)
                    continue
                # Still the process that ran it (a restart is told before the old one is killed):
                # its peak so far, if it is still there to read.
                end = peak.read(current.pid, reset=False) if current.pid is not None else None
                current.late = None  # ended by force: its peak is the old process's, unsure
                if current.answered is not None:  # it ran to its end: its idle was not read yet
                    reply, received = current.answered
                    current.status = reply.status()
                    self._close(current, end, received)
                    continue
                current.status = status
                self._close(current, end, now)
            self._open.clear()
        if not keep_queued:
            for request in self._pending.values():
                if not request.silent:
                    self._append(
                        Execution(
                            msg_id=request.msg_id,
                            cell_id=request.cell_id,
                            started=None,
                            ended=now,
                            status="aborted",
                        )
                    )
            self._pending.clear()
        self._last_end = None
        self._body = None

    def observe_children(self, taken_at: float, usage: Usage, pid: int | None, complete: bool = True) -> None:
        """A sample, taken at ``taken_at``, of the subtree of the kernel's process ``pid``: its
        descendants' PSS and the CPU levels of :func:`_children_cpu_s`. ``complete``: the sample
        read every process (the worker's cap left none out), so its CPU levels can be compared."""
        for current in self._open.values():
            started = current.record.started
            if started is not None and taken_at >= started:
                prev = current.record.children_peak_pss
                pss = usage.children_pss
                current.record.children_peak_pss = pss if prev is None else max(prev, pss)
                # Not for a request still queued behind another (its start is not known yet), nor
                # for another process than the one that started it (a restart).
                if complete and not current.waiting and pid == current.pid:
                    current.cpu_last = (usage.children_cpu_s, usage.reaped_cpu_s)
                    current.cpu_first = current.cpu_first or current.cpu_last
                    current.cpu_samples += 1

    @property
    def running(self) -> bool:
        return bool(self._open)

    def body(self) -> bytes:
        """``{"executions": [...], "peak_since_start": ...}``, built at most once per change from
        records encoded once each."""
        if self._answered:
            self._settle(time.time() - ANSWERED_WAIT_S)
        if self._body is None:
            self._body = (
                b'{"executions": ['
                + b", ".join(self._encoded)
                + b'], "peak_since_start": '
                + json.dumps(self.peak_since_start).encode()
                + b"}"
            )
        return self._body


def _children_cpu_s(current: _Open, end: peak.Reading) -> float | None:
    """CPU of the kernel's descendants during the execution that ``cpu_s`` leaves out: the work
    of children still running at its end. None without two complete samples during it.

    L, the own and reaped CPU of the live processes below the kernel, grows as they work and
    drops by a child's whole account when the kernel reaps it, which moves that account into the
    kernel's reaped time and so into ``cpu_s``. Between the first and the last sample, the change
    in L is then what the children alive at the last one did since the first, less what the
    children reaped in between had done by the first: their whole account is in ``cpu_s``, so
    nothing is counted twice (at most, their work before the first sample is taken off). A child
    reaped after the last sample (``p.wait()`` ending the cell) is the risk: the change in L
    counts its work and ``cpu_s`` holds it too. The kernel's reaped time grew by at least what L
    held of it at the last sample, so that growth is taken off: at worst this also takes off what
    children did after the last sample. The figure is thus never more than the descendants' work
    between the two samples; it misses the work in the first and last sample intervals, processes
    that left the tree (orphans adopted by init), and is never below 0.
    """
    first, last = current.cpu_first, current.cpu_last
    if first is None or last is None or current.cpu_samples < 2:
        return None
    reaped_since = max(0.0, end.reaped_ticks / peak.CLOCK_TICKS - last[1])
    return round(max(0.0, last[0] - first[0] - reaped_since), 3)


_FIELDS = tuple(f.name for f in dataclasses.fields(Execution))


def _encode(record: Execution) -> bytes:
    # Not dataclasses.asdict: its deep copies cost more than the rest of a cell's handling.
    return json.dumps({name: getattr(record, name) for name in _FIELDS}).encode()
