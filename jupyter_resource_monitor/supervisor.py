"""Server side of the worker: start it on demand, keep its latest snapshot, restart it when it
dies or hangs.

Everything here runs on the server's event loop and does O(1) work per request: a request only
reads :attr:`WorkerSupervisor.snapshot` and calls :meth:`WorkerSupervisor.demand`. The loop's only
other cost is decoding one small JSON line per sample.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import time

from .snapshot import Snapshot, decode
from .worker import WorkerOptions

# Seconds between restarts of a worker that keeps failing: doubles from the first to the last.
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
# A worker that is meant to be sampling but has written nothing for this long (or five of its
# intervals, if longer) is taken as hung and killed.
HANG_TIMEOUT_S = 10.0
# A snapshot older than this (or three of the worker's intervals, if longer) is reported stale.
STALE_AFTER_S = 2.0
# Demand is signalled to the worker at most this often, however many clients poll.
DEMAND_EVERY_S = 1.0


class WorkerSupervisor:
    """Owns the worker process and the latest snapshot it produced.

    ``state`` is one of ``stopped`` (never started, or stopped with the server), ``starting``
    (spawned, no sample yet), ``running``, ``paused`` (idle: nobody polled lately),
    ``restarting`` (died or hung, waiting out its backoff) and ``failed`` (could not be spawned).
    """

    def __init__(self, options: WorkerOptions, log: logging.Logger | None = None,
                 hang_timeout_s: float = HANG_TIMEOUT_S):
        self.options = options
        self.log = log or logging.getLogger(__name__)
        self.hang_timeout_s = hang_timeout_s
        self.snapshot: Snapshot | None = None
        self.state = "stopped"
        self.restarts = 0
        self.error: str | None = None
        self.pid: int | None = None
        self._task: asyncio.Task | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._last_demand = 0.0
        self._last_signal = 0.0
        self._demanded = asyncio.Event()

    # -- called by request handlers: O(1), never waits ---------------------------------------

    def demand(self) -> None:
        """Someone wants numbers: start the worker, or keep it (or wake it) sampling."""
        now = time.monotonic()
        self._last_demand = now
        self._demanded.set()
        if self._task is None:
            self.state = "starting"
            self._task = asyncio.get_running_loop().create_task(self._supervise())
            return
        if self._proc is not None and (self.state == "paused" or now - self._last_signal >= DEMAND_EVERY_S):
            self._last_signal = now
            if self.state == "paused":
                self.state = "running"
            try:
                self._proc.stdin.write(b"d\n")
            except (BrokenPipeError, ConnectionResetError, RuntimeError):
                pass  # it is dying: the supervising task will notice and restart it

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
        """Stop supervising and end the worker (with the server)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        await self._kill()
        self.state = "stopped"

    async def _supervise(self) -> None:
        backoff = BACKOFF_FIRST_S
        while True:
            produced = await self._run_once()
            self.restarts += 1
            if produced:
                backoff = BACKOFF_FIRST_S  # it worked for a while: restart promptly
            self.state = "restarting"
            self.log.warning("Resource monitor worker %s; restarting in %.0f s", self.error, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)
            # Restart only for someone who still wants numbers.
            if not self._wanted(time.monotonic()):
                self._demanded.clear()
                await self._demanded.wait()

    def _wanted(self, now: float) -> bool:
        idle = self.options.idle_timeout_s
        return idle <= 0 or now - self._last_demand <= idle

    async def _run_once(self) -> bool:
        """Run one worker until it exits or hangs; return whether it produced a sample."""
        produced = False
        self.state = "starting"
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "jupyter_resource_monitor.worker", self.options.to_arg(),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                limit=64 << 20,  # a snapshot line grows with the number of kernels and terminals
            )
        except OSError as exc:
            self.state = "failed"
            self.error = f"could not be started ({exc})"
            return False
        self.pid = self._proc.pid
        self._last_signal = time.monotonic()
        last_line = time.monotonic()
        try:
            while True:
                try:
                    line = await asyncio.wait_for(self._proc.stdout.readline(), 1.0)
                except asyncio.TimeoutError:
                    if self.state != "paused" and self._hung(last_line):
                        self.error = f"hung (no sample for {time.monotonic() - last_line:.0f} s)"
                        return produced
                    continue
                if not line:
                    code = await self._proc.wait()
                    self.error = f"exited with code {code}"
                    return produced
                last_line = time.monotonic()
                if line.startswith(b'{"event":"paused"'):
                    self.state = "paused"
                    continue
                try:
                    self.snapshot = decode(line)
                except (ValueError, TypeError, KeyError) as exc:
                    self.log.warning("Resource monitor worker wrote an unreadable line: %s", exc)
                    continue
                produced = True
                self.state = "running"
                self.error = None
        finally:
            await self._kill()

    def _hung(self, last_line: float) -> bool:
        interval = self.snapshot.interval_s if self.snapshot else self.options.interval_s
        return time.monotonic() - last_line > max(self.hang_timeout_s, 5 * interval)

    async def _kill(self) -> None:
        proc, self._proc = self._proc, None
        self.pid = None
        if proc is None or proc.returncode is not None:
            return
        try:
            proc.send_signal(signal.SIGKILL)  # it holds nothing worth a clean shutdown
        except ProcessLookupError:
            pass
        await proc.wait()


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
