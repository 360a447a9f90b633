"""Parsing faulthandler's dump and choosing the culprit, on real dumps: a subprocess registers
faulthandler as the server does, blocks its event loop (tornado on asyncio) in a known way, and
this test sends the signal while it is stuck."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from jupyter_resource_monitor.tracking import stacks

SIG = signal.SIGRTMIN + 7

# The script: register faulthandler, start a helper thread, then run `BLOCK` from a tornado
# callback on the asyncio loop, printing the loop thread's id first. `BLOCK` is one of:
SCRIPT = textwrap.dedent("""
    import faulthandler, re, signal, sys, threading, time
    from tornado.ioloop import IOLoop

    out = open(sys.argv[1], "ab", buffering=0)
    faulthandler.register(int(sys.argv[2]), file=out, all_threads=True, chain=False)

    def helper_waits():
        time.sleep(60)

    def stuck_in_regex():
        re.match(r"(a+)+$", "a" * 40 + "b")  # catastrophic: C code holding the GIL for ages

    def deep(n):
        if n:
            return deep(n - 1)
        time.sleep(60)

    def announce_then(block):
        print("READY", threading.get_ident(), flush=True)
        block()

    threading.Thread(target=helper_waits, name="helper", daemon=True).start()
    blocks = {"regex": stuck_in_regex, "deep": lambda: deep(150), "idle": None}
    loop = IOLoop.current()
    if blocks[sys.argv[3]] is None:
        loop.add_callback(lambda: print("READY", threading.get_ident(), flush=True))
    else:
        loop.add_callback(announce_then, blocks[sys.argv[3]])
    loop.start()
""")


def dump_of(tmp_path: Path, block: str) -> tuple[str, int, Path]:
    """faulthandler's output for a process stuck in ``block``, its loop thread's id, the script."""
    script = tmp_path / "blocker_script.py"
    script.write_text(SCRIPT)
    out = tmp_path / f"dump-{block}.txt"
    out.touch()
    proc = subprocess.Popen(
        [sys.executable, str(script), str(out), str(SIG), block], stdout=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline().split()
        assert line and line[0] == "READY", "the script did not start"
        ident = int(line[1])
        time.sleep(0.5)  # well inside the block (or the idle wait)
        os.kill(proc.pid, SIG)
        # The dump is written at once by the signal handler: wait until the file stops growing.
        deadline, size = time.monotonic() + 10, -1
        while time.monotonic() < deadline:
            time.sleep(0.2)
            now = out.stat().st_size
            if now and now == size:
                break
            size = now
        return out.read_text(), ident, script
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def test_regex_in_c_names_the_calling_function_and_keeps_the_whole_stack(tmp_path):
    text, ident, script = dump_of(tmp_path, "regex")
    threads = stacks.parse_dump(text)
    assert ident in threads and len(threads) >= 2  # the loop's thread and the helper
    stack = threads[ident]
    # Innermost first: re's own frame (the standard library) is inside our function.
    assert stack[0].function == "match" and stack[0].file.endswith(os.path.join("re", "__init__.py"))
    assert stacks.is_machinery(stack[0].file)
    culprit = stacks.culprit(stack)
    assert culprit is not None
    assert (culprit.function, culprit.file) == ("stuck_in_regex", str(script))
    lines = SCRIPT.splitlines()
    assert culprit.line == 1 + next(i for i, text in enumerate(lines) if "re.match(" in text)
    # The loop's machinery is in the stack and skipped: tornado's callback runner and asyncio.
    files = [f.file for f in stack]
    assert any(os.sep + "tornado" + os.sep in f for f in files)
    assert any(os.sep + "asyncio" + os.sep in f for f in files)
    for frame in stack[: stack.index(culprit)]:
        assert stacks.is_machinery(frame.file)
    assert all(stacks.is_machinery(f.file) for f in stack if os.sep + "tornado" + os.sep in f.file)
    # The helper thread's stack is parsed too, under its own id.
    helper = [s for tid, s in threads.items() if tid != ident]
    assert any(f.function == "helper_waits" for s in helper for f in s)


def test_a_stack_cut_at_100_frames_still_names_the_innermost_function(tmp_path):
    text, ident, script = dump_of(tmp_path, "deep")
    assert "  ..." in text  # faulthandler cut it
    stack = stacks.parse_dump(text)[ident]
    assert len(stack) == 100
    assert all(f.function == "deep" and f.file == str(script) for f in stack)
    assert stacks.culprit(stack) == stack[0]


def test_an_idle_loop_has_no_culprit(tmp_path):
    text, ident, _ = dump_of(tmp_path, "idle")
    stack = stacks.parse_dump(text)[ident]
    assert stack[0].function in ("select", "poll")
    assert stacks.is_idle_loop(stack)
    # Without the idle rule the server's start-up code would be blamed: the script's <module>.
    assert any(not stacks.is_machinery(f.file) for f in stack)
    assert stacks.culprit(stack) is None


def test_installed_packages_are_not_the_standard_library():
    import jupyter_server
    import tornado.web

    assert stacks.is_machinery(tornado.web.__file__)
    assert not stacks.is_machinery(jupyter_server.__file__)
    assert stacks.is_machinery(os.__file__)
    assert not stacks.is_machinery(__file__)


def test_pick_signal_avoids_caught_signals():
    sig = stacks.pick_signal()
    assert sig is not None and signal.SIGRTMIN < sig <= signal.SIGRTMAX
    previous = signal.signal(sig, lambda *_: None)  # now caught by a Python handler
    try:
        assert stacks.pick_signal() not in (None, sig)
    finally:
        signal.signal(sig, previous)


@pytest.mark.parametrize("line", ["", "garbage", "Thread 0xZZ (most recent call first):"])
def test_junk_parses_to_nothing(line):
    assert stacks.parse_dump(line) == {}
