"""The sampler: walk the server's process tree, read cheap stats for every process, and spend a
CPU budget on exact PSS readings, estimating the rest.

Runs inside the worker process (see :mod:`.main`), never in the server. No tornado here.

Cost model: ``stat`` + ``children`` are read for every sampled process on every sample, from files
kept open (:class:`.procfs.KeptFiles`, two ``pread`` calls, a few µs), and a process whose ``stat``
bytes did not change since the last sample is not parsed or recomputed again, so a thousand idle
descendants cost a few ms per sample. ``smaps_rollup`` costs ~0.3 ms for a small process and ~25
ms for one with 2 GB resident, so it is read only as the budget allows.
"""

from __future__ import annotations

import collections
import resource
import time
from collections.abc import Iterable
from dataclasses import dataclass

from ..snapshot import Usage
from . import procfs
from .schedstat import CpuWait, WaitSample

MIB = 1 << 20


# A vanished child's CPU is expected in its parent's reaped time for this many samples at most
# (it may land one sample late when the parent reaps it mid-walk); then the expectation is dropped,
# e.g. for a child that was auto-reaped (SIGCHLD ignored), whose CPU no one is charged with.
PENDING_SAMPLES = 2

# An exact PSS reading is redone when the process's RSS moved by this share of its PSS, or when it
# is this old: unchanged processes (a thousand idle workers) are not re-read every second. Between
# readings RSS growth counts as private, so figures stay close; the age bounds what RSS cannot show
# (a sibling's exit raising everyone's share).
REREAD_MOVED = 0.05
REREAD_AGE_S = 60.0

# Exact readings may spend ``pss_budget`` of a CPU over any window of this length (not on average
# over minutes). Readings that only refine an estimate (relatives of a process already read,
# readings that are due again) spend at most REFINE_SHARE of it, so that the rest is there at once
# for a process no reading covers yet (a new kind of process).
PSS_WINDOW_S = 10.0
REFINE_SHARE = 0.5

# Descriptors left for everything else when files are kept open per process (two each).
SPARE_FDS = 256


@dataclass(slots=True)
class _Entry:
    """What the cache remembers about one process (keyed by pid and start time)."""

    stat: procfs.Stat
    raw: bytes  # the stat line as read: a process whose line is unchanged is not parsed again
    group: tuple  # processes whose PSS/RSS ratio carries over to each other (see Sampler._group)
    cpu_percent: float | None = None  # from the delta between this stat and the previous one
    exact_pss: int | None = None  # the last smaps_rollup reading
    exact_rss: int = 0  # RSS at that reading: growth since then is counted as private
    exact_at: float = 0.0  # monotonic time of that reading
    estimated: int = 0  # bytes of `pss` below that no reading backs (all of it, if never read)
    pss: int = 0  # the figure used in totals
    # [ticks, samples left]: CPU of sampled children that vanished, already counted while they
    # were alive, which will show up again in this process's reaped time (cutime + cstime).
    pending: list[list[int]] | None = None


@dataclass(frozen=True, slots=True)
class TreeSample:
    """What one :meth:`Sampler.sample` returns."""

    total: Usage
    subtrees: dict[int, Usage]
    seen: int
    sampled: int
    oldest_exact_age_s: float | None
    pss_reads: int


class Sampler:
    """Samples the tree rooted at ``root_pid``, excluding ``exclude`` (the worker itself).

    Parameters
    ----------
    max_processes:
        Cap on processes read per sample (the root included). Processes past the cap, in
        breadth-first order, are counted (up to ``10 × max_processes``) but not read.
    pss_budget:
        Fraction of one CPU that exact PSS readings may use over any ``pss_window_s`` seconds
        (0 disables them: every PSS figure is then an estimate), from the first sample on. The
        first reading of each kind of process (a group never read) comes first, so a first sample
        gives every process an estimate; readings that only refine an estimate use at most
        :data:`REFINE_SHARE` of the budget. A reading is started only when its cost, predicted
        from the cost per resident byte of the last reading, fits in what the window has left,
        so a window may overrun by at most one misjudged reading. A reading dearer than a whole
        window's share (a huge process under a small budget) waits until nothing was read for as
        long as the budget needs to pay for it.
    pss_window_s:
        The window over which ``pss_budget`` holds (:data:`PSS_WINDOW_S`).

    Each sampled process keeps two /proc files open (:class:`.procfs.KeptFiles`) while the
    descriptor limit allows; :meth:`close` closes them.
    """

    def __init__(
        self,
        root_pid: int,
        *,
        exclude: Iterable[int] = (),
        max_processes: int = 2000,
        pss_budget: float = 0.02,
        pss_window_s: float = PSS_WINDOW_S,
        proc_root: str = procfs.PROC,
    ):
        self.root_pid = root_pid
        self.exclude = set(exclude)
        self.max_processes = max_processes
        self.pss_budget = pss_budget
        self.pss_window_s = pss_window_s
        self.proc_root = proc_root
        self._cache: dict[int, _Entry] = {}
        self._prev_boot: float | None = None  # boot-clock time of the previous sample
        self._spent: collections.deque[tuple[float, float]] = collections.deque()  # (when, CPU s)
        self._spent_sum = 0.0
        self._cost_per_byte = 0.0  # CPU seconds per resident byte of the last exact reading
        self._last_read_at = -float("inf")
        self._kept: dict[int, procfs.KeptFiles] = {}
        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        unlimited = soft == resource.RLIM_INFINITY
        self._max_kept = max_processes if unlimited else max(0, min(max_processes, (soft - SPARE_FDS) // 2))
        self._use_children = procfs.children_supported(proc_root)
        self._aslr = procfs.aslr_enabled(proc_root)
        self.last_pss_cost_s = 0.0  # CPU seconds the last sample spent on exact PSS readings
        self.cpu_wait = CpuWait(proc_root)  # run-queue waiting, read only where it can have grown

    # -- the tree -------------------------------------------------------------------------

    def _walk(self) -> tuple[list[tuple[procfs.Stat, bytes]], dict[int, int], set[int]]:
        """Breadth-first from the root: the stats (and stat bytes) of the first
        ``max_processes`` processes, each one's top-level ancestor (the root's direct child it
        descends from), and the processes the cap left unread (alive when their children were
        listed). A process that exits mid-walk is in neither."""
        parents = None if self._use_children else procfs.scan_parents(self.proc_root)
        kids_of: dict[int, list[int]] = {}
        if parents is not None:
            for pid, ppid in parents.items():
                kids_of.setdefault(ppid, []).append(pid)
        stats: list[tuple[procfs.Stat, bytes]] = []
        unread: set[int] = set()
        top: dict[int, int] = {}
        queue = [self.root_pid]
        seen = {self.root_pid}
        count_limit = 10 * self.max_processes
        read = self._read
        i = 0
        while i < len(queue):
            pid = queue[i]
            i += 1
            try:
                if len(stats) < self.max_processes:
                    st, raw, children = read(pid, parents is None)
                    stats.append((st, raw))
                    if parents is not None:
                        children = kids_of.get(pid, [])
                elif parents is None:
                    # Past the cap, only counted: the main thread's children (no task/ listing),
                    # which are all of them for a single-threaded process.
                    children = procfs.read_children(pid, 1, self.proc_root)
                    unread.add(pid)
                else:
                    children = kids_of.get(pid, [])
                    unread.add(pid)
            except procfs.ProcfsError:
                continue  # exited mid-walk: neither it nor its children count
            for child in children:
                if child in seen or child in self.exclude or len(queue) >= count_limit:
                    continue
                seen.add(child)
                queue.append(child)
                top[child] = child if pid == self.root_pid else top.get(pid, pid)
        self._forget_files({st.pid for st, _ in stats})
        return stats, top, unread

    def _read(self, pid: int, want_children: bool) -> tuple[procfs.Stat, bytes, list[int]]:
        """One process's stat (not parsed again when its bytes are unchanged) and children, from
        its kept files, else by path. Files are kept from a process's second sample on (while
        descriptors allow): one that lives less than a sample (churn) is not worth two opens
        more."""
        kept = self._kept
        old = self._cache.get(pid)
        files = kept.get(pid)
        raw = None
        if files is not None:
            try:
                raw = files.stat()
            except procfs.ProcessGone:
                # The process the files belong to is gone; the pid may already be another's.
                files.close()
                del kept[pid]
                files = None
        if files is None and old is not None and len(kept) < self._max_kept:
            try:
                files = kept[pid] = procfs.KeptFiles(pid, self.proc_root)
            except OSError:
                self._max_kept = len(kept)  # out of descriptors: read the rest by path
        path = f"{self.proc_root}/{pid}/stat"
        if raw is None:
            raw = files.stat() if files is not None else procfs.read_file(pid, path, one_record=True)
        st = old.stat if old is not None and old.raw == raw else procfs.parse_stat(pid, raw, path)
        if not want_children:
            children = []
        elif files is not None and st.num_threads == 1:
            children = files.children()
        else:
            children = procfs.read_children(pid, st.num_threads, self.proc_root)
        return st, raw, children

    def _forget_files(self, alive: set[int]) -> None:
        for pid in [pid for pid in self._kept if pid not in alive]:
            self._kept.pop(pid).close()

    def close(self) -> None:
        """Close the files kept open."""
        self._forget_files(set())

    # -- one sample -----------------------------------------------------------------------

    def sample(self) -> TreeSample:
        now_boot = procfs.boot_seconds()
        now = time.monotonic()
        walked, top, unread = self._walk()
        dt = now_boot - self._prev_boot if self._prev_boot is not None else 0.0
        old_cache, cache = self._cache, {}
        unchanged: list[_Entry] = []
        changed: list[tuple[_Entry, _Entry | None]] = []
        for st, raw in walked:
            old = old_cache.get(st.pid)
            if old is not None and old.raw == raw:
                cache[st.pid] = old  # same process, same line: nothing to recompute
                unchanged.append(old)
                continue
            entry = _Entry(stat=st, raw=raw, group=self._group(st))
            if old is not None and old.stat.start_ticks == st.start_ticks:
                entry.exact_pss, entry.exact_rss, entry.exact_at = old.exact_pss, old.exact_rss, old.exact_at
                entry.pending = old.pending
            cache[st.pid] = entry
            changed.append((entry, old))
        self._expect_reaped(old_cache, cache, unread)
        if dt > 0:
            for entry, old in changed:
                self._set_cpu(entry, old, dt)
            for entry in unchanged:
                if entry.pending:
                    self._set_cpu(entry, entry, dt)
                else:
                    entry.cpu_percent = 0.0  # not a tick since the last sample
        self._cache = cache
        self._prev_boot = now_boot
        stats = [st for st, _ in walked]
        waits = self.cpu_wait.update(stats, top, now_boot)
        reads = self._read_pss(now)
        self._estimate()
        return self._totals(stats, top, len(stats) + len(unread), now, reads, waits)

    def _group(self, st: procfs.Stat) -> tuple:
        """Processes forked (without exec) from a common ancestor, at any depth, share pages
        alike: their PSS/RSS ratio carries over to relatives not yet read exactly. Their stat
        lineage fields are equal; an exec'd process has its own (ASLR)."""
        if st.lineage == (0, 0, 0, 0):
            # Not ours to ptrace-read (its smaps neither): borrowing anyone's ratio could only
            # guess low. Alone, it is estimated at its RSS, an upper bound.
            return ("alone", st.pid)
        if not self._aslr:
            # Without ASLR every process of one binary has the same fields: add the parent and
            # the name, as siblings share them. Chains then read high (RSS-like), never low.
            return (st.lineage, st.ppid, st.comm)
        return st.lineage

    def _expect_reaped(
        self, old_cache: dict[int, _Entry], cache: dict[int, _Entry], unread: set[int]
    ) -> None:
        """A sampled child that vanished (exited, or exited and was reaped) moves all its CPU,
        own and reaped, into its parent's reaped time. What was counted while it lived is
        expected there, so that only the rest (its last moments, and children never seen) is
        counted again."""
        for pid, old in old_cache.items():
            current = cache.get(pid)
            if current is not None and current.stat.start_ticks == old.stat.start_ticks:
                continue  # still here
            if pid in unread:
                continue  # alive, past the cap this time
            # Reaped CPU flows up: if its parent vanished too, the nearest ancestor still here
            # receives both (the parent's reaped time holds the child's).
            ancestor, hops = old.stat.ppid, 0
            while (up := cache.get(ancestor)) is None and ancestor in old_cache and hops < 64:
                ancestor, hops = old_cache[ancestor].stat.ppid, hops + 1
            if up is None or up.stat.start_ticks > old.stat.start_ticks:
                continue  # gone with all its ancestors (or the pid was reused since)
            up.pending = (up.pending or []) + [[old.stat.cpu_ticks + old.stat.reaped_ticks, PENDING_SAMPLES]]

    def _set_cpu(self, entry: _Entry, old: _Entry | None, dt: float) -> None:
        """CPU over the interval: the process's own ticks plus its reaped children's, less what
        was counted for those children while they were sampled.

        Still invisible: children not yet reaped (counted when they are), children whose parent
        ignores SIGCHLD (the kernel charges their CPU to no one), and orphans reparented to a
        process outside the server's tree."""
        st = entry.stat
        if old is not None and old.stat.start_ticks == st.start_ticks:
            own = st.cpu_ticks - old.stat.cpu_ticks
            reaped = st.reaped_ticks - old.stat.reaped_ticks
        elif st.start_ticks / procfs.CLOCK_TICKS >= self._prev_boot:
            own, reaped = st.cpu_ticks, st.reaped_ticks  # started since the last sample
        else:
            return  # first seen now, started before: no interval to measure over
        if entry.pending:
            kept = []
            for item in entry.pending:
                matched = min(item[0], reaped)
                reaped -= matched
                item[0] -= matched
                item[1] -= 1
                if item[0] > 0 and item[1] > 0:
                    kept.append(item)
            entry.pending = kept or None
        entry.cpu_percent = 100.0 * (own + max(0, reaped)) / procfs.CLOCK_TICKS / dt

    def _window_spent(self, now: float) -> float:
        """CPU seconds exact readings spent over the last ``pss_window_s`` seconds."""
        spent = self._spent
        while spent and spent[0][0] <= now - self.pss_window_s:
            self._spent_sum -= spent.popleft()[1]
        if not spent:
            self._spent_sum = 0.0  # no drift from adding and taking away floats
        return self._spent_sum

    def _read_pss(self, now: float) -> int:
        """Spend what the window leaves on exact readings, most useful first."""
        self.last_pss_cost_s = 0.0
        if self.pss_budget <= 0:
            return 0
        limit = self.pss_budget * self.pss_window_s
        spent = self._window_spent(now)
        if spent >= limit:
            return 0  # nothing to spend: not even the order is worked out
        reads = 0
        firsts, rest = self._pss_order(now)
        for i, entry in enumerate(firsts + rest):
            share = 1.0 if i < len(firsts) else REFINE_SHARE
            predicted = entry.stat.rss * self._cost_per_byte
            # A reading dearer than a whole window's share waits until nothing was read for as
            # long as the budget needs to pay for it (else it would never be read).
            paid_for = now - self._last_read_at >= predicted / (self.pss_budget * share)
            if spent + predicted > limit * share and not (spent == 0 and paid_for):
                if i < len(firsts):
                    continue  # a smaller first may still fit
                break
            t0 = time.thread_time()
            try:
                reading = procfs.read_pss(entry.stat.pid, self.proc_root)
            except procfs.ProcfsError:
                continue  # gone, or not ours to read: it keeps its estimate
            finally:
                cost = time.thread_time() - t0
                spent += cost
                self._last_read_at = now
                self._spent.append((now, cost))
                self._spent_sum += cost
                self.last_pss_cost_s += cost
            if entry.stat.rss > 0:
                self._cost_per_byte = cost / entry.stat.rss
            # Compare later stat RSS with stat RSS: smaps' own Rss counts a little differently.
            entry.exact_pss, entry.exact_rss, entry.exact_at = reading.pss, entry.stat.rss, now
            reads += 1
        return reads

    def _pss_order(self, now: float) -> tuple[list[_Entry], list[_Entry]]:
        """First, biggest first, one never-read process for each kind no reading covers yet (a
        group and size that :meth:`_estimate` has no ratio for): its reading gives its relatives
        an estimate. Then the rest worth reading: other never-read processes, then read ones
        that are due (RSS moved, or the reading is old), most moved or stalest first."""
        covered = {
            (e.group, e.exact_rss.bit_length()) for e in self._cache.values() if e.exact_pss is not None
        }
        firsts, others, known = [], [], []
        for entry in sorted(self._cache.values(), key=lambda e: -e.stat.rss):
            if entry.exact_pss is None:
                size = entry.stat.rss.bit_length()
                if any((entry.group, near) in covered for near in (size - 1, size, size + 1)):
                    others.append(entry)
                else:
                    covered.add((entry.group, size))
                    firsts.append(entry)
            else:
                moved = abs(entry.stat.rss - entry.exact_rss) / max(entry.exact_pss, MIB)
                age = now - entry.exact_at
                if moved >= REREAD_MOVED or age >= REREAD_AGE_S:
                    known.append((moved + age / REREAD_AGE_S, entry))
        known.sort(key=lambda item: item[0], reverse=True)
        return firsts, others + [entry for _, entry in known]

    def _estimate(self) -> None:
        """Set every entry's PSS figure: the exact reading adjusted by RSS change since, or the
        PSS/RSS ratio of read siblings of similar size, or (for a process like no other) its RSS,
        an upper bound."""
        # (group, log2 of RSS) -> [PSS, RSS] summed over the group's exactly read members
        ratios: dict[tuple[tuple, int], list[int]] = {}
        for e in self._cache.values():
            if e.exact_pss is not None:
                # Pages gained since the reading are taken as private, pages lost as shared-less.
                e.pss = max(0, min(e.stat.rss, e.exact_pss + e.stat.rss - e.exact_rss))
                # Only the change since the reading, and never more than the figure itself (a
                # process that shrank by more than it now holds).
                e.estimated = min(e.pss, abs(e.pss - e.exact_pss))
                sums = ratios.setdefault((e.group, e.exact_rss.bit_length()), [0, 0])
                sums[0] += e.exact_pss
                sums[1] += e.exact_rss
        for e in self._cache.values():
            if e.exact_pss is not None:
                continue
            # Siblings of similar size only (within a factor of about two): a group may mix a big
            # parent's copies with small helpers of the same name.
            size = e.stat.rss.bit_length()
            pss = rss = 0
            for near in (size - 1, size, size + 1):
                sums = ratios.get((e.group, near))
                if sums:
                    pss, rss = pss + sums[0], rss + sums[1]
            e.pss = round(e.stat.rss * pss / rss) if rss else e.stat.rss
            e.estimated = e.pss

    def _totals(self, stats, top, seen, now, reads, waits: WaitSample) -> TreeSample:
        groups: dict[int, list[_Entry]] = {}
        entries = [self._cache[st.pid] for st in stats]
        for e in entries:
            anchor = top.get(e.stat.pid)
            if anchor is not None:
                groups.setdefault(anchor, []).append(e)
        exact_ages = [now - e.exact_at for e in entries if e.exact_pss is not None]
        return TreeSample(
            total=_usage(entries, waits.total_s, waits.total_percent),
            subtrees={
                pid: _usage(
                    members, waits.subtrees_s.get(pid, 0.0), waits.subtrees_percent.get(pid), root=pid
                )
                for pid, members in groups.items()
            },
            seen=seen,
            sampled=len(stats),
            oldest_exact_age_s=max(exact_ages) if exact_ages else None,
            pss_reads=reads,
        )


def _usage(
    entries: list[_Entry], wait_s: float = 0.0, wait_percent: float | None = None, root: int | None = None
) -> Usage:
    rss = pss = estimated = children_pss = children_ticks = reaped = 0
    cpu = 0.0
    any_cpu = False
    for e in entries:
        st = e.stat
        rss += st.rss
        pss += e.pss
        estimated += e.estimated
        if e.cpu_percent is not None:
            cpu += e.cpu_percent
            any_cpu = True
        if root is not None:
            if st.pid == root:
                reaped = st.reaped_ticks
            else:
                # Below the root, each process's reaped CPU too: a grandchild reaped by a child
                # stays counted.
                children_pss += e.pss
                children_ticks += st.cpu_ticks + st.reaped_ticks
    return Usage(
        rss=rss,
        pss=pss,
        pss_estimated=estimated,
        cpu_percent=round(cpu, 1) if any_cpu else None,
        processes=len(entries),
        cpu_wait_s=round(wait_s, 6),
        cpu_wait_percent=wait_percent,
        children_pss=children_pss,
        children_cpu_s=round(children_ticks / procfs.CLOCK_TICKS, 3),
        reaped_cpu_s=round(reaped / procfs.CLOCK_TICKS, 3),
    )


def own_cpu_seconds() -> float:
    """CPU time of this process (user + system), for the monitor's self-report."""
    return time.process_time()  # os.times() only counts in 10 ms clock ticks
