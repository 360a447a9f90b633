"""The server's half of watching its own event loop: answer the worker's probes, keep the lag's
percentiles over the last minute and a bounded list of blocks with their stacks.

Everything here runs on the event loop, once per probe (4 a second): one reader callback reads the
probe pipe, parses a short line, stores a number in the shared answer page, appends to a deque and
counts a histogram bucket. A block (a probe
answered ``threshold_s`` late or more) also reads back the few KiB faulthandler wrote while the
loop was stuck and parses them: once per block, after a block that cost a second already.

A probe is as late as the loop was busy when it arrived, and probes are sent on a fixed schedule,
so percentiles over probes weight each block by its length (a 2 s block is 8 late probes). The
probes sent during a block are answered with it and count in the percentiles, not as more blocks.
A block's duration is the lag of its first late probe: at most one probe interval (250 ms) less
than the true block, never more. See :mod:`..worker.loop_probe` for the worker's half.
"""

from __future__ import annotations

import asyncio
import bisect
import collections
import logging
import math
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..worker.loop_probe import AnswerPage, ProbeOptions, parse_probe
from . import stacks
from .stacks import Frame

WINDOW_S = 60.0
MAX_BLOCKS = 20
# Upper bounds of the lag histogram's buckets, seconds: from a healthy loop's milliseconds to a
# stall that makes users reload the page. JupyterHub's event-loop histogram starts at its 50 ms
# tick; ours has no tick, so it resolves down to 1 ms.
LAG_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class Block:
    """One episode of the loop blocked past the threshold."""

    id: int  # 1, 2, ... for this server: the frontend notifies once per new id
    time: float  # Unix time the first late probe was sent (the block began at most 250 ms before)
    duration_ms: float
    stack: list[Frame] = field(default_factory=list)  # the loop thread's, innermost first
    culprit: Frame | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time": self.time,
            "duration_ms": self.duration_ms,
            "stack": [f.to_json() for f in self.stack],
            "culprit": self.culprit.to_json() if self.culprit else None,
        }


class LagHistogram:
    """Cumulative lag counts for Prometheus: a bucket index per probe, O(log buckets)."""

    def __init__(self, bounds: tuple[float, ...] = LAG_BUCKETS_S):
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one: above every bound (+Inf)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def cumulative(self) -> list[tuple[str, int]]:
        """(``le`` label, count of observations at or below it), ending with ``+Inf``."""
        out, running = [], 0
        for bound, count in zip(self.bounds + (math.inf,), self.counts, strict=False):
            running += count
            out.append(("+Inf" if bound == math.inf else repr(bound), running))
        return out


class LoopWatch:
    """Answers probes and keeps what they showed. ``listeners`` are called on the loop with each
    new :class:`Block` (e.g. to emit it on jupyter_server's event bus)."""

    def __init__(
        self,
        threshold_s: float = 1.0,
        window_s: float = WINDOW_S,
        max_blocks: int = MAX_BLOCKS,
        log: logging.Logger | None = None,
    ):
        self.threshold_s = threshold_s
        self.window_s = window_s
        self.log = log or logging.getLogger(__name__)
        self.listeners: list[Callable[[Block], None]] = []
        self.blocks: collections.deque[Block] = collections.deque(maxlen=max_blocks)
        self.blocks_total = 0  # for Prometheus: never decreases, unlike the bounded list
        self.histogram = LagHistogram()
        self.probes_total = 0
        self._recent: collections.deque[tuple[float, float]] = collections.deque()  # (answered, lag)
        self._block_until = -math.inf  # probes sent before this belong to the last block
        self._lag_cache: tuple[int, dict[str, float | None]] | None = None
        self._blocks_json: list[dict[str, Any]] = []
        self._page: AnswerPage | None = None
        self._page_path: str | None = None
        self._dumper: stacks.StackDumper | None = None
        self._loop_thread = threading.get_ident()
        self._pipe: tuple[int, int] | None = None  # the probe pipe: (read end, write end)
        self._partial = b""  # the start of a line not read whole yet
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> ProbeOptions:
        """Create the probe pipe and the answer page and register faulthandler; the worker's probe
        options. The worker must inherit :attr:`probe_fd`; probes are read once :meth:`attach`ed.

        Without a free signal the loop is still measured, and blocks are recorded without a
        stack."""
        self._loop_thread = threading.get_ident()
        self._pipe = os.pipe()
        for end in self._pipe:
            # Non-blocking on both sides (one open file description): the loop never waits to
            # read, and a worker whose probes pile up in a stuck server skips them.
            os.set_blocking(end, False)
        directory = stacks.fast_directory()
        stacks.remove_orphans(directory)
        fd, self._page_path = tempfile.mkstemp(prefix=stacks.file_prefix("answer"), dir=directory)
        os.close(fd)
        self._page = AnswerPage(self._page_path, writable=True)
        sig = stacks.pick_signal()
        if sig is None:
            self.log.warning(
                "Resource monitor: no free signal for faulthandler; event-loop blocks "
                "are recorded without their stack"
            )
        else:
            self._dumper = stacks.StackDumper(sig, directory)
        return ProbeOptions(
            answer_path=self._page_path,
            fd=self._pipe[1],
            server_pid=os.getpid(),
            signal=sig or 0,
            threshold_s=self.threshold_s,
        )

    @property
    def probe_fd(self) -> int | None:
        """The probe pipe's write end, for the worker to inherit (None before :meth:`start`)."""
        return self._pipe[1] if self._pipe else None

    def attach(self) -> None:
        """Read probes on the running loop, and take its thread as the loop's (its stack is the
        one a block's record shows). Call from the loop, once it runs."""
        self._loop_thread = threading.get_ident()
        if self._pipe is not None and self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._loop.add_reader(self._pipe[0], self._on_readable)

    def stop(self) -> None:
        """Unregister faulthandler, close the pipe and remove the files. Stop the worker first:
        the signal's default action would end the server."""
        if self._loop is not None and self._pipe is not None:
            if not self._loop.is_closed():
                self._loop.remove_reader(self._pipe[0])
            self._loop = None
        if self._pipe is not None:
            for end in self._pipe:
                os.close(end)
            self._pipe = None
        if self._dumper is not None:
            self._dumper.close()
            self._dumper = None
        if self._page is not None:
            self._page.close()
            self._page = None
        if self._page_path:
            try:
                os.unlink(self._page_path)
            except OSError:
                pass
            self._page_path = None

    @property
    def signal(self) -> int | None:
        """The signal faulthandler is registered for, while it is."""
        return self._dumper.signal if self._dumper else None

    # -- per probe, on the loop --------------------------------------------------------------

    def _on_readable(self) -> None:
        """The probe pipe has lines: answer each (several after a block)."""
        try:
            data = os.read(self._pipe[0], 65536)
        except BlockingIOError:
            return
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()  # writes of a line are atomic: this is almost always b""
        for line in lines:
            self.on_probe(line)

    def on_probe(self, line: bytes) -> float | None:
        """Answer one probe line and account for its lag; its send time (None if unreadable)."""
        now = time.monotonic()
        try:
            seq, sent_at = parse_probe(line)
        except ValueError:
            return None
        if self._page is not None:
            self._page.write(seq)
        lag = max(0.0, now - sent_at)
        self.probes_total += 1
        self.histogram.observe(lag)
        recent = self._recent
        recent.append((now, lag))
        while recent and recent[0][0] < now - self.window_s:
            recent.popleft()
        if lag >= self.threshold_s and sent_at >= self._block_until:
            self._block_until = now
            self._record(lag, sent_at, now)
        return sent_at

    def _record(self, lag: float, sent_at: float, now: float) -> None:
        stack: list[Frame] = []
        if self._dumper is not None:
            try:
                dump = self._dumper.take()
            except OSError as exc:
                self.log.warning("Resource monitor: could not read the loop's stack: %s", exc)
            else:
                stack = stacks.parse_dump(dump).get(self._loop_thread, [])
        self.blocks_total += 1
        block = Block(
            id=self.blocks_total,
            time=time.time() - (now - sent_at),
            duration_ms=_ms(lag),
            stack=stack,
            culprit=stacks.culprit(stack),
        )
        self.blocks.append(block)
        self._blocks_json = [b.to_json() for b in self.blocks]  # once per block, not per request
        where = (
            f" in {block.culprit.function} ({block.culprit.file}:{block.culprit.line})"
            if block.culprit
            else ""
        )
        self.log.warning("The server's event loop was blocked for %.1f s%s", lag, where)
        for listener in self.listeners:
            try:
                listener(block)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop the measurement
                self.log.exception("Resource monitor: an event-loop block listener failed")

    # -- read by handlers: cached, O(1) per request ----------------------------------------------------

    def lag_ms(self, now: float | None = None) -> dict[str, float | None]:
        """p50, p99 and max of the probes' lag over the last ``window_s``, milliseconds (None
        when no probe was answered in that time). Sorted at most once per probe, however many
        clients ask."""
        now = time.monotonic() if now is None else now
        if not self._recent or self._recent[-1][0] < now - self.window_s:
            return {"p50": None, "p99": None, "max": None}
        if self._lag_cache is None or self._lag_cache[0] != self.probes_total:
            ordered = sorted(lag for _, lag in self._recent)
            self._lag_cache = (
                self.probes_total,
                {
                    "p50": _ms(_nearest_rank(ordered, 50)),
                    "p99": _ms(_nearest_rank(ordered, 99)),
                    "max": _ms(ordered[-1]),
                },
            )
        return self._lag_cache[1]

    def payload(self, now: float | None = None) -> dict[str, Any]:
        """``event_loop`` in ``/api/metrics/v1`` (docs/api.md)."""
        last = self.blocks[-1] if self.blocks else None
        return {
            "lag_ms": self.lag_ms(now),
            "window_s": self.window_s,
            "threshold_ms": round(1000 * self.threshold_s),
            "blocks": self._blocks_json,
            "blocks_total": self.blocks_total,
            "last_block_id": last.id if last else 0,
            "stacks": self._dumper is not None,
        }


def _nearest_rank(ordered: list[float], q: float) -> float:
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _ms(seconds: float) -> float:
    return round(1000 * seconds, 2)
