"""The kernels' trail (cells/trail.py) on a real process: the writer's thread reads it every
10 ms into memory shared with the reader, which finds the figures at a past moment and the peak
since, as the server does for a boundary that reached it late."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

from jupyter_resource_monitor.cells import trail as trail_module
from jupyter_resource_monitor.cells.trail import Trail, TrailWriter

MiB = 1 << 20
# Sleeps, says so, then fills 200 MiB and gives it back within one C call, and spins.
CHILD = """
import sys, time
time.sleep(0.3)
print("before", flush=True)
n = len(b"y" * (200 << 20))
t = time.process_time()
while time.process_time() - t < 0.3:
    pass
print("done", flush=True)
time.sleep(30)
"""


def test_the_trail_holds_a_real_process_figures_at_a_past_moment_and_its_peak_since():
    lines: list[bytes] = []
    writer: TrailWriter | None = None

    def send(line: bytes) -> bool:
        lines.append(line)
        writer.command(json.loads(line[2:]))
        return True

    trail = Trail(send)
    writer = TrailWriter(trail.fd)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE)
    try:
        trail.follow(child.pid)
        assert child.stdout.readline() == b"before\n"
        before = time.time()
        assert child.stdout.readline() == b"done\n"
        time.sleep(0.05)
        found = trail.at(child.pid, before, None)
        assert found is not None
        reading, between = found
        assert before - 0.05 <= reading.at <= before  # read every 10 ms, a slow machine allowed for
        assert reading.rss < 100 * MiB and reading.hwm < 100 * MiB
        assert between >= 190 * MiB  # the 200 MiB came and went after it: seen in the readings
        # The CPU spin after it is not in the reading's account.
        now = trail.at(child.pid, time.time(), None)[0]
        assert (now.cpu_ticks - reading.cpu_ticks) / trail_module.peak.CLOCK_TICKS >= 0.25
        trail.leave(child.pid)
        assert trail.at(child.pid, time.time(), None) is None
        assert lines[-1] == b't {"slot": 0, "pid": null}\n'
    finally:
        child.kill()
        child.wait()
        child.stdout.close()
        writer.stop()
        thread.join(5)
    assert not thread.is_alive()


def test_the_writer_sleeps_when_it_follows_nothing():
    """Nothing runs at rest: with no kernel followed, the thread waits without a timeout."""
    trail = Trail(lambda line: True)
    writer = TrailWriter(trail.fd)
    thread = threading.Thread(target=writer.run, daemon=True)
    thread.start()
    try:
        time.sleep(0.2)
        native = thread.native_id
        with open(f"/proc/self/task/{native}/stat") as stat:
            ticks_before = sum(int(x) for x in stat.read().rpartition(")")[2].split()[11:13])
        switches = _switches(native)
        time.sleep(0.5)
        assert _switches(native) == switches  # not woken once
        with open(f"/proc/self/task/{native}/stat") as stat:
            assert sum(int(x) for x in stat.read().rpartition(")")[2].split()[11:13]) == ticks_before
    finally:
        writer.stop()
        thread.join(5)


def _switches(tid: int) -> int:
    with open(f"/proc/self/task/{tid}/status") as status:
        return sum(int(line.split()[1]) for line in status if "ctxt_switches" in line)


def test_more_kernels_than_slots_are_read_as_they_arrive():
    sent: list[bytes] = []
    trail = Trail(lambda line: sent.append(line) or True)
    for pid in range(1000, 1000 + trail_module.SLOTS + 2):
        trail.follow(pid)
    assert len(sent) == trail_module.SLOTS
    assert trail.at(1000 + trail_module.SLOTS, time.time(), None) is None
    trail.leave(1000)
    trail.follow(1000 + trail_module.SLOTS)
    assert sent[-1] == b't {"slot": 0, "pid": %d}\n' % (1000 + trail_module.SLOTS)
