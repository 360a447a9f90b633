"""One kernel's cell records: where each begins and ends, what the kernel did in between, and the
bounded records.

A kernel runs the requests of its shell channel one at a time, in the order they came. So:

- a request sent to an idle kernel starts when the server passes it on (read then, before the
  kernel has it);
- a request ends at whichever the server sees first of its ``execute_reply`` (shell) and its
  ``idle`` (iopub), and the request queued behind it starts there, from the same reading;
- the kernel's ``busy`` for a request confirms its start (its date says when the kernel took it
  up), and starts it only where nothing else could: the server did not know the kernel idle.

The ``busy`` cannot be the start itself: ipykernel publishes its statuses from a thread of its
own, so a cell whose first statement is one long C call holding the GIL (``b'y' * (300 << 20)``)
delays its ``busy``, and often the previous cell's ``idle``, until that call returns; its reply
is usually on time, but leaves through a thread that needs the GIL too, so it may be held back
as well. xeus-python says ``busy`` for the requests queued behind a cell before that cell ends.

At each boundary the kernel's CPU, RSS and peak resident set are read and the peak reset (the
``reader``, :func:`.peak.read`, ~60 µs). While a request waits behind another, the worker follows
the kernel (:mod:`.trail`): an end that arrives late is read there, at the date the kernel wrote
on it. A boundary read late all the same (the server's loop was busy, or the trail did not reach
back) counts some of the next request's work in the one before: the records say so
(``cpu_exact``, ``peak_exact``, ``late_s``).

Everything here runs on the event loop, once per message of a request's life: a few microseconds
for the messages that are not boundaries (see :mod:`.frames`), one reading at each boundary.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import json
import re
import time
from collections.abc import Callable
from datetime import datetime

from ..snapshot import Usage
from . import peak
from .frames import Message, Reply, Request
from .trail import Trail

# Records kept per kernel (the newest). The route serves a body encoded once per change.
MAX_RECORDS = 500
# Requests seen on their way to the kernel and not yet ended (a long Run All queue is shorter);
# beyond this, the oldest waiting are forgotten.
MAX_PENDING = 2000
# Recent records whose figures a late busy or reply may still correct; other statuses the kernel
# said busy for and not idle yet. Both only matter for a moment.
MAX_RECENT = 64
MAX_OTHER_BUSY = 100
# A boundary read this long after the kernel began what follows (or a start read this long after
# the kernel took the request up) counts that much of another request's work: beyond this, the
# record says its CPU and peak are not exact.
LATE_S = 0.02

STATUSES = ("ok", "error", "aborted", "interrupted", "died")

# (pid, reset) -> the kernel's figures now, or None when it cannot be read.
Reader = Callable[[int, bool], "peak.Reading | None"]


@dataclasses.dataclass(slots=True)
class CellRecord:
    """What the route serves for one execution (times in seconds since the epoch, sizes in
    bytes; None where unknown)."""

    msg_id: str
    cell_id: str | None
    started: float | None
    ended: float | None = None
    wall_s: float | None = None
    cpu_s: float | None = None
    # cpu_s holds this request's work only (to within LATE_S of another's)
    cpu_exact: bool = False
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


@dataclasses.dataclass(slots=True, eq=False)
class _Boundary:
    """One reading of the kernel between two things it ran: the end of one and the start of the
    next."""

    reading: peak.Reading | None
    read_at: float  # the clock just after the reading
    pid: int | None  # the process read
    prior: float  # when the kernel was done with what came before (its own date), as far as known
    before: _Cell | None = None  # the cell this ends, while a late busy may still correct it
    after: _Cell | None = None  # the cell this starts
    # Read late, the kernel's figures at ``prior`` from its trail (see trail.py), and its peak
    # between then and ``reading``'s reset, which belongs to ``after``.
    trail: peak.Reading | None = None
    between_peak: int = 0

    def point(self) -> peak.Reading | None:
        """The kernel's figures at the boundary: from the trail, where the reading came late."""
        return self.trail if self.trail is not None else self.reading

    def began(self) -> float:
        """The earliest the kernel can have begun ``after``: not before what came before was
        done, nor before the request passed through the server, nor before the kernel's busy for
        it (which some kernels say early, never late: its date is kept when the message is)."""
        at = self.prior
        cell = self.after
        if cell is not None:
            if cell.passed is not None and cell.passed > at:
                at = cell.passed
            if cell.busy_at is not None and cell.busy_at > at:
                at = cell.busy_at
        return at

    def late(self) -> float:
        """How far from the kernel's boundary this was read: that much of ``after``'s work is
        counted in what came before, or of what came before in ``after`` (0 when nothing
        followed)."""
        if self.after is None:
            return 0.0
        if self.trail is not None:
            return max(0.0, self.prior - self.trail.at, self.trail.at - self.began())
        return max(0.0, self.read_at - self.began())


@dataclasses.dataclass(slots=True, eq=False)
class _Cell:
    """One execution: a request that passed through the server, or one the kernel said busy for
    that did not (another client's)."""

    record: CellRecord
    requested: bool  # its request passed through the server
    silent: bool
    passed: float | None  # when it passed through the server
    busy_at: float | None = None  # the kernel's date on its busy
    start: _Boundary | None = None
    end: _Boundary | None = None
    ended_at: float | None = None  # the kernel's date on its reply or idle (or when ended by force)
    saw_input: bool = False  # the kernel broadcast execute_input: it ran code
    status: str = "ok"
    replied: bool = False
    forced: bool = False  # ended by a death, restart or shutdown
    merged: bool = False  # its figures hold those of requests whose end the server never saw
    recorded: bool = False
    # (children_cpu_s, reaped_cpu_s) of the kernel's subtree (see snapshot.Usage) in the first and
    # the last complete sample taken during the execution, and how many there were
    cpu_first: tuple[float, float] | None = None
    cpu_last: tuple[float, float] | None = None
    cpu_samples: int = 0

    @property
    def pid(self) -> int | None:
        return self.start.pid if self.start is not None else None


def kernel_time(date: str | None, default: float) -> float:
    """Seconds since the epoch from a message header's ``date`` (the kernel's clock, the same host's
    for a local kernel), else ``default``. Not always right: see :meth:`KernelCells._date`."""
    if not date:
        return default
    try:
        return datetime.fromisoformat(date.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return default


_SHORT_FRACTION = re.compile(r"\.(\d{1,5})(?=Z|[+-]\d|$)")


def _unpadded(date: str) -> float | None:
    """For a date whose fraction of a second has fewer than 6 digits, the time it means if those
    digits are microseconds written without leading zeros; else None."""
    match = _SHORT_FRACTION.search(date)
    if match is None:
        return None
    fixed = date[: match.start()] + f".{int(match.group(1)):06d}" + date[match.end() :]
    return kernel_time(fixed, 0.0) or None


class KernelCells:
    """Cells of one kernel. ``pid()`` gives its local process now (None: not local);
    ``reader`` reads a process's figures (:func:`.peak.read`), ``clock`` tells the time
    (``time.time``): both are arguments so that the state machine can be tested alone."""

    def __init__(
        self,
        kernel_id: str,
        pid: Callable[[], int | None],
        max_records: int = MAX_RECORDS,
        reader: Reader = peak.read,
        clock: Callable[[], float] = time.time,
        trail: Trail | None = None,
    ):
        self.kernel_id = kernel_id
        self.pid = pid
        self.reader = reader
        self.clock = clock
        # Followed while requests wait behind the running one (the process followed, if any).
        self.trail = trail
        self._followed: int | None = None
        self.records: collections.deque[CellRecord] = collections.deque(maxlen=max_records)
        # Each record's JSON, encoded once (again only if a record changes): a body costs a join.
        self._encoded: collections.deque[bytes] = collections.deque(maxlen=max_records)
        self.peak_since_start: int | None = None  # running maximum of every VmHWM read
        # Requests that passed through the server and have not ended, in order: the first may be
        # running (it has a start), the others wait for it.
        self._queue: collections.OrderedDict[str, _Cell] = collections.OrderedDict()
        # Another client's execution, running (the queue is empty then).
        self._other: _Cell | None = None
        # Whatever else the kernel said busy for and not idle yet (kernel_info, comm messages,
        # another client's request while ours run...): the kernel may not be idle.
        self._other_busy: collections.OrderedDict[str | None, None] = collections.OrderedDict()
        # Ended requests whose busy or reply may still come, to correct their records.
        self._recent: collections.OrderedDict[str, _Cell] = collections.OrderedDict()
        # The last end read with nothing started from it.
        self._last_end: _Boundary | None = None
        # The process is up and has answered something since it started (else a request sent
        # now would wait for its start-up, which is no cell's work).
        self._ready = False
        # The kernel writes its dates' microseconds without leading zeros (see _date).
        self._unpadded = False
        self._body: bytes | None = None

    # -- what passes through the server ---------------------------------------------------------

    def request(self, request: Request) -> None:
        """An execute_request on its way to the kernel (from a WebSocket client), before the
        server sends it: on an idle kernel, the request's start is read now."""
        if request.msg_id in self._queue or request.msg_id in self._recent:
            return
        now = self.clock()
        cell = _Cell(
            CellRecord(request.msg_id, request.cell_id, started=None),
            requested=True,
            silent=request.silent,
            passed=now,
        )
        idle = self._idle()
        self._queue[request.msg_id] = cell
        if idle:
            self._begin(cell, self._read(self.pid(), prior=now))
        self._trim()
        self._follow_trail()

    def reply(self, reply: Reply) -> None:
        """An execute_reply on its way to the client: the end of its request, if its idle has
        not come first; else its status is the record's."""
        self._ready = True
        if reply.msg_id in self._queue:
            self._end(reply.msg_id, reply.date, reply.status(), replied=True)
            return
        cell = self._recent.get(reply.msg_id)
        if cell is not None and not cell.replied:
            cell.replied = True
            status = reply.status()
            if status != cell.status:  # the idle came first; the kernel's answer says it better
                cell.status = status
                self._refresh(cell)
            self._settled(cell)

    def on_message(self, msg: Message) -> None:
        if msg.msg_type == "status":
            state = (msg.content or {}).get("execution_state")
            if state == "busy":
                self._busy(msg)
            elif state == "idle":
                self._idle_status(msg)
            elif state == "starting":
                # A new process, up: whatever ran is over. The requests waiting stay: a kernel
                # says "starting" once up (xeus-python 0.3 s after it was launched, later under
                # load), and the requests sent since the launch are queued for it. Those sent to
                # the old process were aborted when the server restarted it or saw it die
                # (watch.py).
                self.ended("died", keep_queued=True)
                self._ready = True
                self._start_waiting(self._date(msg.date))
        elif msg.msg_type == "execute_input":
            cell = self._running(msg.parent_id)
            if cell is not None:
                cell.saw_input = True
        elif msg.msg_type == "error":
            cell = self._running(msg.parent_id)
            if cell is not None:
                ename = (msg.content or {}).get("ename")
                cell.status = "interrupted" if ename == "KeyboardInterrupt" else "error"

    # -- the boundaries ---------------------------------------------------------------------------

    def _idle(self) -> bool:
        """Whether the kernel, as far as the server knows, runs nothing and waits for nothing."""
        return self._ready and not self._queue and self._other is None and not self._other_busy

    def _date(self, date: str | None) -> float:
        """When the kernel wrote a message: the date it wrote, but never later than now (its
        receipt).

        xeus 6 (in xeus-python 0.19) writes the microseconds of its dates without leading zeros
        (12.045123 s as ``12.45123``), so the dates of one message in ten read up to 0.9 s late.
        Capped at its receipt, such a date would hide how late a boundary was read after it. A
        short fraction read later than its receipt gives such a kernel away (the kernel runs on
        this host, on the same clock); from then on its short fractions are read as it meant
        them."""
        now = self.clock()
        at = kernel_time(date, now)
        meant = _unpadded(date) if date else None
        if meant is not None:
            if at > now + 0.001:
                self._unpadded = True
            if self._unpadded:
                at = meant
        return min(at, now)

    def _read(self, pid: int | None, prior: float, reset: bool = True) -> _Boundary:
        reading = self.reader(pid, reset) if pid is not None else None
        if reading is not None:
            self._peak(reading.hwm)
        return _Boundary(reading, self.clock(), pid, prior)

    def _running(self, msg_id: str | None) -> _Cell | None:
        if msg_id is None:
            return None
        cell = self._queue.get(msg_id)
        if cell is None and self._other is not None and self._other.record.msg_id == msg_id:
            cell = self._other
        return cell

    def _begin(self, cell: _Cell, boundary: _Boundary) -> None:
        cell.start = boundary
        boundary.after = cell
        if boundary is self._last_end:
            self._last_end = None
        # What ended there now has something after it: its end may have been read late.
        self._refresh(boundary.before)

    def _start_waiting(self, prior: float) -> None:
        """The kernel is done with something the server did not track: the request waiting first,
        if nothing else may run before it, starts here."""
        head = next(iter(self._queue.values()), None)
        if head is not None and head.start is None and self._other is None and not self._other_busy:
            self._begin(head, self._read(self.pid(), prior))

    def _busy(self, msg: Message) -> None:
        at = self._date(msg.date)
        parent = msg.parent_id
        if msg.parent_type != "execute_request" or parent is None:
            self._busy_other(parent)
            return
        cell = self._queue.get(parent)
        if cell is not None:
            if cell.busy_at is None:
                cell.busy_at = at
            if cell.start is not None:
                self._confirmed(cell)
            elif cell is next(iter(self._queue.values())):
                # Queued behind something the server did not see end (or not known idle): it
                # starts at its busy, read now.
                self._begin(cell, self._read(self.pid(), prior=at))
            return
        cell = self._recent.get(parent)
        if cell is not None:  # ended before its busy reached the server
            if cell.busy_at is None:
                cell.busy_at = at
                self._confirmed(cell)
                self._refresh(cell)
                self._settled(cell)
            return
        if self._queue or self._other is not None:
            self._busy_other(parent)
            return
        # Another client's request (not through the server) on a kernel idle as far as we know.
        other = _Cell(CellRecord(parent, None, started=None), requested=False, silent=False, passed=None)
        other.busy_at = at
        last = self._last_end
        if last is not None and at < last.read_at + LATE_S:
            # The kernel took it up before (or as) the last end was read: that reading is its start.
            self._begin(other, last)
        else:
            self._begin(other, self._read(self.pid(), prior=at))
        self._other = other

    def _busy_other(self, parent: str | None) -> None:
        self._other_busy[parent] = None
        while len(self._other_busy) > MAX_OTHER_BUSY:
            self._other_busy.popitem(last=False)

    def _confirmed(self, cell: _Cell) -> None:
        """``cell``'s busy came: its start is as late as it will be; the end before it is
        corrected, then no longer needed."""
        start = cell.start
        if start is not None and start.before is not None:
            self._refresh(start.before)
            start.before = None

    def _idle_status(self, msg: Message) -> None:
        self._ready = True
        parent = msg.parent_id
        if parent is not None and parent in self._queue:
            self._end(parent, msg.date, None, replied=False)
            return
        other = self._other
        if other is not None and parent == other.record.msg_id:
            self._other = None
            at = self._date(msg.date)
            boundary = self._read(other.pid, prior=at)
            other.end, other.ended_at = boundary, at
            boundary.before = other
            self._follow(boundary)
            if other.saw_input:  # else silent, from a client that did not go through the server
                self._close(other)
            return
        if parent in self._recent:
            return
        self._other_busy.pop(parent, None)
        self._start_waiting(self._date(msg.date))

    def _end(self, msg_id: str, date: str | None, status: str | None, replied: bool) -> None:
        """The request ``msg_id`` (in the queue) ended: its reply or its idle, the first of them."""
        at = self._date(date)
        head = next(iter(self._queue.values()))
        if head.record.msg_id != msg_id:
            # The server saw neither reply nor idle for the requests before it, yet the kernel
            # ran them first: their figures cannot be told from this one's, which holds them all.
            start = head.start
            for ahead in list(self._queue):
                if ahead == msg_id:
                    break
                other = self._queue.pop(ahead)
                other.start, other.ended_at = None, at
                self._close(other)
            cell = self._queue[msg_id]
            cell.start, cell.merged = start, True
            if start is not None:
                start.after = cell
        cell = self._queue.pop(msg_id)
        boundary = self._read(cell.pid if cell.start is not None else self.pid(), prior=at)
        if boundary.read_at - at > LATE_S and boundary.pid is not None and boundary.pid == self._followed:
            found = self.trail.at(boundary.pid, at, boundary.reading)
            # Only a reading taken after the cell's start reset the peak holds the cell's peak.
            if found is not None and (cell.start is None or found[0].at >= cell.start.read_at):
                boundary.trail, boundary.between_peak = found
        self._follow_trail()
        boundary.before = cell
        cell.end, cell.ended_at, cell.replied = boundary, at, replied
        if status is not None:
            cell.status = status
        elif not cell.saw_input and cell.requested:
            cell.status = "aborted"  # its idle, and it ran nothing
        self._follow(boundary)
        self._close(cell)

    def _follow(self, boundary: _Boundary) -> None:
        """What ended at ``boundary`` may have the next queued request behind it: that starts
        there."""
        head = next(iter(self._queue.values()), None)
        if head is not None and head.start is None and self._other is None:
            self._begin(head, boundary)
        else:
            self._last_end = boundary

    def _follow_trail(self, again: bool = False) -> None:
        """Follow the kernel's trail while a request waits behind another, and only then
        (``again``: the process may have changed)."""
        if self.trail is None:
            return
        if self._followed is not None and (again or len(self._queue) < 2):
            self.trail.leave(self._followed)
            self._followed = None
        if self._followed is None and len(self._queue) > 1:
            self._followed = self.pid()
            if self._followed is not None:
                self.trail.follow(self._followed)

    # -- records ----------------------------------------------------------------------------------

    def _close(self, cell: _Cell) -> None:
        if cell.requested:
            self._recent[cell.record.msg_id] = cell
            while len(self._recent) > MAX_RECENT:
                _, old = self._recent.popitem(last=False)
                if old.start is not None:
                    old.start.before = None
            self._settled(cell)
        if cell.silent:
            return
        self._figures(cell)
        end = cell.end
        if end is not None and end.reading is not None and cell.start is not None:
            cell.record.children_cpu_s = _children_cpu_s(cell, end.point())
        cell.recorded = True
        self.records.append(cell.record)
        self._encoded.append(_encode(cell.record))
        self._body = None

    def _settled(self, cell: _Cell) -> None:
        """Nothing more can correct ``cell``'s record once both its busy and its reply came."""
        if cell.busy_at is not None and (cell.replied or not cell.requested):
            self._recent.pop(cell.record.msg_id, None)

    def _figures(self, cell: _Cell) -> None:
        """The record's fields from the cell's boundaries, as known now."""
        record, start, end = cell.record, cell.start, cell.end
        record.status = cell.status
        if start is None:  # never started as far as the server saw: nothing measured
            record.started = None
            record.ended = cell.ended_at
            return
        started = start.began()
        ended = max(cell.ended_at if cell.ended_at is not None else started, started)
        record.started, record.ended = started, ended
        record.wall_s = round(ended - started, 6)
        if end is None or start.reading is None or end.reading is None:
            return
        late_start = start.late()
        late = max(late_start, end.late())
        exact = late <= LATE_S and not cell.merged
        first, last = start.point(), end.point()
        record.cpu_s = round(max(0, last.cpu_ticks - first.cpu_ticks) / peak.CLOCK_TICKS, 3)
        record.cpu_exact = exact
        # A start read late: the peak read before that reset covers the cell's first moments too
        # (and whatever ran between, unless the trail tells the cell's part), so it counts.
        if start.trail is not None:
            before_reset = start.between_peak
        else:
            before_reset = start.reading.hwm if late_start > LATE_S else 0
        record.peak_rss = max(before_reset, last.hwm)
        # A death, restart or shutdown: the peak is the old process's so far, read without reset.
        record.peak_exact = exact and not cell.forced
        record.rss_start, record.rss_end = first.rss, last.rss
        record.late_s = round(late, 4)

    def _refresh(self, cell: _Cell | None) -> None:
        """Re-encode ``cell``'s record after what its figures depend on changed."""
        if cell is None or not cell.recorded:
            return
        self._figures(cell)
        for i in range(len(self.records) - 1, -1, -1):
            if self.records[i] is cell.record:
                self._encoded[i] = _encode(cell.record)
                self._body = None
                return

    def _trim(self) -> None:
        """Forget the oldest waiting requests beyond :data:`MAX_PENDING`."""
        while len(self._queue) > MAX_PENDING:
            for msg_id, cell in self._queue.items():
                if cell.start is None:
                    del self._queue[msg_id]
                    break
            else:
                return

    def _peak(self, hwm: int) -> None:
        if self.peak_since_start is None or hwm > self.peak_since_start:
            self.peak_since_start = hwm
            self._body = None

    def mark(self, msg_id: str | None, guard: str) -> None:
        """Note what the memory guard did to a request (None: the one running now)."""
        cell = self._running(msg_id) if msg_id is not None else self._current()
        if cell is None and msg_id is not None:
            cell = self._recent.get(msg_id)
        if cell is not None:
            cell.record.guard = guard
            record = cell.record
        else:
            record = next(
                (r for r in itertools.islice(reversed(self.records), 4) if r.msg_id == msg_id), None
            )
            if record is None:
                return
            record.guard = guard
        for i in range(len(self.records) - 1, max(len(self.records) - 5, -1), -1):
            if self.records[i] is record:
                self._encoded[i] = _encode(record)
                self._body = None
                return

    def _current(self) -> _Cell | None:
        """The request running now, if any."""
        head = next(iter(self._queue.values()), None)
        return head if head is not None and head.start is not None else self._other

    def cell_of(self, msg_id: str) -> str | None:
        """The cell id of a request waiting, running or just recorded, if the client gave one."""
        cell = self._running(msg_id) or self._recent.get(msg_id)
        if cell is not None:
            return cell.record.cell_id
        for record in itertools.islice(reversed(self.records), 4):
            if record.msg_id == msg_id:
                return record.cell_id
        return None

    # -- from elsewhere ---------------------------------------------------------------------------

    def ended(self, status: str, keep_queued: bool = False) -> None:
        """The kernel died, restarted or shut down: close what was running with ``status`` and
        record requests still queued as aborted (unless ``keep_queued``: a new process has them)."""
        now = self.clock()
        running = [c for c in (next(iter(self._queue.values()), None), self._other) if c is not None]
        for cell in running:
            if cell.start is None:
                continue
            if cell is self._other:
                self._other = None
            else:
                del self._queue[cell.record.msg_id]
            # Still the process that ran it (a restart is told before the old one is killed):
            # its figures so far, if it is still there to read.
            boundary = self._read(cell.pid, prior=now, reset=False)
            boundary.before = cell
            cell.end, cell.ended_at, cell.status, cell.forced = boundary, now, status, True
            self._close(cell)
        if keep_queued:
            for cell in self._queue.values():
                cell.start = None
        else:
            for cell in self._queue.values():
                cell.start, cell.ended_at, cell.status = None, now, "aborted"
                self._close(cell)
            self._queue.clear()
        self._other_busy.clear()
        self._last_end = None
        self._ready = False
        self._follow_trail(again=True)
        self._body = None

    def observe_children(self, taken_at: float, usage: Usage, pid: int | None, complete: bool = True) -> None:
        """A sample, taken at ``taken_at``, of the subtree of the kernel's process ``pid``: its
        descendants' PSS and the CPU levels of :func:`_children_cpu_s`. ``complete``: the sample
        read every process (the worker's cap left none out), so its CPU levels can be compared."""
        for cell in (next(iter(self._queue.values()), None), self._other):
            if cell is None or cell.start is None or taken_at < cell.start.began():
                continue
            prev = cell.record.children_peak_pss
            pss = usage.children_pss
            cell.record.children_peak_pss = pss if prev is None else max(prev, pss)
            # Not for another process than the one that started it (a restart).
            if complete and pid == cell.pid:
                cell.cpu_last = (usage.children_cpu_s, usage.reaped_cpu_s)
                cell.cpu_first = cell.cpu_first or cell.cpu_last
                cell.cpu_samples += 1

    @property
    def running(self) -> bool:
        return bool(self._queue) or self._other is not None

    def body(self) -> bytes:
        """``{"cells": [...], "peak_since_start": ...}``, built at most once per change from
        records encoded once each."""
        if self._body is None:
            self._body = (
                b'{"cells": ['
                + b", ".join(self._encoded)
                + b'], "peak_since_start": '
                + json.dumps(self.peak_since_start).encode()
                + b"}"
            )
        return self._body


def _children_cpu_s(cell: _Cell, end: peak.Reading) -> float | None:
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
    first, last = cell.cpu_first, cell.cpu_last
    if first is None or last is None or cell.cpu_samples < 2:
        return None
    reaped_since = max(0.0, end.reaped_ticks / peak.CLOCK_TICKS - last[1])
    return round(max(0.0, last[0] - first[0] - reaped_since), 3)


_FIELDS = tuple(f.name for f in dataclasses.fields(CellRecord))


def _encode(record: CellRecord) -> bytes:
    # Not dataclasses.asdict: its deep copies cost more than the rest of a cell's handling.
    return json.dumps({name: getattr(record, name) for name in _FIELDS}).encode()
