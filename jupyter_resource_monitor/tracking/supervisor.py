"""Server side of the worker: start it on demand, keep its latest snapshot, restart it when it
dies or hangs. With the event-loop watch on, it starts with the server instead (``keep_alive``,
:meth:`WorkerSupervisor.start`), sampling only once demanded, and inherits the probe pipe
(``pass_fds``; the probes do not pass through here, see loop_watch.py).

Everything here runs on the server's event loop and does O(1) work per request: a request only
reads :attr:`WorkerSupervisor.snapshot` and calls :meth:`WorkerSupervisor.demand`. The loop's only
other cost is decoding one small JSON line per sample.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import os
import signal
import sys
import time

from ..snapshot import Snapshot, decode
from ..worker.main import WorkerOptions

# Seconds between restarts of a worker that keeps dying young: doubles from the first to the last.
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
# A worker that lived this long was healthy: its next restart is prompt again.
HEALTHY_AFTER_S = 30.0
# After this many young deaths in a row the state says "failed" (restarts go on, with backoff).
FAILED_AFTER = 3
# Bound on every wait for the worker process to go away after SIGKILL.
KILL_WAIT_S = 5.0
# Longest line read from the worker: a snapshot grows with the number of kernels and terminals.
LINE_LIMIT = 64 << 20
# A worker that is meant to be sampling but has written nothing for this long (or five of its
# intervals, if longer) is taken as hung and killed.
HANG_TIMEOUT_S = 10.0
# A snapshot older than this (or three of the worker's intervals, if longer) is reported stale.
STALE_AFTER_S = 2.0
# With the server, a worker is given this long to exit by itself (restoring what it changed).
STOP_GRACE_S = 3.0
# Demand is signalled to the worker at most this often, however many clients poll.
DEMAND_EVERY_S = 1.0


# The worker runs with "/" as its working directory and, where Python has it (3.11+), -P: the
# server's directory is usually the user's notebook folder, and a select.py or json.py there would
# otherwise replace the standard module in the worker. The package's own root is appended to
# sys.path (after the standard library) so a source checkout finds itself as the server did.
_BOOTSTRAP = (
    "import sys; sys.path.append(sys.argv.pop(1)); "
    "from jupyter_resource_monitor.worker.main import main; main()"
)
_PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def worker_command(options: WorkerOptions) -> list[str]:
    """The command line that starts a worker with ``options``."""
    safe_path = ["-P"] if sys.version_info >= (3, 11) else []
    return [sys.executable, *safe_path, "-c", _BOOTSTRAP, _PACKAGE_ROOT, options.to_arg()]


class WorkerSupervisor:
    """Owns the worker process and the latest snapshot it produced.

    ``state`` is one of ``stopped`` (never started, or stopped with the server), ``starting``
    (spawned, no sample yet), ``running``, ``paused`` (idle: nobody polled lately),
    ``restarting`` (died or hung, waiting out its backoff) and ``failed`` (could not be spawned,
    or died young :data:`FAILED_AFTER` times in a row; restarts go on with backoff). ``error``
    says what went wrong last, with the end of the worker's stderr when it has one.
    """

    def __init__(
        self,
        options: WorkerOptions,
        log: logging.Logger | None = None,
        hang_timeout_s: float = HANG_TIMEOUT_S,
        command: list[str] | None = None,
        backoff_first_s: float = BACKOFF_FIRST_S,
        backoff_max_s: float = BACKOFF_MAX_S,
        healthy_after_s: float = HEALTHY_AFTER_S,
        line_limit: int = LINE_LIMIT,
    ):
        self.options = options
        self.log = log or logging.getLogger(__name__)
        self.hang_timeout_s = hang_timeout_s
        self.command = command or worker_command(options)
        self.backoff_first_s = backoff_first_s
        self.backoff_max_s = backoff_max_s
        self.healthy_after_s = healthy_after_s
        self.line_limit = line_limit
        self.snapshot: Snapshot | None = None
        # Called with each new snapshot, on the event loop (see tracker.Tracker.on_snapshot).
        self.listeners: list = []
        # File descriptors the worker inherits (the event-loop probe's pipe, see loop_watch.py).
        self.pass_fds: tuple[int, ...] = ()
        # Keep a worker running (and restart it) even when nobody wants samples: the event-loop
        # probe lives in it. Its sampling still pauses when nobody polls.
        self.keep_alive = False
        # Called on the loop with each status line from the worker other than "paused" (the
        # memory guard's, see guard/service.py).
        self.status_listeners: list = []
        # Lines written to each new worker's stdin as it starts (the guard's switch, say).
        self.greeting: list[bytes] = []
        self.state = "stopped"
        self.restarts = 0
        self.error: str | None = None
        self.pid: int | None = None
        self._task: asyncio.Task | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=5)
        self._last_demand = 0.0
        self._last_signal = 0.0
        self._woken_at = 0.0
        self._demanded = asyncio.Event()
        self._stopped = False

    # -- called by request handlers: O(1), never waits ---------------------------------------

    def demand(self) -> None:
        """Someone wants numbers: start the worker, or keep it (or wake it) sampling."""
        if self._stopped:
            return  # the server is shutting down: no new worker
        now = time.monotonic()
        self._last_demand = now
        self._demanded.set()
        if self._task is None or self._task.done():
            # Never started, or the supervising task ended (it should not: see _supervise).
            self.state = "starting"
            self._task = asyncio.get_running_loop().create_task(self._supervise())
            self._task.add_done_callback(self._supervision_ended)
            return
        # A worker still starting may be paused (started for the loop probe or the guard) before
        # it says so: it is told at once too, or its probes would wait out DEMAND_EVERY_S.
        waking = self.state in ("paused", "starting")
        if self._proc is not None and (waking or now - self._last_signal >= DEMAND_EVERY_S):
            self._last_signal = now
            if self.state == "paused":
                self.state = "running"
                self._woken_at = now  # the pause is not a silence: hang detection restarts here
            try:
                self._proc.stdin.write(b"d\n")
            except (BrokenPipeError, ConnectionResetError, RuntimeError):
                pass  # it is dying: the supervising task will notice and restart it

    def send(self, line: bytes) -> bool:
        """Write one command line to the running worker; False when none runs."""
        if self._proc is None or self._proc.stdin is None:
            return False
        try:
            self._proc.stdin.write(line)
        except (BrokenPipeError, ConnectionResetError, RuntimeError):
            return False  # it is dying: the supervising task will notice and restart it
        return True

    def start(self) -> None:
        """Start the worker without asking for samples (for the event-loop probe): it starts
        paused when its options say so, and samples on the first :meth:`demand`."""
        if self._stopped or (self._task is not None and not self._task.done()):
            return
        self.state = "starting"
        self._task = asyncio.get_running_loop().create_task(self._supervise())
        self._task.add_done_callback(self._supervision_ended)

    def is_stale(self, now: float | None = None) -> bool:
        """Whether the snapshot is missing, from a dead worker, or older than the worker's
        schedule allows."""
        if self.snapshot is None or self.state in ("restarting", "failed"):
            return True  # whatever we hold is from a worker that is gone
        now = time.monotonic() if now is None else now
        allowed = max(3 * self.snapshot.interval_s, STALE_AFTER_S)
        return now - self.snapshot.taken_monotonic > allowed

    # -- lifecycle ---------------------------------------------------------------------------

    async def stop(self) -> None:
        """Stop supervising and end the worker (with the server). Bounded in time."""
        self._stopped = True
        await self._kill(grace_s=STOP_GRACE_S)  # before the task: it would SIGKILL at once
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.wait([task], timeout=KILL_WAIT_S)
        await self._kill()
        self.state = "stopped"

    async def _supervise(self) -> None:
        backoff = self.backoff_first_s
        young_deaths = 0
        while True:
            started = time.monotonic()
            spawned = True
            try:
                spawned = await self._run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a bug here must not end supervision for good
                self.log.exception("Resource monitor: supervising the worker failed")
                self.error = f"supervisor error: {exc!r}"
                await self._kill()
            if self._stopped:
                return  # ended by stop(): no restart
            self.restarts += 1
            if time.monotonic() - started >= self.healthy_after_s:
                backoff, young_deaths = self.backoff_first_s, 0  # it was healthy: restart promptly
            else:
                young_deaths += 1
            failed = not spawned or young_deaths >= FAILED_AFTER
            self.state = "failed" if failed else "restarting"
            self.log.warning("Resource monitor worker %s; restarting in %.0f s", self.error, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self.backoff_max_s)
            # Restart only for someone who still wants numbers.
            if not self._wanted(time.monotonic()):
                self._demanded.clear()
                await self._demanded.wait()

    def _supervision_ended(self, task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.log.error(
                "Resource monitor: supervision ended; the next request restarts it", exc_info=task.exception()
            )

    def _wanted(self, now: float) -> bool:
        idle = self.options.idle_timeout_s
        return self.keep_alive or idle <= 0 or now - self._last_demand <= idle

    async def _run_once(self) -> bool:
        """Run one worker until it exits or hangs, and set ``error`` to why; return whether it
        could be started."""
        if self.state != "failed":
            self.state = "starting"
        self._stderr.clear()
        try:
            self._proc = proc = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd="/",
                limit=self.line_limit,
                pass_fds=self.pass_fds,
            )
        except OSError as exc:
            self.error = f"could not be started ({exc})"
            return False
        self.pid = proc.pid
        self._last_signal = self._woken_at = time.monotonic()
        for line in self.greeting:
            proc.stdin.write(line)
        if (
            self.options.start_paused
            and self._last_demand
            and self._woken_at - self._last_demand <= max(self.options.idle_timeout_s, DEMAND_EVERY_S)
        ):
            proc.stdin.write(b"d\n")  # someone polled before it was up: sample at once
        stderr = asyncio.get_running_loop().create_task(self._keep_stderr(proc.stderr))
        last_line = time.monotonic()
        try:
            while True:
                # Paused, nothing is due from the worker and there is no hang to look for: wake
                # rarely (each wake-up of an idle server costs it a few hundred µs of CPU).
                timeout = self.hang_timeout_s if self.state == "paused" else 1.0
                try:
                    line = await asyncio.wait_for(proc.stdout.readline(), timeout)
                except asyncio.TimeoutError:
                    if self.state != "paused" and self._hung(last_line):
                        self.error = f"hung (no sample for {time.monotonic() - last_line:.0f} s)"
                        return True
                    continue
                except ValueError as exc:
                    # A line over the stream limit: asyncio dropped it and the pipe goes on.
                    self.log.warning("Resource monitor worker wrote an over-long line: %s", exc)
                    continue
                if not line:
                    try:
                        code = await asyncio.wait_for(proc.wait(), KILL_WAIT_S)
                    except asyncio.TimeoutError:
                        code = "unknown (closed its output but did not exit)"
                    await asyncio.wait([stderr], timeout=1.0)  # its last words, if any
                    self.error = f"exited with code {code}" + self._stderr_tail()
                    return True
                last_line = time.monotonic()
                if line.startswith(b'{"event":"paused"'):
                    self.state = "paused"
                    continue
                if line.startswith(b'{"event":'):
                    self._tell_status_listeners(line)
                    continue
                try:
                    self.snapshot = decode(line)
                except Exception as exc:  # noqa: BLE001 - any malformed line is skipped
                    self.log.warning("Resource monitor worker wrote an unreadable line: %r", exc)
                    continue
                self.state = "running"
                self.error = None
                self._tell_listeners(self.snapshot)
        finally:
            await self._kill()
            stderr.cancel()

    def _tell_listeners(self, snapshot: Snapshot) -> None:
        for listener in self.listeners:
            try:
                listener(snapshot)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop the samples
                self.log.exception("Resource monitor: a snapshot listener failed")

    def _tell_status_listeners(self, line: bytes) -> None:
        try:
            status = json.loads(line)
        except ValueError:
            self.log.warning("Resource monitor worker wrote an unreadable status line: %r", line[:200])
            return
        for listener in self.status_listeners:
            try:
                listener(status)
            except Exception:  # noqa: BLE001 - a listener's bug must not stop the samples
                self.log.exception("Resource monitor: a status-line listener failed")

    async def _keep_stderr(self, stream: asyncio.StreamReader) -> None:
        """Drain the worker's stderr (so it never blocks on a full pipe), keeping its last lines
        for ``error`` and passing each to the server's log."""
        while True:
            try:
                line = await stream.readline()
            except ValueError:
                continue  # an over-long line: asyncio dropped it
            if not line:
                return
            text = line.decode(errors="replace").rstrip()
            self._stderr.append(text)
            self.log.warning("Resource monitor worker: %s", text)

    def _stderr_tail(self) -> str:
        return f": {self._stderr[-1]}" if self._stderr else ""

    def _hung(self, last_line: float) -> bool:
        interval = self.snapshot.interval_s if self.snapshot else self.options.interval_s
        silent_since = max(last_line, self._woken_at)
        return time.monotonic() - silent_since > max(self.hang_timeout_s, 5 * interval)

    async def _kill(self, grace_s: float = 0.0) -> None:
        """End the worker: with ``grace_s``, first close its stdin and give it that long to exit
        by itself (the memory guard then gives every kernel its limit back), else SIGKILL."""
        proc, self._proc = self._proc, None
        self.pid = None
        if proc is None or proc.returncode is not None:
            return
        if grace_s > 0 and proc.stdin is not None:
            try:
                proc.stdin.close()
                await asyncio.wait_for(proc.wait(), grace_s)
                return
            except (asyncio.TimeoutError, BrokenPipeError, ConnectionResetError, RuntimeError):
                pass
        try:
            proc.send_signal(signal.SIGKILL)  # it holds nothing worth a clean shutdown
        except ProcessLookupError:
            pass
        try:
            await asyncio.wait_for(proc.wait(), KILL_WAIT_S)
        except asyncio.TimeoutError:  # e.g. stuck in uninterruptible sleep: do not hang with it
            self.log.warning("Resource monitor worker %s did not exit after SIGKILL", proc.pid)


def worker_options_from(config, root_pid: int | None = None) -> WorkerOptions:
    """Build the worker's options from a :class:`~.config.ResourceMonitor`."""
    return WorkerOptions(
        root_pid=os.getpid() if root_pid is None else root_pid,
        interval_s=config.sample_interval,
        max_processes=config.max_processes,
        pss_budget=config.pss_budget,
        idle_timeout_s=config.idle_timeout,
        mem_limit=config.mem_limit if isinstance(config.mem_limit, int) else 0,
        cpu_limit=config.cpu_limit if isinstance(config.cpu_limit, (int, float)) else 0.0,
        mem_limit_env=os.environ.get("MEM_LIMIT"),
        cpu_limit_env=os.environ.get("CPU_LIMIT"),
        disk_path=str(config.disk_path) if config.track_disk_usage else None,
    )
