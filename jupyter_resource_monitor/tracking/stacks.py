"""The Python stack the event loop was running while it was blocked, and the frame to blame.

:mod:`faulthandler`, registered for a signal, writes every thread's stack from its C signal
handler: it needs neither the event loop nor the GIL, so it works while the loop is stuck in pure
Python, in ``time.sleep`` or inside one long C call holding the GIL (a catastrophic regular
expression). The worker sends the signal when a probe is late (see :mod:`.loop_watch`); this
module registers the handler, reads what it wrote, and names the culprit.

The dump as CPython 3.11 writes it (the parser also accepts more text after the thread id)::

    Thread 0x00007f5b2ebcc6c0 (most recent call first):
      File "/path/mod.py", line 5 in worker
    <blank>
    Current thread 0x00007f5b2fa12b80 (most recent call first):
      File "/usr/lib/python3.11/re/__init__.py", line 166 in match
      File "/srv/app.py", line 8 in culprit

Frames are innermost first; ``  ...`` ends a stack cut at 100 frames; a line number may be
``???``; a thread in C with no Python frame shows ``  <no Python frame>``.
"""

from __future__ import annotations

import faulthandler
import os
import re
import signal
import sysconfig
import tempfile
from dataclasses import asdict, dataclass

# Longest dump read back: every thread's stack, 100 frames each at most; a server has a few
# threads (tornado's resolver, a thread pool), so a few KiB is usual and this is plenty.
MAX_DUMP_BYTES = 256 << 10

_HEADER = re.compile(r"^(?:Current thread|Thread) (0x[0-9a-fA-F]+)\b.*\(most recent call first\):\s*$")
_FRAME = re.compile(r'^  File "(?P<file>.*)", line (?P<line>\d+|\?\?\?) in (?P<function>.*)$')


@dataclass(frozen=True, slots=True)
class Frame:
    """One Python frame: what py-spy or a traceback would show."""

    function: str
    file: str
    line: int | None  # None where faulthandler printed ``???``

    def to_json(self) -> dict:
        return asdict(self)


def parse_dump(text: str) -> dict[int, list[Frame]]:
    """Each thread's frames (innermost first) by thread id, as ``threading.get_ident()`` gives it.

    When the text holds several dumps, a thread's first stack is kept: it is the one written when
    the first signal arrived."""
    stacks: dict[int, list[Frame]] = {}
    current: list[Frame] | None = None
    for line in text.splitlines():
        header = _HEADER.match(line)
        if header:
            ident = int(header.group(1), 16)
            current = None if ident in stacks else stacks.setdefault(ident, [])
            continue
        if current is None:
            continue
        frame = _FRAME.match(line)
        if frame:
            number = frame.group("line")
            current.append(
                Frame(
                    function=frame.group("function"),
                    file=frame.group("file"),
                    line=None if number == "???" else int(number),
                )
            )
        elif not line.strip():
            current = None  # a blank line ends a thread's stack
    return stacks


def _folders(*paths: str | None) -> tuple[str, ...]:
    """Each path as a folder prefix, both as given and with links resolved."""
    out = set()
    for path in paths:
        if path:
            out.update({os.path.join(path, ""), os.path.join(os.path.realpath(path), "")})
    return tuple(sorted(out))


def _tornado_folder() -> str | None:
    try:
        import tornado
    except ImportError:
        return None
    return os.path.dirname(tornado.__file__)


_PATHS = sysconfig.get_paths()
# The standard library (asyncio, selectors, threading, re, ...): never the culprit.
STDLIB = _folders(_PATHS.get("stdlib"), _PATHS.get("platstdlib"))
# Installed packages, which often sit inside the standard library's folder (lib/pythonX.Y/).
SITE_PACKAGES = _folders(_PATHS.get("purelib"), _PATHS.get("platlib"))
# The event loop's own machinery besides asyncio. jupyter_server is *not* in it: when the innermost
# frame outside these is a jupyter_server handler or manager (a big directory listing in its
# contents manager, say), that is the honest answer; its decorators and base handler are outer
# frames, never chosen over the code they call.
LOOP_MACHINERY = _folders(_tornado_folder())


def is_machinery(file: str) -> bool:
    """Whether a frame's file is the standard library or the event loop's machinery."""
    if file.startswith("<frozen "):
        return True  # importlib and friends, frozen into the interpreter
    if file.startswith(LOOP_MACHINERY):
        return True
    if file.startswith(SITE_PACKAGES):
        return False
    return file.startswith(STDLIB)


def is_idle_loop(stack: list[Frame]) -> bool:
    """Whether the stack is the event loop waiting for I/O: the signal arrived after the block
    ended (or the block was elsewhere), so this stack does not show it."""
    return (
        bool(stack)
        and stack[0].function in ("select", "poll")
        and os.path.basename(stack[0].file) == "selectors.py"
    )


def culprit(stack: list[Frame]) -> Frame | None:
    """The innermost frame outside the standard library and the event-loop machinery, as a
    person reading py-spy's output would name it; None when every frame is machinery, or when
    the loop was idle in ``select`` when the stack was taken (the server's start-up code, outer
    to every stack, is not to blame)."""
    if is_idle_loop(stack):
        return None
    for frame in stack:
        if not is_machinery(frame.file):
            return frame
    return None


def pick_signal() -> int | None:
    """A signal nobody in this process handles, for faulthandler: a real-time one (no library
    uses them; SIGUSR1/2 are sometimes taken by debuggers or profilers), checked against the
    handlers installed at the C level too (``SigCgt`` in /proc/self/status). None if none is
    free. Its default action ends the process, so it must be sent only while registered."""
    caught = _caught_signals()
    for offset in (7, 8, 9, 10, 11, 12):
        sig = signal.SIGRTMIN + offset
        if sig > signal.SIGRTMAX or sig in caught:
            continue
        if signal.getsignal(sig) not in (signal.SIG_DFL, None):
            continue
        return sig
    return None


def _caught_signals() -> set[int]:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    mask = int(line.split()[1], 16)
                    return {n for n in range(1, 65) if mask >> (n - 1) & 1}
    except (OSError, ValueError):
        pass
    return set()


class StackDumper:
    """faulthandler registered for :attr:`signal`, writing to a file the server reads back.

    The file is opened for appending, so emptying it after each read makes the next dump start
    at its beginning (faulthandler writes through its own descriptor)."""

    def __init__(self, sig: int, directory: str | None = None):
        self.signal = sig
        fd, self.path = tempfile.mkstemp(prefix=file_prefix("stacks"), suffix=".txt", dir=directory)
        os.close(fd)
        self._file = open(self.path, "ab+", buffering=0)
        faulthandler.register(sig, file=self._file, all_threads=True, chain=False)
        self.registered = True

    def take(self) -> str:
        """What faulthandler wrote since the last call (then forgotten)."""
        fd = self._file.fileno()
        data = os.pread(fd, MAX_DUMP_BYTES, 0)
        os.ftruncate(fd, 0)
        return data.decode(errors="replace")

    def close(self) -> None:
        """Unregister (the signal's default action returns: the sender must be gone first)."""
        if self.registered:
            faulthandler.unregister(self.signal)
            self.registered = False
        self._file.close()
        try:
            os.unlink(self.path)
        except OSError:
            pass


def fast_directory() -> str | None:
    """Shared memory for the dump and the answer page where it exists (no disk I/O either way,
    but a tmpfs also survives a full disk); else the system's temporary folder."""
    return "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


# The loop watch's files are named for the server that made them, so that a server killed before it
# could remove them (SIGKILL, the OOM killer) has them removed by the next one.
_FILE_NAME = re.compile(r"jrm-loop-(?:answer|stacks)-(\d+)-")


def file_prefix(kind: str) -> str:
    """The start of the name of one of this server's files (``kind``: answer or stacks)."""
    return f"jrm-loop-{kind}-{os.getpid()}-"


def remove_orphans(directory: str | None) -> list[str]:
    """Remove this user's loop-watch files left by servers that are gone; the paths removed.
    A listing of one folder, once, at the server's start."""
    directory = directory or tempfile.gettempdir()
    removed = []
    try:
        names = os.listdir(directory)
    except OSError:
        return removed
    for name in names:
        found = _FILE_NAME.match(name)
        if found is None or _alive(int(found.group(1))):
            continue
        path = os.path.join(directory, name)
        try:
            if os.stat(path).st_uid == os.getuid():
                os.unlink(path)
                removed.append(path)
        except OSError:
            pass  # removed meanwhile, or not ours to remove
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
