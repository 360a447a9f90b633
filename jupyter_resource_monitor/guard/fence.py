"""The fence: a data limit on every kernel process, re-sized as memory moves (worker side).

Runs as a thread of the worker process, so nothing of it wakes the server. Each step reads what
is left under the limit (:mod:`.headroom`) and each fenced process's data size (``VmData``), and
sets the process's ``RLIMIT_DATA`` soft limit to its data size plus what is left: the allocation
that would cross the limit fails inside the kernel (``MemoryError``) instead of waking the OOM
killer. A single process cannot outrun its own fence, whatever the cadence, because its fence
moves only with what the others take; the cadence bounds how far several processes allocating
at once can overshoot together, and how long a fence stays tighter than it need be after memory
was freed elsewhere. So the guard steps fast (:data:`FAST_S`) while memory moves and slowly
(:data:`SLOW_S`) when it is still.

A fence is never set above the process's own soft limit, and each process gets back the limit it
had (the kernel's, for a descendant that inherited our fence) when the guard is switched off or
the worker ends. A limit the process changed itself is left alone from then on. The limits each
process had are kept in a small file, so a worker restarted after a crash restores the right ones.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import resource
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

from . import headroom as headroom_mod
from . import process

MiB = 1 << 20
INF = resource.RLIM_INFINITY
# Steps while memory moves: 50 a second. One step reads one cgroup file pair and one status file
# per fenced process (tens of microseconds); see benchmarks/guard_cost.py for what it costs.
FAST_S = 0.02
# Steps while nothing moves: a still server pays a few hundred microseconds per step. A kernel
# that starts moves memory, which brings the fast steps back at the next slow one.
SLOW_S = 2.0
# Memory moving less than this between steps counts as still; a fence moves only by at least this.
STILL_BYTES = 1 * MiB
# How long memory must stay still before the guard slows down.
STILL_FOR_S = 1.0
# While stepping fast, the process tree is re-walked at most this often (new kernels, children).
WALK_EVERY_S = 0.25
# Most processes fenced: descendants past it are left unfenced (they inherit their parent's fence).
MAX_FENCED = 256
# A data size that grew this much since the last look is looked at again for a GPU device.
GPU_RECHECK_BYTES = 64 * MiB
# Near the limit, each fenced process may still take this much (at most a quarter of the reserve)
# beyond its data size when what is left first fell below it, and no more until memory is freed:
# a kernel whose cell just failed with every byte held by its variables can still run the next
# cell (`del hog`), while a loop cannot creep past the limit a floor at a time.
FLOOR = 32 * MiB
# Pressure (the second line) is reported at most this often per kernel.
PRESSURE_EVERY_S = 2.0


@dataclass(frozen=True, slots=True)
class GuardOptions:
    """The guard's part of the worker's options."""

    enabled: bool = True
    mem_limit: int = 0  # configured bytes (mem_limit or MEM_LIMIT), 0: none
    host: bool = False  # with no limit, fence against the host's available memory
    reserve_fraction: float = 0.05
    reserve_min: int = 100 * MiB
    interrupt_at: float = 0.97  # fraction of the limit; 0: no second line
    record_dir: str | None = None  # where the limits each process had are kept


@dataclass(slots=True)
class Fenced:
    pid: int
    kernel_pid: int
    kernel_id: str | None
    start_ticks: int
    original: tuple[int, int]  # (soft, hard) before the guard touched it
    last_set: int | None = None  # our soft limit, None: not set yet
    vm_data: int = 0
    resident: int = 0
    gpu_checked_at: int = -1  # vm_data when last looked at for a GPU device
    pinned: int | None = None  # the fence while little is left (see FLOOR), None: not pinned


@dataclass(slots=True)
class _Kernel:
    kernel_id: str | None
    start: int  # its start time: with its pid, which process it is
    resident: int = 0  # the kernel's and its descendants' resident memory at the last step
    pressure_at: float = -PRESSURE_EVERY_S
    pids: list[int] = field(default_factory=list)


def record_path(root_pid: int, directory: str | None = None) -> str:
    base = directory or ("/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir())
    return os.path.join(base, f"jupyter-resource-monitor-guard-{root_pid}.json")


class Guard:
    """Fences the kernels among ``root_pid``'s children and their descendants."""

    def __init__(
        self,
        root_pid: int,
        options: GuardOptions,
        emit: Callable[[dict], None] = lambda status: None,
        exclude: tuple[int, ...] = (),
        source=None,
        cgroups=None,
    ):
        self.root_pid = root_pid
        self.options = options
        self.enabled = options.enabled
        self.emit = emit
        self.exclude = set(exclude)
        self.uid = os.getuid()
        self.source = (
            source if source is not None else headroom_mod.find_source(options.mem_limit, options.host)
        )
        self.fenced: dict[int, Fenced] = {}
        self.kernels: dict[int, _Kernel] = {}
        self.left_alone: set[tuple[int, int]] = set()  # (pid, start): changed its own limit, or a GPU
        self.skipped_gpu = 0
        self.truncated = 0
        self.headroom: headroom_mod.Headroom | None = None
        self.steps = 0
        self.lock = threading.Lock()
        self._not_kernels: set[tuple[int, int]] = set()  # (pid, start) of children not kernels
        self._wake = threading.Event()
        self._stopping = False
        self._walked_at = -WALK_EVERY_S
        self._still_since = time.monotonic()
        self._last_used: int | None = None
        self._root_cmdline = process.cmdline(root_pid)
        self._record = record_path(root_pid, options.record_dir)
        self._recorded = self._load_record()

    # -- the loop ----------------------------------------------------------------------------------

    def run(self) -> None:
        """Step until :meth:`stop`, then give every process its limit back."""
        try:
            while not self._stopping:
                with self.lock:
                    try:
                        interval = self.step(time.monotonic()) if self.enabled else None
                    except Exception:  # noqa: BLE001 - a bad step must not end the guard for good
                        traceback.print_exc()  # the supervisor logs the worker's stderr
                        interval = SLOW_S
                self._wake.wait(interval)  # None (off): until a command or the end
                self._wake.clear()
        finally:
            with self.lock:
                self.restore_all()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    def command(self, command: dict) -> None:
        """A command from the server: ``{"enabled": bool}``, or ``{"walk": true}`` (a kernel
        started: find it now rather than at the next walk)."""
        with self.lock:
            if "enabled" in command:
                enabled = bool(command["enabled"]) and self.source is not None
                if self.enabled and not enabled:
                    self.restore_all()
                self.enabled = enabled
            if command.get("walk"):
                self._walked_at = -WALK_EVERY_S
        self._wake.set()

    def step(self, now: float) -> float:
        """One step: find new processes, read what is left, re-size every fence. Returns how long
        to wait before the next."""
        if self.source is None:
            return SLOW_S * 10
        self.steps += 1
        if now - self._walked_at >= WALK_EVERY_S:
            self._walk()
            self._walked_at = now
        moved = False
        resident_total = 0
        for pid in list(self.fenced):
            fenced = self.fenced[pid]
            facts = process.read_facts(pid)
            if facts is None:
                self._forget(pid)
                continue
            if abs(facts.vm_data - fenced.vm_data) >= STILL_BYTES:
                moved = True
            fenced.vm_data, fenced.resident = facts.vm_data, facts.resident
            resident_total += facts.resident
        room = self._headroom(resident_total)
        self.headroom = room
        if self._last_used is None or abs(room.used - self._last_used) >= STILL_BYTES:
            moved = True
        self._last_used = room.used
        for pid in list(self.fenced):
            self._fence(self.fenced[pid], room.left)
        self._second_line(room, now)
        if moved:
            self._still_since = now
        return FAST_S if now - self._still_since < STILL_FOR_S else SLOW_S

    # -- what is left --------------------------------------------------------------------------------

    def _headroom(self, resident_total: int) -> headroom_mod.Headroom:
        source = self.source
        if isinstance(source, headroom_mod.ConfiguredSource):
            # The server's own memory and its other children count too, read at each walk.
            used = resident_total + self._others_resident
        else:
            used = source.used()
        reserve = headroom_mod.reserve_for(
            source.limit, self.options.reserve_fraction, self.options.reserve_min
        )
        return headroom_mod.Headroom(source.name, source.limit, used, reserve)

    # -- finding the processes to fence ------------------------------------------------------------

    def _walk(self) -> None:
        """Find the kernels among the server's children and their descendants. A process is
        known by its pid and start time: pids are reused (only 32768 on many hosts)."""
        seen: set[int] = set()
        others = 0
        kernels: dict[int, _Kernel] = {}
        not_kernels: set[tuple[int, int]] = set()
        for child in process.children(self.root_pid):
            start = process.start_ticks(child)
            if child in self.exclude or start is None:
                continue
            if (child, start) in self._not_kernels:
                not_kernels.add((child, start))
                others += self._resident_of(child)
                continue
            known = self.kernels.get(child)
            if known is None or known.start != start:
                command = process.cmdline(child)
                kernel_id = process.kernel_id_in(command)
                if kernel_id is None:
                    # A child forked but not yet exec'd still has the server's command line: it
                    # may become a kernel in a moment, so it is looked at again at the next walk.
                    if command != self._root_cmdline:
                        not_kernels.add((child, start))
                    others += self._resident_of(child)
                    continue
                known = _Kernel(kernel_id, start)
            known.pids = self._descendants(child)
            kernels[child] = known
            for pid in known.pids:
                fenced = self.fenced.get(pid)
                if fenced is not None and fenced.start_ticks != process.start_ticks(pid):
                    self._forget(pid)  # its pid was reused: a new process
                    fenced = None
                seen.add(pid)
                if fenced is None:
                    self._add(pid, child, known.kernel_id)
        self._others_resident = others + self._resident_of(self.root_pid)
        self.kernels = kernels
        self._not_kernels = not_kernels
        for pid in [p for p in self.fenced if p not in seen]:
            self._restore(self.fenced[pid])
            self._forget(pid)

    _others_resident = 0

    def _resident_of(self, pid: int) -> int:
        if not isinstance(self.source, headroom_mod.ConfiguredSource):
            return 0  # only a configured limit sums the processes' memory
        total = 0
        for each in self._descendants(pid):
            facts = process.read_facts(each)
            total += facts.resident if facts else 0
        return total

    def _descendants(self, pid: int) -> list[int]:
        out, queue = [], [pid]
        while queue and len(out) < MAX_FENCED:
            current = queue.pop(0)
            out.append(current)
            queue.extend(process.children(current))
        self.truncated = len(queue)
        return out

    def _add(self, pid: int, kernel_pid: int, kernel_id: str | None) -> None:
        if len(self.fenced) >= MAX_FENCED:
            return
        start = process.start_ticks(pid)
        if start is None or (pid, start) in self.left_alone:
            return
        facts = process.read_facts(pid)
        if facts is None or facts.uid != self.uid:
            return  # another user's process (a root server's kernels run as the user, say)
        try:
            current = resource.prlimit(pid, resource.RLIMIT_DATA)
        except OSError:
            return
        recorded = self._recorded.get(pid)
        if recorded is not None and recorded[0] == start:
            original = (recorded[1], recorded[2])  # fenced by a worker before us
        elif pid != kernel_pid and kernel_pid in self.fenced:
            kernel = self.fenced[kernel_pid]
            # A child forked under the kernel's fence inherited it: it gets the kernel's own back.
            inherited = kernel.last_set is None or current[0] >= min(kernel.last_set, kernel.original[0])
            original = kernel.original if inherited else current
        else:
            original = current
        fenced = Fenced(pid, kernel_pid, kernel_id, start, original)
        fenced.last_set = current[0] if recorded is not None and recorded[0] == start else None
        fenced.vm_data, fenced.resident = facts.vm_data, facts.resident
        self.fenced[pid] = fenced
        self._save_record()

    def _forget(self, pid: int) -> None:
        if self.fenced.pop(pid, None) is not None:
            self._save_record()

    # -- setting and restoring limits --------------------------------------------------------------

    def _fence(self, fenced: Fenced, left: int) -> None:
        if fenced.vm_data - fenced.gpu_checked_at >= GPU_RECHECK_BYTES or fenced.gpu_checked_at < 0:
            fenced.gpu_checked_at = fenced.vm_data
            if process.uses_gpu(fenced.pid):
                self.skipped_gpu += 1
                self._leave_alone(fenced)
                return
        soft, hard = fenced.original
        floor = min(FLOOR, self.headroom.reserve // 4) if self.headroom else FLOOR
        if fenced.pinned is not None and left > 2 * floor:
            fenced.pinned = None  # memory was freed: the fence follows what is left again
        if fenced.pinned is None and left <= floor:
            fenced.pinned = fenced.vm_data + floor
        target = fenced.pinned if fenced.pinned is not None else fenced.vm_data + left
        if soft != INF:
            target = min(target, soft)  # the user's own limit, if lower, stands
        if hard != INF:
            target = min(target, hard)
        if fenced.last_set is not None and abs(target - fenced.last_set) < STILL_BYTES:
            return
        try:
            before = resource.prlimit(fenced.pid, resource.RLIMIT_DATA, (target, hard))
        except ProcessLookupError:
            self._forget(fenced.pid)
            return
        except OSError:
            self._leave_alone(fenced)  # not ours to limit after all
            return
        expected = fenced.last_set if fenced.last_set is not None else fenced.original[0]
        if before != (expected, hard) and fenced.last_set is not None:
            # The process set its own limit since our last step: give it back and leave it be.
            with contextlib.suppress(OSError):
                resource.prlimit(fenced.pid, resource.RLIMIT_DATA, before)
            fenced.last_set = None
            self._leave_alone(fenced, restore=False)
            return
        fenced.last_set = target

    def _leave_alone(self, fenced: Fenced, restore: bool = True) -> None:
        if restore:
            self._restore(fenced)
        self.left_alone.add((fenced.pid, fenced.start_ticks))
        self._forget(fenced.pid)

    def _restore(self, fenced: Fenced) -> None:
        if fenced.last_set is None:
            return
        try:
            before = resource.prlimit(fenced.pid, resource.RLIMIT_DATA, fenced.original)
        except OSError:
            return
        if before[0] != fenced.last_set:  # changed by the process itself: its own stands
            with contextlib.suppress(OSError):
                resource.prlimit(fenced.pid, resource.RLIMIT_DATA, before)
        fenced.last_set = None

    def restore_all(self) -> None:
        """Give every fenced process its limit back (switched off, or the worker ends)."""
        for fenced in list(self.fenced.values()):
            self._restore(fenced)
        self.fenced.clear()
        self.kernels.clear()
        self._not_kernels.clear()
        self._walked_at = -WALK_EVERY_S
        with contextlib.suppress(OSError):
            os.unlink(self._record)

    # -- the second line -------------------------------------------------------------------------------

    def _second_line(self, room: headroom_mod.Headroom, now: float) -> None:
        """Near the limit, say which kernels are growing: the server interrupts those executing."""
        for kernel_pid, kernel in self.kernels.items():
            resident = sum(self.fenced[p].resident for p in kernel.pids if p in self.fenced)
            grew = resident - kernel.resident
            kernel.resident = resident
            if (
                self.options.interrupt_at > 0
                and room.used >= self.options.interrupt_at * room.limit
                and grew >= STILL_BYTES
                and now - kernel.pressure_at >= PRESSURE_EVERY_S
            ):
                kernel.pressure_at = now
                self.emit(
                    {
                        "event": "guard",
                        "action": "pressure",
                        "pid": kernel_pid,
                        "kernel_id": kernel.kernel_id,
                        "used": room.used,
                        "limit": room.limit,
                    }
                )

    # -- state -----------------------------------------------------------------------------------

    def state(self) -> dict:
        """The guard's state for the snapshot (taken under :attr:`lock`)."""
        room = self.headroom
        return {
            "enabled": self.enabled,
            "source": room.source if room else (self.source.name if self.source else None),
            "limit": room.limit if room else None,
            "used": room.used if room else None,
            "reserve": room.reserve if room else None,
            "left": room.left if room else None,
            "kernels": len(self.kernels),
            "fenced": sum(1 for f in self.fenced.values() if f.last_set is not None),
            "left_alone": len(self.left_alone),
            "gpu_skipped": self.skipped_gpu,
            "steps": self.steps,
        }

    # -- the record of original limits ----------------------------------------------------------------

    def _load_record(self) -> dict[int, tuple[int, int, int]]:
        # Files of servers that are gone (a SIGKILLed server leaves its own) are removed.
        for path in glob.glob(record_path("*", self.options.record_dir)):
            pid = path.rsplit("-", 1)[-1].removesuffix(".json")
            if pid.isdigit() and int(pid) != self.root_pid and not os.path.exists(f"/proc/{pid}"):
                with contextlib.suppress(OSError):
                    os.unlink(path)
        try:
            with open(self._record) as f:
                raw = json.load(f)
            return {int(pid): (int(s), int(soft), int(hard)) for pid, (s, soft, hard) in raw.items()}
        except (OSError, ValueError, TypeError):
            return {}

    def _save_record(self) -> None:
        record = {str(f.pid): [f.start_ticks, *f.original] for f in self.fenced.values()}
        self._recorded = {f.pid: (f.start_ticks, *f.original) for f in self.fenced.values()}
        tmp = f"{self._record}.{os.getpid()}"
        try:
            with open(tmp, "w") as f:
                json.dump(record, f)
            os.replace(tmp, self._record)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def start(
    root_pid: int, options: GuardOptions, emit, exclude=(), cgroups=None
) -> tuple[Guard, threading.Thread]:
    """Start the guard's thread; :meth:`Guard.stop` ends it (every limit is given back).
    ``cgroups``: the worker's resolved cgroups, shared with its sampling."""
    guard = Guard(root_pid, options, emit=emit, exclude=exclude, cgroups=cgroups)
    thread = threading.Thread(target=guard.run, name="memory-guard", daemon=True)
    thread.start()
    return guard, thread
