"""The worker's half of watching the server's event loop: a thread that sends the server a probe
every 250 ms and signals it when one goes unanswered past the threshold.

Why here and not in the server: a Python thread in the server wakes often and competes with the
loop for the GIL (each wake-up can make the loop wait up to the switch interval, 5 ms), and a
coroutine cannot see a block while it is happening. The worker is another process: it keeps its
schedule whatever the server does, and while sampling is paused (its main thread then waits in
``select``), since this is a thread of its own.

Protocol (see :mod:`..tracking.loop_watch` for the server's half):

- each probe is one line, ``p <seq> <CLOCK_MONOTONIC seconds>\\n``, written on a pipe of its own
  (``fd``, the server's, passed to the worker), on a fixed schedule whether or not the last one was
  answered. ``time.monotonic`` is one clock for every process on Linux, so the server measures the
  lag against the worker's send time and the worker's own scheduling delays (it runs at nice 10)
  never count as the loop's. The pipe is the probes' alone, so the loop reads each in one reader
  callback (no asyncio stream, no task wake-up; costs in benchmarks/README.md). The pipe is
  non-blocking: while the loop is stuck for minutes and the pipe is full, probes are skipped, not
  queued.
- the server answers by storing the sequence number it handled in a shared 8-byte page (a file
  both map): no system call on the loop, and no reader needed in the worker.
- when the oldest unanswered probe is ``threshold_s`` old, the worker sends ``signal`` to the
  server once; faulthandler, registered for it, writes the stacks (see ``tracking/stacks.py``).
  The age is taken before the page is read, so a signalled probe is always answered at least
  ``threshold_s`` late: every dump belongs to a block the server records.

Each probe is one ``write`` of a few bytes (atomic on a pipe), so lines never interleave.
"""

from __future__ import annotations

import collections
import math
import mmap
import os
import struct
import threading
import time
from dataclasses import asdict, dataclass

INTERVAL_S = 0.25
_SEQ = struct.Struct("<Q")


@dataclass(frozen=True, slots=True)
class ProbeOptions:
    """What the prober needs, part of the worker's options (as a dict in JSON)."""

    answer_path: str  # the shared page holding the last answered sequence number
    fd: int  # the probe pipe's write end (non-blocking), the same number in the worker
    server_pid: int
    signal: int  # faulthandler's signal in the server; 0: none
    threshold_s: float = 1.0
    interval_s: float = INTERVAL_S

    def to_dict(self) -> dict:
        return asdict(self)


def probe_line(seq: int, sent_at: float) -> bytes:
    return b"p %d %.6f\n" % (seq, sent_at)


def parse_probe(line: bytes) -> tuple[int, float]:
    """(sequence number, send time) of a probe line; ValueError if it is not one."""
    _, seq, sent_at = line.split()
    return int(seq), float(sent_at)


class AnswerPage:
    """The shared page: the server writes the last sequence number it answered, the worker reads
    it. One aligned 8-byte store, so a reader never sees half of it."""

    SIZE = _SEQ.size

    def __init__(self, path: str, writable: bool = False):
        flags = os.O_RDWR if writable else os.O_RDONLY
        fd = os.open(path, flags)
        try:
            if writable and os.fstat(fd).st_size < self.SIZE:
                os.ftruncate(fd, self.SIZE)
            access = mmap.ACCESS_WRITE if writable else mmap.ACCESS_READ
            self._map = mmap.mmap(fd, self.SIZE, access=access)
        finally:
            os.close(fd)

    def read(self) -> int:
        return _SEQ.unpack_from(self._map, 0)[0]

    def write(self, seq: int) -> None:
        _SEQ.pack_into(self._map, 0, seq)

    def close(self) -> None:
        self._map.close()


class Prober:
    """Sends probes on a fixed schedule and signals the server when one is late.

    :meth:`pause` stops the probes (the worker pauses them with its sampling, when nobody has
    polled for its idle timeout: the watch matters while a client is connected, and an idle
    server is then woken by nothing); probes already sent are still watched until answered or
    signalled. :meth:`resume` starts them again at once."""

    def __init__(self, options: ProbeOptions):
        self.options = options
        self.page = AnswerPage(options.answer_path)
        self.signals_sent = 0
        self._active = threading.Event()
        self._active.set()

    def pause(self) -> None:
        self._active.clear()

    def resume(self) -> None:
        self._active.set()

    @property
    def paused(self) -> bool:
        return not self._active.is_set()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._run_quietly, name="loop-prober", daemon=True)
        thread.start()
        return thread

    def _run_quietly(self) -> None:
        try:
            self.run()
        except (BrokenPipeError, ValueError, OSError):
            pass  # the server is gone

    def run(self) -> None:
        options = self.options
        seq = self.page.read()  # a restarted worker numbers on from the last answer
        pending: collections.deque[tuple[int, float]] = collections.deque()  # unanswered, oldest first
        signalled = seq
        next_at = time.monotonic()
        while True:
            if not self._active.is_set() and not (pending and pending[0][0] > signalled):
                self._active.wait()  # paused, nothing left to watch: no wake-ups at all
                pending.clear()  # answered or not, the probes before the pause are history
                signalled = seq = max(seq, self.page.read())
                next_at = time.monotonic()
            wake_at = next_at if self._active.is_set() else math.inf
            if pending and pending[0][0] > signalled:
                wake_at = min(wake_at, pending[0][1] + options.threshold_s)
            delay = wake_at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            now = time.monotonic()  # before reading the page: see the module's docstring
            answered = self.page.read()
            while pending and pending[0][0] <= answered:
                pending.popleft()
            if pending and pending[0][0] > signalled and now - pending[0][1] >= options.threshold_s:
                signalled = pending[0][0]
                self._signal()
            if self._active.is_set() and time.monotonic() >= next_at:
                sent_at = time.monotonic()
                try:
                    os.write(options.fd, probe_line(seq + 1, sent_at))
                except BlockingIOError:
                    pass  # the pipe is full: the loop has been stuck a long while, and is still
                else:
                    seq += 1
                    pending.append((seq, sent_at))
                next_at += options.interval_s
                if next_at <= time.monotonic():  # this process was held back: keep the rhythm
                    next_at = time.monotonic() + options.interval_s

    def _signal(self) -> None:
        # Only our own parent (a server that died and whose pid was reused gets nothing), and only
        # with a signal (0: the server found none free, so blocks are recorded without a stack).
        if not self.options.signal or os.getppid() != self.options.server_pid:
            return
        try:
            os.kill(self.options.server_pid, self.options.signal)
            self.signals_sent += 1
        except OSError:
            pass


def start(options: dict) -> Prober:
    """Start the prober thread from the worker's options (``WorkerOptions.loop_probe``)."""
    prober = Prober(ProbeOptions(**options))
    prober.start()
    return prober
