"""The supervisor against real misbehaving worker processes (small scripts, one per case)."""

import asyncio
import logging
import os
import sys
import textwrap
import time

import pytest

from jupyter_resource_monitor.tracking.supervisor import WorkerSupervisor, worker_command
from jupyter_resource_monitor.worker.main import WorkerOptions

# A worker that speaks the real protocol: the real sampler and snapshot encoding, with a prelude
# (what to do first) and a pause after waking that each case chooses.
REAL_WORKER = """
import os, sys, time
from jupyter_resource_monitor.worker.main import WorkerOptions, main
{prelude}
main()
"""


def script(tmp_path, body, name="worker.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return [sys.executable, str(path)]


def options(**kw):
    return WorkerOptions(**{"root_pid": os.getpid(), "interval_s": 0.2, **kw})


def options_arg(**kw):
    return options(**kw).to_arg()


async def until(predicate, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"{what} not met within {timeout} s"
        await asyncio.sleep(0.05)


@pytest.fixture
def supervisors(jp_asyncio_loop):
    """Supervisors made by a test, stopped after it (bounded) even when it fails."""
    made = []
    yield made
    for supervisor in made:
        jp_asyncio_loop.run_until_complete(asyncio.wait_for(supervisor.stop(), 15))


def make(supervisors, command, opts=None, **kw):
    supervisor = WorkerSupervisor(
        opts or options(), log=logging.getLogger("test-supervisor"), command=command, **kw
    )
    supervisors.append(supervisor)
    return supervisor


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] != "Z"


async def test_garbage_and_overlong_lines_are_skipped(tmp_path, supervisors, caplog):
    prelude = """
    sys.stdout.write("not json\\n" + '{"total": 5}\\n' + "[1, 2]\\n" + "x" * 20000 + "\\n")
    sys.stdout.flush()
    """
    command = script(tmp_path, REAL_WORKER.format(prelude=textwrap.dedent(prelude))) + [options_arg()]
    supervisor = make(supervisors, command, line_limit=4096)
    supervisor.demand()
    await until(lambda: supervisor.snapshot is not None, what="a sample after bad lines")
    assert supervisor.state == "running" and supervisor.restarts == 0 and supervisor.error is None
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "over-long line" in messages and "unreadable line" in messages


async def test_worker_dying_young_backs_off_and_reports_failed(tmp_path, supervisors):
    starts = tmp_path / "starts"
    command = script(
        tmp_path,
        f"""
        import sys, time
        with open({str(starts)!r}, "a") as f:
            f.write(f"{{time.monotonic()}}\\n")
        sys.stderr.write("boom: cannot sample\\n")
        sys.exit(3)
    """,
    )
    supervisor = make(supervisors, command, backoff_first_s=0.2, backoff_max_s=5)
    supervisor.demand()
    await until(lambda: supervisor.restarts >= 4, timeout=15, what="four restarts")
    assert supervisor.state == "failed"
    assert supervisor.error == "exited with code 3: boom: cannot sample"
    times = [float(t) for t in starts.read_text().split()]
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4 and gaps[2] >= 0.8  # doubles while it dies young
    assert gaps[2] > 1.5 * gaps[0]


async def test_healthy_life_resets_the_backoff(tmp_path, supervisors):
    # lives 1 s (healthy_after_s=0.5), producing samples, then dies: restarted promptly each time
    prelude = """
    import threading
    threading.Timer(1.0, lambda: os._exit(1)).start()
    """
    command = script(tmp_path, REAL_WORKER.format(prelude=textwrap.dedent(prelude))) + [options_arg()]
    supervisor = make(supervisors, command, backoff_first_s=0.3, backoff_max_s=30, healthy_after_s=0.5)
    supervisor.demand()
    await until(lambda: supervisor.restarts >= 4, timeout=15, what="four restarts")
    assert supervisor.state in ("starting", "running", "restarting")  # never "failed"


async def test_hung_worker_is_killed_within_bounds(tmp_path, supervisors):
    command = script(tmp_path, "import time\ntime.sleep(600)\n")
    supervisor = make(supervisors, command, hang_timeout_s=1.0, backoff_first_s=5)
    supervisor.demand()
    await until(lambda: supervisor.pid is not None, what="spawn")
    hung = supervisor.pid
    await until(lambda: supervisor.state == "restarting", timeout=10, what="hang detected")
    assert supervisor.error.startswith("hung")
    assert not alive(hung)


async def test_a_long_pause_then_a_slow_first_sample_is_not_a_hang(tmp_path, supervisors):
    # The real worker pauses after 0.3 s without demand; after waking, its first sample takes
    # 0.7 s here (a slow walk), well within the hang timeout counted from the wake-up.
    prelude = """
    import jupyter_resource_monitor.worker.main as w
    real = w.Monitor.snapshot
    state = {"paused": False}
    def take(*a, **k):
        if state["paused"]:
            state["paused"] = False
            time.sleep(0.7)
        return real(*a, **k)
    w.Monitor.snapshot = take
    real_wait = w.Commands.wait
    def wait(self, timeout):
        if timeout is None:
            state["paused"] = True
        return real_wait(self, timeout)
    w.Commands.wait = wait
    """
    opts = options(idle_timeout_s=0.3)
    command = script(tmp_path, REAL_WORKER.format(prelude=textwrap.dedent(prelude))) + [opts.to_arg()]
    supervisor = make(supervisors, command, opts=opts, hang_timeout_s=1.0)
    supervisor.demand()
    await until(lambda: supervisor.state == "paused", what="pause")
    await asyncio.sleep(2.5)  # paused far longer than the hang timeout
    paused_at = supervisor.snapshot.taken_monotonic
    supervisor.demand()
    await until(lambda: supervisor.snapshot.taken_monotonic > paused_at, what="a sample after waking")
    await asyncio.sleep(1.2)
    assert supervisor.restarts == 0 and supervisor.error is None


async def test_spawn_failure_is_failed_with_its_reason(supervisors):
    supervisor = make(supervisors, ["/nonexistent/python3"], backoff_first_s=0.2)
    supervisor.demand()
    await until(lambda: supervisor.state == "failed", what="failed state")
    assert "could not be started" in supervisor.error


async def test_an_unexpected_error_while_supervising_is_logged_and_recovered(tmp_path, supervisors, caplog):
    slow = options(interval_s=1.5)  # silent for over 1 s between samples: the hang check runs
    command = script(tmp_path, REAL_WORKER.format(prelude="")) + [slow.to_arg()]
    supervisor = make(supervisors, command, opts=slow, backoff_first_s=0.2)
    calls = {"n": 0}
    real = supervisor._hung

    def hung_once(last_line):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("a bug in the supervisor")
        return real(last_line)

    supervisor._hung = hung_once
    supervisor.demand()
    await until(lambda: calls["n"] >= 1 and supervisor.restarts >= 1, what="the error")
    first = supervisor.pid
    await until(
        lambda: supervisor.state == "running" and supervisor.pid not in (None, first), what="a new worker"
    )
    errors = [r for r in caplog.records if r.levelno == logging.ERROR and r.exc_info]
    assert len(errors) == 1 and "a bug in the supervisor" in str(errors[0].exc_info[1])


async def test_a_request_after_supervision_ended_starts_it_again(tmp_path, supervisors):
    command = script(tmp_path, REAL_WORKER.format(prelude="")) + [options_arg()]
    supervisor = make(supervisors, command)
    supervisor.demand()
    await until(lambda: supervisor.state == "running", what="running")
    supervisor._task.cancel()  # the task ends, whatever the reason
    await until(lambda: supervisor._task.done(), what="task ended")
    taken = supervisor.snapshot.taken_monotonic
    supervisor.demand()
    await until(
        lambda: supervisor.snapshot.taken_monotonic > taken and supervisor.state == "running",
        what="a new sample",
    )


async def test_stop_during_a_restart_is_bounded_and_clean(tmp_path, supervisors):
    command = script(tmp_path, "import sys\nsys.exit(1)\n")
    supervisor = make(supervisors, command, backoff_first_s=30)
    supervisor.demand()
    await until(lambda: supervisor.state == "restarting", what="restarting")
    started = time.monotonic()
    await supervisor.stop()
    assert time.monotonic() - started < 1.0
    assert supervisor.state == "stopped" and supervisor.pid is None
    supervisor.demand()  # a late request during shutdown starts nothing
    assert supervisor._task is None


def test_worker_command_keeps_the_servers_folder_off_sys_path():
    command = worker_command(options())
    assert command[0] == sys.executable
    if sys.version_info >= (3, 11):
        assert "-P" in command
