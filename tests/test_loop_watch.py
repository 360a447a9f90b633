"""The loop watch in this process: answering probes through the shared page, one block per stall
however many probes it delayed, probes read from their own pipe by one reader on a running loop,
a prober that skips probes while that pipe is full, and faulthandler registered only between
start and stop."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
import time

from jupyter_resource_monitor.tracking import stacks
from jupyter_resource_monitor.tracking.loop_watch import LoopWatch
from jupyter_resource_monitor.worker.loop_probe import AnswerPage, Prober, probe_line


def caught(sig: int) -> bool:
    with open("/proc/self/status") as f:
        mask = next(int(line.split()[1], 16) for line in f if line.startswith("SigCgt:"))
    return bool(mask >> (sig - 1) & 1)


def test_probes_delayed_by_one_stall_make_one_block_and_weight_the_percentiles():
    watch = LoopWatch(threshold_s=1.0)
    options = watch.start()
    try:
        page = AnswerPage(options.answer_path)
        now = time.monotonic()
        for seq in range(1, 41):  # 10 s of prompt answers
            watch.on_probe(probe_line(seq, now - 0.0005))
        # A 2 s stall: the 8 probes sent meanwhile are all answered when it ends.
        now = time.monotonic()
        for i, seq in enumerate(range(41, 49)):
            watch.on_probe(probe_line(seq, now - 2.0 + 0.25 * i))
        assert page.read() == 48  # the worker sees every answer
        assert watch.blocks_total == 1 and len(watch.blocks) == 1
        block = watch.blocks[0]
        assert 1990 <= block.duration_ms <= 2100
        assert abs(block.time - (time.time() - 2.0)) < 0.1
        lag = watch.lag_ms()
        assert lag["p50"] < 5 and 1990 <= lag["max"] <= 2100
        assert lag["p99"] == lag["max"]  # 8 of 48 probes were late: the block weighs its length
        body = watch.payload()
        assert body["last_block_id"] == 1 and body["blocks"][0]["duration_ms"] == block.duration_ms
        # The histogram counted every probe, the 8 late ones in (0.25 s, 2.5 s].
        cumulative = dict(watch.histogram.cumulative())
        assert cumulative["+Inf"] == 48 and cumulative["2.5"] - cumulative["0.25"] == 8
        page.close()
    finally:
        watch.stop()


def test_listeners_get_each_block_and_a_failing_one_does_not_stop_the_others():
    watch = LoopWatch(threshold_s=1.0)
    seen = []
    watch.listeners += [lambda block: 1 / 0, seen.append]
    watch.start()
    try:
        watch.on_probe(probe_line(1, time.monotonic() - 1.5))
        after_first = time.monotonic()
        watch.on_probe(probe_line(2, after_first - 1.2))  # sent during the first block: part of it
        time.sleep(1.1)
        watch.on_probe(probe_line(3, after_first))  # sent after it ended, 1.1 s late: a new one
        assert [b.id for b in seen] == [1, 2]
    finally:
        watch.stop()


def test_faulthandler_is_registered_between_start_and_stop_only():
    watch = LoopWatch()
    options = watch.start()
    sig = watch.signal
    assert sig is not None and options.signal == sig and caught(sig)
    assert options.server_pid == os.getpid()
    paths = [options.answer_path, watch._dumper.path]
    assert all(os.path.exists(p) for p in paths)
    watch.stop()
    assert not caught(sig)
    assert not any(os.path.exists(p) for p in paths)
    assert stacks.pick_signal() == sig  # free again


def test_probes_on_their_pipe_are_answered_by_the_running_loop():
    watch = LoopWatch()
    options = watch.start()
    page = AnswerPage(options.answer_path)

    async def serve():
        watch.attach()
        os.write(options.fd, probe_line(1, time.monotonic()) + probe_line(2, time.monotonic()))
        deadline = time.monotonic() + 2
        while page.read() < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    try:
        asyncio.run(serve())
        assert page.read() == 2 and watch.probes_total == 2
    finally:
        page.close()
        watch.stop()


def test_a_prober_skips_probes_while_the_pipe_is_full_and_resumes_after():
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    filled = 0
    try:
        while True:
            filled += os.write(write_end, b"x" * 4096)
    except BlockingIOError:
        pass
    watch = LoopWatch()
    options = watch.start()
    prober = Prober(dataclasses.replace(options, fd=write_end, signal=0, interval_s=0.05))
    thread = threading.Thread(target=prober._run_quietly, daemon=True)
    try:
        thread.start()
        time.sleep(0.3)  # about 6 probes due, none fits
        assert thread.is_alive()  # not blocked in write, not ended
        drained = b""
        while len(drained) < filled:
            drained += os.read(read_end, 65536)
        assert set(drained[:filled]) == {ord("x")}
        time.sleep(0.3)
        lines = (drained[filled:] + os.read(read_end, 65536)).splitlines()
        seqs = [int(line.split()[1]) for line in lines]
        assert len(seqs) >= 3 and seqs == list(range(1, len(seqs) + 1))  # none lost in the numbering
    finally:
        os.close(read_end)  # the prober's next write fails with EPIPE and its thread ends
        thread.join(2)
        os.close(write_end)
        watch.stop()
    assert not thread.is_alive()
