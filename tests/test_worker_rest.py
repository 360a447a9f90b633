"""A worker nobody polls wakes nothing: its sampling and its event-loop probes pause together and
resume together on the next demand."""

from __future__ import annotations

import os
import select
import subprocess
import time

from jupyter_resource_monitor.tracking.supervisor import worker_command
from jupyter_resource_monitor.worker.loop_probe import AnswerPage, ProbeOptions
from jupyter_resource_monitor.worker.main import WorkerOptions


def drain(fd: int, seconds: float) -> bytes:
    """Everything readable on ``fd`` within ``seconds``."""
    out, end = b"", time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            out += chunk
    return out


def test_probes_pause_with_sampling_and_resume_on_demand(tmp_path):
    answer = tmp_path / "answer"
    answer.write_bytes(b"\0" * AnswerPage.SIZE)
    page = AnswerPage(str(answer), writable=True)
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    probe = ProbeOptions(
        answer_path=str(answer), fd=write_end, server_pid=os.getpid(), signal=0, interval_s=0.05
    )
    options = WorkerOptions(root_pid=os.getpid(), idle_timeout_s=1.0, loop_probe=probe.to_dict())
    worker = subprocess.Popen(
        worker_command(options), stdin=subprocess.PIPE, stdout=subprocess.PIPE, pass_fds=(write_end,), cwd="/"
    )
    os.close(write_end)
    try:
        probes = drain(read_end, 0.5)
        assert probes.count(b"\n") >= 4  # probing while demanded (started demanded)
        page.write(int(probes.splitlines()[-1].split()[1]))
        out = drain(worker.stdout.fileno(), 2.0)
        assert b'{"event":"paused"}' in out
        drain(read_end, 0.3)  # the last probe or two sent before the pause
        assert drain(read_end, 1.0) == b""  # paused: not a probe
        worker.stdin.write(b"d\n")
        worker.stdin.flush()
        resumed = drain(read_end, 0.5).splitlines()
        assert len(resumed) >= 4  # probing again at once
        seqs = [int(line.split()[1]) for line in resumed]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    finally:
        worker.kill()
        worker.wait()
        worker.stdin.close()
        worker.stdout.close()
        os.close(read_end)
        page.close()
