"""Linux /proc readers: one function per file, small named records, our own errors.

Every reader takes the procfs root (default ``/proc``) so tests can point it at a fixture tree.
``OSError`` becomes :class:`ProcessGone` or :class:`AccessDenied` in one place
(:func:`read_file`, also for files not parsed here: a thread's schedstat, a process's status), so
the sampler can skip a process that exits mid-sample without ever failing the whole sample.
"""

from __future__ import annotations

import errno
import os
import time
from typing import NamedTuple, NoReturn

PROC = "/proc"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


class ProcfsError(Exception):
    """A /proc file of one process could not be read."""

    def __init__(self, pid: int, path: str):
        super().__init__(pid, path)
        self.pid = pid
        self.path = path

    def __str__(self) -> str:
        return f"{type(self).__name__}(pid={self.pid}, path={self.path!r})"


class ProcessGone(ProcfsError):
    """The process exited (or never existed) before its file could be read."""


class AccessDenied(ProcfsError):
    """The file exists but this user may not read it (another user's smaps, for one)."""


class Stat(NamedTuple):
    """What :func:`read_stat` returns: the cheap per-process reading, from one ~18 µs read."""

    pid: int
    comm: str
    state: str
    ppid: int
    cpu_ticks: int  # utime + stime, in clock ticks (CLOCK_TICKS per second)
    num_threads: int
    start_ticks: int  # clock ticks after boot: with the pid, a key that PID reuse cannot fool
    rss: int  # bytes resident (anon + file + shmem): shared pages count in every process
    # cutime + cstime: CPU of children this process has waited for (reaped), in clock ticks
    reaped_ticks: int = 0
    # (startstack, start_brk, arg_start, env_start): the same for every process forked without
    # exec from a common ancestor, at any depth, different after exec (address-space layout
    # randomisation). All zeros when this user may not ptrace-read the process.
    lineage: tuple[int, int, int, int] = (0, 0, 0, 0)


class Pss(NamedTuple):
    """What :func:`read_pss` returns: the exact, expensive reading."""

    pss: int  # bytes, each shared page divided among the processes that map it
    rss: int  # bytes resident at the time of the reading
    swap_pss: int  # bytes of swap, shared the same way


READ_SIZE = 65536
# Longest record of a children file, "<pid> " (pid_max is at most 4194304), with room to spare.
_LONGEST_CHILD = 16


def read_file(pid: int, path: str, one_record: bool = False) -> bytes:
    """Read a whole /proc file of process ``pid``, mapping ``OSError`` to our errors: raises
    :class:`ProcessGone` (no such process, or it exited meanwhile) or :class:`AccessDenied`.

    ``one_record``: the file is one short line (``stat``), which the first read returns whole;
    skipping the read that would see the end saves a syscall per process on every walk."""
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            if one_record:
                return os.read(fd, READ_SIZE)
            chunks = []
            while chunk := os.read(fd, READ_SIZE):  # a seq_file may return a page per read
                chunks.append(chunk)
            return b"".join(chunks)
        finally:
            os.close(fd)
    except OSError as exc:
        _raise(pid, path, exc)


def _raise(pid: int, path: str, exc: OSError) -> NoReturn:
    # ENOENT: no such pid. ESRCH: it died between open and read, or is exiting (the kernel
    # refuses smaps_rollup of a process whose mm is being torn down).
    if exc.errno in (errno.ENOENT, errno.ESRCH):
        raise ProcessGone(pid, path) from None
    if exc.errno in (errno.EACCES, errno.EPERM):
        raise AccessDenied(pid, path) from None
    raise exc


def read_stat(pid: int, root: str = PROC) -> Stat:
    """Parse ``/proc/<pid>/stat`` (see proc_pid_stat(5)).

    Raises :class:`ProcessGone` when the process no longer exists.
    """
    path = f"{root}/{pid}/stat"
    return parse_stat(pid, read_file(pid, path, one_record=True), path)


def parse_stat(pid: int, data: bytes, path: str = "") -> Stat:
    """Parse the bytes of ``/proc/<pid>/stat``; raises :class:`ProcessGone` for an empty read
    (the process is being reaped)."""
    # comm may hold spaces and parentheses: split after the *last* ')'.
    left, _, right = data.rpartition(b")")
    if not right:
        raise ProcessGone(pid, path)
    comm = left.partition(b"(")[2].decode("utf-8", "replace")
    fields = right.split()
    # fields[0] is field 3 (state) in proc_pid_stat(5) numbering, so field N is fields[N - 3].
    return Stat(
        pid=pid,
        comm=comm,
        state=fields[0].decode(),
        ppid=int(fields[1]),
        cpu_ticks=int(fields[11]) + int(fields[12]),
        num_threads=int(fields[17]),
        start_ticks=int(fields[19]),
        rss=int(fields[21]) * PAGE_SIZE,
        reaped_ticks=int(fields[13]) + int(fields[14]),
        # Fields 44-52 exist since Linux 3.3-3.5; an older (or fixture) line has no lineage.
        lineage=(int(fields[25]), int(fields[44]), int(fields[45]), int(fields[47]))
        if len(fields) > 47
        else (0, 0, 0, 0),
    )


class KeptFiles:
    """``stat`` and the main thread's ``children`` of one process, kept open across samples and
    re-read with ``os.pread``: a /proc file is generated anew by each read from offset 0, so a
    sample costs two reads instead of two opens, two reads and two closes per process.

    A kept descriptor stays bound to the process it was opened for: once that process has been
    reaped, reading its ``stat`` fails (ESRCH, raised as :class:`ProcessGone`) even when a new
    process has the same pid, so PID reuse never shows another process's figures. Opening may
    raise :class:`ProcessGone` or :class:`AccessDenied`, and ``OSError`` (EMFILE) when the
    process is out of descriptors.
    """

    __slots__ = ("children_fd", "pid", "stat_fd")

    def __init__(self, pid: int, root: str = PROC):
        self.pid = pid
        self.stat_fd = self.children_fd = -1
        try:
            self.stat_fd = os.open(f"{root}/{pid}/stat", os.O_RDONLY | os.O_CLOEXEC)
            self.children_fd = os.open(f"{root}/{pid}/task/{pid}/children", os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            self.close()
            _raise(pid, f"{root}/{pid}", exc)

    def stat(self) -> bytes:
        """The bytes of ``stat`` now; raises :class:`ProcessGone` once the process is gone."""
        try:
            data = os.pread(self.stat_fd, READ_SIZE, 0)
        except OSError as exc:
            _raise(self.pid, "stat", exc)
        if not data:
            raise ProcessGone(self.pid, "stat")
        return data

    def children(self) -> list[int]:
        """Children forked by the main thread (all of them, for a single-threaded process)."""
        try:
            data = os.pread(self.children_fd, READ_SIZE, 0)
            if len(data) >= PAGE_SIZE - _LONGEST_CHILD:
                # A seq_file read returns the records that fit in a page: one that ends less than a
                # record short of a page may have more to come (hundreds of children).
                chunks = [data]
                while chunk := os.pread(self.children_fd, READ_SIZE, sum(map(len, chunks))):
                    chunks.append(chunk)
                data = b"".join(chunks)
        except OSError as exc:
            _raise(self.pid, "children", exc)
        return [int(c) for c in data.split()] if data else []

    def close(self) -> None:
        for fd in (self.stat_fd, self.children_fd):
            if fd >= 0:
                os.close(fd)
        self.stat_fd = self.children_fd = -1

    __del__ = close  # a sampler dropped without close() gives its descriptors back


def read_children(pid: int, num_threads: int = 0, root: str = PROC) -> list[int]:
    """Direct children of ``pid``, from ``/proc/<pid>/task/<tid>/children`` (kernel ≥ 3.5 with
    CONFIG_PROC_CHILDREN).

    A child belongs to the thread that forked it, so a multi-threaded process needs every thread's
    file; with ``num_threads == 1`` the main thread's file is read without listing ``task/``.
    Raises :class:`ProcessGone` when the process is gone.
    """
    if num_threads == 1:
        tids = [str(pid)]
    else:
        try:
            tids = os.listdir(f"{root}/{pid}/task")
        except FileNotFoundError:
            raise ProcessGone(pid, f"{root}/{pid}/task") from None
    children: list[int] = []
    for tid in tids:
        try:
            data = read_file(pid, f"{root}/{pid}/task/{tid}/children")
        except ProcessGone:
            continue  # that thread exited; the others still count
        children.extend(int(c) for c in data.split())
    return children


def children_supported(root: str = PROC) -> bool:
    """Whether this kernel exposes per-task ``children`` files."""
    pid = os.getpid()
    return os.path.exists(f"{root}/{pid}/task/{pid}/children")


def scan_parents(root: str = PROC) -> dict[int, int]:
    """Every process's parent, from a scan of all ``/proc/<pid>/stat``: the fallback tree source
    for kernels without ``children`` files. Its cost grows with every process on the host."""
    parents = {}
    for name in os.listdir(root):
        if name.isdigit():
            pid = int(name)
            try:
                parents[pid] = read_stat(pid, root).ppid
            except ProcfsError:
                continue
    return parents


def read_pss(pid: int, root: str = PROC) -> Pss:
    """Parse ``/proc/<pid>/smaps_rollup`` (kernel ≥ 4.14).

    Expensive: the kernel walks every page table entry of the process while holding its mmap lock
    for reading, so the cost grows with mapped memory (~25 ms for 2 GB resident).
    Raises :class:`ProcessGone` or :class:`AccessDenied`.
    """
    path = f"{root}/{pid}/smaps_rollup"
    data = read_file(pid, path)
    values = {}
    for line in data.splitlines()[1:]:  # the first line names the (rolled-up) mapping
        key, _, rest = line.partition(b":")
        parts = rest.split()
        if parts:
            values[key] = int(parts[0]) * 1024  # the kernel prints kB
    if b"Pss" not in values:
        # Kernel threads and zombies have no mm: an empty rollup. Nothing resident to share.
        return Pss(0, 0, 0)
    return Pss(values[b"Pss"], values.get(b"Rss", 0), values.get(b"SwapPss", 0))


def aslr_enabled(root: str = PROC) -> bool:
    """Whether address-space layout randomisation is on (``kernel.randomize_va_space`` > 0).
    Unknown counts as on: it is the default everywhere."""
    try:
        return int(read_file(0, f"{root}/sys/kernel/randomize_va_space")) > 0
    except (ProcfsError, ValueError):
        return True


def boot_seconds() -> float:
    """Seconds since boot on the clock ``start_ticks`` uses (CLOCK_BOOTTIME counts suspend)."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)
