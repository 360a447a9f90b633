"""A test-only server extension whose routes block the server's event loop on purpose.

Loaded by tests/test_event_loop.py into a real ``jupyter server`` (this folder on PYTHONPATH,
``--ServerApp.jpserver_extensions``). Each route blocks the loop in a different way, times the
block itself (the truth the test compares with), and counts how often a Python thread got the GIL
meanwhile (the proof that the C call held it):

- ``sleep``: ``time.sleep`` (C, GIL released);
- ``spin``: a pure-Python loop;
- ``ccall``: one ``sum(range(n))``, a single builtin call that never returns to the interpreter
  loop, so it never gives the GIL up. ``n`` is calibrated right before, in the server process
  itself (a calibration done earlier or elsewhere ran on a differently loaded machine and once
  made a 2 s call last 0.95 s).
"""

from __future__ import annotations

import json
import threading
import time

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web


def block_with_sleep(seconds: float) -> None:
    time.sleep(seconds)


def block_with_spin(seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass


def block_in_c_call(n: int) -> int:
    return sum(range(n))


def calibrated_sum_n(seconds: float) -> int:
    """How many numbers ``sum(range(n))`` adds in ``seconds`` here, now (fastest of 3 trials)."""
    n = 2_000_000
    fastest = min(_timed_sum(n) for _ in range(3))
    return int(n * seconds / fastest)


def _timed_sum(n: int) -> float:
    started = time.perf_counter()
    sum(range(n))
    return time.perf_counter() - started


class _Ticker:
    """A thread that counts how often it runs (every millisecond when it can get the GIL)."""

    def __init__(self):
        self.ticks = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.001):
            self.ticks += 1

    def __enter__(self):
        self._thread.start()
        time.sleep(0.02)
        self.ticks = 0
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


class BlockHandler(APIHandler):
    @web.authenticated
    def get(self, how):
        seconds = float(self.get_argument("seconds", "2"))
        with _Ticker() as ticker:
            started = time.monotonic()
            if how == "sleep":
                block_with_sleep(seconds)
            elif how == "spin":
                block_with_spin(seconds)
            elif how == "ccall":
                block_in_c_call(calibrated_sum_n(seconds))
            else:
                raise web.HTTPError(404)
            elapsed = time.monotonic() - started
            ticks = ticker.ticks
        self.finish(
            json.dumps({"elapsed_s": elapsed, "other_thread_ticks": ticks, "started_monotonic": started})
        )


def _load_jupyter_server_extension(serverapp):
    route = url_path_join(serverapp.base_url, r"/loop-blocker/(sleep|spin|ccall)")
    serverapp.web_app.add_handlers(".*$", [(route, BlockHandler)])


def _jupyter_server_extension_points():
    return [{"module": "loop_blocker"}]
