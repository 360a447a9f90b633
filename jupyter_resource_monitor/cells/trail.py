"""A kernel's trail: its CPU, RSS and peak read every 10 ms while cells wait behind the one it
runs, so that a boundary the server learns late can still be read where the kernel put it.

Why: ipykernel sends its messages from threads that need the GIL. When the next queued cell
starts with one long C call holding it (``b'y' * (300 << 20)``, a big sort), the previous cell's
``execute_reply`` and ``idle`` leave the kernel only when that call returns, dated when they were
written. A reading taken on their arrival would give the C call's CPU and memory to the cell
before; the trail holds what the kernel's figures were at their date.

Who does what: the worker's thread (:class:`TrailWriter`, at the server's priority, like the
memory guard's) reads the kernels it is told of and writes each reading into a ring in memory
both processes map; the server (:class:`Trail`, on the event loop) says which kernels to follow
(``t {"slot": n, "pid": p}`` on the worker's stdin, ``"pid": null`` to stop) and reads the ring
at a late boundary, without a system call or a wait. Nothing runs when no cell waits.

The ring holds ``RING`` readings per kernel (20 s at 10 ms): a boundary held back longer is read
on arrival, and its record says it is not exact.
"""

from __future__ import annotations

import mmap
import os
import struct
import threading
import time
from collections.abc import Callable

from ..worker import procfs
from . import peak

INTERVAL_S = 0.01
SLOTS = 8  # kernels followed at once; more wait for a free slot (their boundaries as before)
RING = 2048
_HEAD = struct.Struct("<Qq")  # readings written so far, the pid followed (0: none)
_ENTRY = struct.Struct("<dqqqq")  # at, cpu_ticks (with reaped), rss, hwm, reaped_ticks
SLOT_SIZE = _HEAD.size + RING * _ENTRY.size
SIZE = SLOTS * SLOT_SIZE


def _entry_offset(slot: int, seq: int) -> int:
    return slot * SLOT_SIZE + _HEAD.size + (seq % RING) * _ENTRY.size


class Trail:
    """The server's side: which kernels the worker follows, and what it read of them.

    ``send`` writes a command line to the worker (False when none runs: the kernel is then not
    followed, and its boundaries are read as they arrive)."""

    def __init__(self, send: Callable[[bytes], bool]):
        self.send = send
        self.fd = os.memfd_create("jupyter-resource-monitor-trail")
        os.ftruncate(self.fd, SIZE)
        self._map = mmap.mmap(self.fd, SIZE)
        self._slots: dict[int, int] = {}  # pid -> slot

    def follow(self, pid: int) -> None:
        if pid in self._slots:
            return
        free = set(range(SLOTS)).difference(self._slots.values())
        if not free:
            return
        slot = min(free)
        if self.send(b't {"slot": %d, "pid": %d}\n' % (slot, pid)):
            self._slots[pid] = slot

    def leave(self, pid: int) -> None:
        slot = self._slots.pop(pid, None)
        if slot is not None:
            self.send(b't {"slot": %d, "pid": null}\n' % slot)

    def at(self, pid: int, when: float, now: peak.Reading | None) -> tuple[peak.Reading, int] | None:
        """The last reading of ``pid`` taken at or before ``when`` (seconds since the epoch),
        and the peak resident set between it and ``now`` (the reading just taken, before its
        reset): the highest RSS read since, or ``now``'s peak if that rose above the one read
        then. None when the trail does not reach back to ``when``."""
        slot = self._slots.get(pid)
        if slot is None:
            return None
        written, followed = _HEAD.unpack_from(self._map, slot * SLOT_SIZE)
        if followed != pid or written == 0:
            return None
        # Back from the newest (a boundary is looked up as soon as it arrives, so only the
        # readings taken since it lie behind it): the peak between is the highest RSS passed.
        oldest = max(0, written - RING + 1)  # the one being overwritten may be torn
        between = 0
        for seq in range(written - 1, oldest - 1, -1):
            at, cpu, rss, hwm, reaped = _ENTRY.unpack_from(self._map, _entry_offset(slot, seq))
            if at <= when:
                break
            between = max(between, rss)
        else:
            return None
        if _HEAD.unpack_from(self._map, slot * SLOT_SIZE)[0] >= seq + RING:
            return None  # overwritten while read
        if now is not None:
            between = max(between, now.rss, now.hwm if now.hwm > hwm else 0)
        return peak.Reading(at, cpu, rss, hwm, reaped), between


class TrailWriter:
    """The worker's side: a thread that reads the kernels it is told of every ``INTERVAL_S`` and
    sleeps when there are none. ``follow`` opens a process for reading (tests give a fake)."""

    def __init__(
        self, fd: int, interval_s: float = INTERVAL_S, follow: Callable[[int], Followed] | None = None
    ):
        self._map = mmap.mmap(fd, SIZE)
        # A new worker follows nothing, whatever the last one did.
        for slot in range(SLOTS):
            _HEAD.pack_into(self._map, slot * SLOT_SIZE, 0, 0)
        self.interval_s = interval_s
        self._open = follow or Followed
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._followed: dict[int, Followed] = {}  # slot -> kernel

    def command(self, command: dict) -> None:
        slot, pid = int(command["slot"]), command.get("pid")
        if not 0 <= slot < SLOTS:
            return
        with self._lock:
            old = self._followed.pop(slot, None)
            if old is not None:
                old.close()
            _HEAD.pack_into(self._map, slot * SLOT_SIZE, 0, int(pid or 0))
            if pid:
                self._followed[slot] = self._open(int(pid))
        self._wake.set()

    def stop(self) -> None:
        self._stopped = True
        self._wake.set()

    def run(self) -> None:
        next_at = time.monotonic()
        while not self._stopped:
            if not self.tick():
                self._wake.wait()
                self._wake.clear()
                next_at = time.monotonic()
                continue
            next_at += self.interval_s
            left = next_at - time.monotonic()
            if left > 0:
                self._wake.wait(left)
                self._wake.clear()
            else:
                next_at = time.monotonic()  # fell behind (the machine is busy): no catching up

    def tick(self) -> bool:
        """One reading of every kernel followed into its ring; False when none is followed."""
        with self._lock:
            followed = list(self._followed.items())
        for slot, kernel in followed:
            reading = kernel.read()
            if reading is None:
                continue
            with self._lock:
                if self._followed.get(slot) is not kernel:
                    continue  # left while it was read
                base = slot * SLOT_SIZE
                written = _HEAD.unpack_from(self._map, base)[0]
                _ENTRY.pack_into(self._map, _entry_offset(slot, written), *reading)
                _HEAD.pack_into(self._map, base, written + 1, kernel.pid)
        return bool(followed)


class Followed:
    """One kernel, its ``stat`` and ``status`` files kept open (a ``pread`` each per reading)."""

    def __init__(self, pid: int):
        self.pid = pid
        self._fds: tuple[int, int] | None = None
        try:
            stat = os.open(f"{procfs.PROC}/{pid}/stat", os.O_RDONLY)
            try:
                self._fds = (stat, os.open(f"{procfs.PROC}/{pid}/status", os.O_RDONLY))
            except OSError:
                os.close(stat)
        except OSError:
            pass  # gone, or another user's: nothing to follow

    def read(self) -> tuple[float, int, int, int, int] | None:
        if self._fds is None:
            return None
        try:
            stat = procfs.parse_stat(self.pid, os.pread(self._fds[0], 1024, 0))
            hwm, rss = peak.hwm_rss(os.pread(self._fds[1], 4096, 0))
        except (procfs.ProcfsError, OSError, ValueError):
            self.close()
            return None
        return (time.time(), stat.cpu_ticks + stat.reaped_ticks, rss or stat.rss, hwm, stat.reaped_ticks)

    def close(self) -> None:
        if self._fds is not None:
            for fd in self._fds:
                os.close(fd)
            self._fds = None
