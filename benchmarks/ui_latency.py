"""Terminal echo latency of a real jupyter server while its metrics endpoint is polled.

One run: start ``python -m jupyter_server`` with one metrics extension (or none), run the workload
(``workload.py``: one process holding ``--mem-gb`` GiB forked into ``--procs`` sleeping and
``--busy`` spinning children) inside a server terminal, so that it is a descendant of the server as
a notebook's processes are, and open a second terminal running ``cat``. For ``--duration``
seconds, type ``--rate`` letters a second into that terminal over its WebSocket and time each echo,
while ``--pollers`` clients (browser tabs) GET ``/api/metrics/v1`` every ``--poll-interval`` s.
Then read the ground truth (PSS and RSS summed over the server's tree, the tree's CPU over one
second) and print one line of JSON. See README.md for what each number means.

usage:
  python ui_latency.py --variant none|jru|ours [--python PATH] [--pythonpath DIR] [--procs 96]
      [--mem-gb 2]
      [--busy 1] [--pollers 4] [--poll-interval 1] [--duration 20] [--json OUT.json]
      [-- extra jupyter server arguments]

Needs only jupyter_server, jupyter_server_terminals, tornado and psutil (in the Python running this
script and in the one running the server). Linux only: PSS comes from /proc/<pid>/smaps_rollup.
"""

import argparse
import asyncio
import collections
import datetime
import json
import math
import os
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import psutil
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse
from tornado.websocket import websocket_connect

HERE = os.path.dirname(os.path.abspath(__file__))
WORKLOAD = os.path.join(HERE, "workload.py")
METRICS_PATH = "/api/metrics/v1"
SCRAPE_PATH = "/metrics"  # jupyter_server's Prometheus endpoint

#: The metrics extensions; every run names all of them so exactly one (or none) is enabled.
METRICS_EXTENSIONS = {
    "jru": ("jupyter_resource_usage", "jupyter-resource-usage"),
    "ours": ("jupyter_resource_monitor", "jupyter-resource-monitor"),
}
#: Server arguments each variant needs besides enabling its extension.
VARIANT_ARGS = {
    "none": [],
    "jru": ["--ResourceUseDisplay.track_cpu_percent=True"],
    "ours": [],
}

#: Run with the server's interpreter: versions, and whether the variant's extension imports.
PROBE = r"""
import importlib, importlib.metadata, json, platform, sys
out = {"python": sys.executable, "python_version": platform.python_version()}
try:
    import jupyter_server, jupyter_server_terminals
    out["jupyter_server"] = jupyter_server.__version__
except Exception as exc:
    out["import_error"] = "jupyter_server: %r" % (exc,)
module, dist = sys.argv[1:3]
if module:
    try:
        mod = importlib.import_module(module)
        out["extension_file"] = getattr(mod, "__file__", None)
        try:
            out["extension_version"] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out["extension_version"] = getattr(mod, "__version__", None)
    except Exception as exc:
        out["import_error"] = "%s: %r" % (module, exc)
print(json.dumps(out))
"""


def log(*parts) -> None:
    """Progress goes to stderr; stdout carries only the JSON result."""
    print(time.strftime("%H:%M:%S"), *parts, file=sys.stderr, flush=True)


def kill_all(processes) -> None:
    """SIGKILL each of ``processes`` (psutil) that is still the process it was, and wait for them."""
    for proc in processes:
        try:
            proc.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(processes, timeout=15)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(ordered, q):
    """Nearest-rank percentile of an already sorted list (q in 0..100)."""
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def latency_summary(seconds):
    """n, mean, p50, p95, p99 and max of a list of durations, in milliseconds."""
    if not seconds:
        return {"n": 0}
    ordered = sorted(seconds)
    ms = lambda s: round(s * 1000, 2)  # noqa: E731
    return {
        "n": len(ordered),
        "mean_ms": ms(statistics.fmean(ordered)),
        "p50_ms": ms(percentile(ordered, 50)),
        "p95_ms": ms(percentile(ordered, 95)),
        "p99_ms": ms(percentile(ordered, 99)),
        "max_ms": ms(ordered[-1]),
    }


def server_arguments(variant):
    """The jupyter server arguments that select ``variant``: terminals on, every metrics
    extension explicitly on or off, whatever the config files say."""
    wanted = METRICS_EXTENSIONS.get(variant, (None,))[0]
    enabled = {"jupyter_server_terminals": True}
    for module, _ in METRICS_EXTENSIONS.values():
        enabled[module] = module == wanted
    return [f"--ServerApp.jpserver_extensions={enabled!r}", *VARIANT_ARGS[variant]]


def server_env(root, user_config=False, pythonpath=None):
    """The server's environment: runtime files under ``root``; unless ``user_config``,
    ``JUPYTER_NO_CONFIG`` so that no config file enables extensions behind the benchmark's back
    (the command line selects them); ``pythonpath`` put in front of ``PYTHONPATH``."""
    env = dict(os.environ)
    env["JUPYTER_RUNTIME_DIR"] = os.path.join(root, "runtime")
    if not user_config:
        env["JUPYTER_NO_CONFIG"] = "1"
    if pythonpath:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, env.get("PYTHONPATH")]))
    return env


def probe_interpreter(python, variant, cwd, env):
    """Versions seen by ``python``, and an ``import_error`` if the variant cannot run there."""
    module, dist = METRICS_EXTENSIONS.get(variant, ("", ""))
    try:
        done = subprocess.run(
            [python, "-c", PROBE, module, dist], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
        )
        return json.loads(done.stdout.strip().splitlines()[-1])
    except Exception as exc:  # missing interpreter, crash, garbage output
        return {"python": python, "import_error": f"probe failed: {exc!r}"}


class Server:
    """A ``python -m jupyter_server`` child in its own session, with a token and a free port.

    It runs from ``root``, so ``-m`` does not put the caller's directory (a source checkout, say)
    on its path, with the environment from :func:`server_env`.
    """

    def __init__(self, python, args, root, env):
        self.port = free_port()
        self.token = uuid.uuid4().hex
        self.root = root
        self.cmd = [
            python,
            "-m",
            "jupyter_server",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={root}",
            *args,
        ]
        self.log = open(os.path.join(root, "server.log"), "wb")
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        with open(os.path.join(root, "server.pid"), "w") as f:
            f.write(str(self.proc.pid))
        self.process = psutil.Process(self.proc.pid)
        self.http = AsyncHTTPClient()

    def url(self, path, scheme="http"):
        sep = "&" if "?" in path else "?"
        return f"{scheme}://127.0.0.1:{self.port}{path}{sep}token={self.token}"

    async def wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"jupyter server exited with {self.proc.returncode}; see {self.root}/server.log"
                )
            try:
                await self.http.fetch(self.url("/api/status"), request_timeout=5)
                return
            except (OSError, HTTPClientError):
                await asyncio.sleep(0.3)
        raise TimeoutError(f"jupyter server not answering after {timeout} s")

    async def start_kernel(self, name="python3"):
        """Start a kernel through the REST API; return its id."""
        resp = await self.http.fetch(
            HTTPRequest(
                self.url("/api/kernels"), method="POST", body=json.dumps({"name": name}), request_timeout=60
            )
        )
        return json.loads(resp.body)["id"]

    async def terminal(self):
        """Create a terminal; return its WebSocket."""
        resp = await self.http.fetch(
            HTTPRequest(self.url("/api/terminals"), method="POST", body="{}", request_timeout=60)
        )
        name = json.loads(resp.body)["name"]
        return await websocket_connect(self.url(f"/terminals/websocket/{name}", "ws"), connect_timeout=60)

    def stop(self):
        """SIGTERM the server, SIGKILL it after 10 s, then kill whatever of its tree survived.

        psutil's ``kill`` checks the process's start time first, so a reused PID is left alone.
        """
        try:
            tree = self.process.children(recursive=True)
        except psutil.Error:
            tree = []
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait()
        kill_all(tree)
        self.log.close()


async def read_until(ws, pattern, timeout):
    """Read terminal output until ``pattern`` (a regex) matches; return the match."""
    text = ""
    deadline = time.monotonic() + timeout
    while True:
        found = re.search(pattern, text)
        if found:
            return found
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no {pattern!r} after {timeout} s; output ends {text[-300:]!r}")
        msg = await asyncio.wait_for(ws.read_message(), left)
        if msg is None:
            raise RuntimeError(f"terminal closed; output ends {text[-300:]!r}")
        kind, *rest = json.loads(msg)
        if kind == "stdout":
            text += rest[0]


async def drain(ws, quiet=0.5):
    """Discard terminal output until none arrives for ``quiet`` seconds."""
    while True:
        try:
            if await asyncio.wait_for(ws.read_message(), quiet) is None:
                return
        except asyncio.TimeoutError:
            return


class Typist:
    """Types letters into a terminal at a fixed rate (open loop) and times each echo."""

    LETTERS = "abcdefghijklmnopqrstuvwxyz"

    def __init__(self, ws):
        self.ws = ws
        self.pending = collections.deque()  # (letter, sent at), oldest first
        self.latencies = []
        self.sent = 0
        self.reader = asyncio.create_task(self._read())

    async def _read(self):
        while True:
            msg = await self.ws.read_message()
            if msg is None:
                return
            kind, *rest = json.loads(msg)
            if kind != "stdout":
                continue
            now = time.perf_counter()
            for ch in rest[0]:
                if self.pending and ch == self.pending[0][0]:
                    self.latencies.append(now - self.pending.popleft()[1])

    async def type(self, duration, rate):
        start = time.perf_counter()
        while time.perf_counter() - start < duration:
            letter = self.LETTERS[self.sent % len(self.LETTERS)]
            self.pending.append((letter, time.perf_counter()))
            await self.ws.write_message(json.dumps(["stdin", letter]))
            self.sent += 1
            await asyncio.sleep(max(0.0, start + self.sent / rate - time.perf_counter()))

    def stop(self):
        self.reader.cancel()


class Poller:
    """One client polling the metrics endpoint: a request, then the rest of the interval idle."""

    def __init__(self, server, interval, timeout, expect_404, path=METRICS_PATH):
        self.server, self.interval, self.timeout = server, interval, timeout
        self.expect_404, self.path = expect_404, path
        self.latencies, self.errors, self.statuses = [], [], collections.Counter()
        self.last_payload, self.last_at, self.payloads = None, None, 0
        self.cpu_values = []
        self.in_flight_since = None
        self.stopping = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _run(self):
        while not self.stopping.is_set():
            start = time.perf_counter()
            self.in_flight_since = start
            try:
                resp = await self.server.http.fetch(
                    self.server.url(self.path), raise_error=False, request_timeout=self.timeout
                )
            except (OSError, HTTPClientError) as exc:  # timeout (599), refused, reset
                resp = HTTPResponse(HTTPRequest(self.path), getattr(exc, "code", 599), error=exc)
            self.in_flight_since = None
            self.statuses[resp.code] += 1
            if resp.code == 200:
                self.latencies.append(time.perf_counter() - start)
                if self.path == METRICS_PATH:
                    self._keep(resp.body)
            elif resp.code == 404 and self.expect_404:
                self.latencies.append(time.perf_counter() - start)
            else:
                self.errors.append(f"{resp.code} {resp.error!r}"[:200])
            try:
                await asyncio.wait_for(self.stopping.wait(), self.interval - (time.perf_counter() - start))
            except asyncio.TimeoutError:
                pass

    def _keep(self, body):
        try:
            payload = json.loads(body)
        except ValueError as exc:
            self.errors.append(f"bad JSON: {exc}"[:200])
            return
        self.last_payload, self.last_at = payload, time.perf_counter()
        self.payloads += 1
        if isinstance(payload.get("cpu_percent"), (int, float)):
            self.cpu_values.append(payload["cpu_percent"])


def tree(server_process):
    """The server and all its descendants (psutil.Process objects)."""
    try:
        return [server_process] + server_process.children(recursive=True)
    except psutil.Error:
        return [server_process]


def cpu_snapshot(server_process):
    """CPU seconds by process, keyed by (pid, start time) against PID reuse.

    A process's own time, plus the time of children it has reaped (``children_*``): a monitor that
    runs short-lived helpers pays for them there.
    """
    out = {}
    for proc in tree(server_process):
        try:
            with proc.oneshot():
                t = proc.cpu_times()
                out[(proc.pid, proc.create_time())] = t.user + t.system + t.children_user + t.children_system
        except psutil.Error:
            pass
    return out


def workload_pids(workload_pid):
    try:
        root = psutil.Process(workload_pid)
        return {root.pid} | {p.pid for p in root.children(recursive=True)}
    except psutil.Error:
        return set()


def ground_truth(server_process):
    """What an exact monitor would report now: PSS and RSS summed over the server's tree (read
    with psutil ``memory_full_info``, i.e. smaps_rollup: the expensive exact figure) and the CPU
    the tree burns over the next second."""
    procs = tree(server_process)
    pss = rss = 0
    start = time.perf_counter()
    for proc in procs:
        try:
            info = proc.memory_full_info()
            pss += info.pss
            rss += info.rss
        except psutil.Error:
            pass
    read_s = time.perf_counter() - start
    for proc in procs:
        try:
            proc.cpu_percent(None)
        except psutil.Error:
            pass
    time.sleep(1.0)
    cpu = 0.0
    for proc in procs:
        try:
            cpu += proc.cpu_percent(None)
        except psutil.Error:
            pass
    return {
        "pss_bytes": pss,
        "rss_sum_bytes": rss,
        "cpu_percent_1s": round(cpu, 1),
        "processes": len(procs),
        "pss_read_s": round(read_s, 3),
    }


async def measure(args, server, result, live):
    """Set the scene, run the timed window and fill ``result``; ``live`` holds the typist and
    the pollers while they run, so that a run cut short can still say what it saw."""
    await server.wait_ready(args.start_timeout)
    log("server up on port", server.port)
    load = await server.terminal()
    command = [
        sys.executable,
        WORKLOAD,
        "--procs",
        str(args.procs),
        "--mem-gb",
        str(args.mem_gb),
        "--busy",
        str(args.busy),
        "--lifetime",
        str(args.max_run + 600),
    ]
    await load.write_message(json.dumps(["stdin", "exec " + shlex.join(command) + "\r"]))
    ready = await read_until(load, r"READY pid=(\d+) children=(\d+)", args.setup_timeout)
    workload_pid = int(ready.group(1))
    log("workload ready:", ready.group(0))

    probe = await server.terminal()
    # -icanon: cat gets each letter at once and the line buffer never fills; the echo itself
    # comes from the pty's line discipline (ECHO), through the server, back over the socket.
    await probe.write_message(json.dumps(["stdin", "stty -icanon; exec cat > /dev/null\r"]))
    await asyncio.sleep(1.5)
    await drain(probe)

    result["kernels"] = [await server.start_kernel() for _ in range(args.kernels)]
    if args.kernels:
        await asyncio.sleep(3)  # let them start up before the window
    result["descendants"] = len(tree(server.process)) - 1
    typist = Typist(probe)
    cpu0 = cpu_snapshot(server.process)
    expect_404 = args.variant == "none"
    pollers = [
        Poller(server, args.poll_interval, args.request_timeout, expect_404)
        for _ in range(args.pollers if args.poll_interval > 0 else 0)
    ]
    # A Prometheus server scraping the server's own /metrics (it exists in every variant).
    scrapers = [
        Poller(server, args.scrape_interval, args.request_timeout, False, SCRAPE_PATH)
        for _ in range(1 if args.scrape_interval > 0 else 0)
    ]
    live.update(typist=typist, pollers=pollers + scrapers)
    result["load_1min_before"] = round(os.getloadavg()[0], 2)
    log(f"typing for {args.duration} s at {args.rate}/s with {len(pollers)} pollers")
    started = time.perf_counter()
    await typist.type(args.duration, args.rate)
    window_end = time.perf_counter()
    elapsed = window_end - started
    cpu1 = cpu_snapshot(server.process)
    for poller in pollers + scrapers:
        poller.stopping.set()

    # Late echoes and in-flight metrics requests may still arrive; wait for them, within limits.
    deadline = time.perf_counter() + args.drain
    while time.perf_counter() < deadline and (typist.pending or any(not p.task.done() for p in pollers)):
        await asyncio.sleep(0.05)
    unfinished = [
        time.perf_counter() - p.in_flight_since
        for p in pollers
        if not p.task.done() and p.in_flight_since is not None
    ]
    for poller in pollers + scrapers:
        poller.task.cancel()
    typist.stop()

    skip = workload_pids(workload_pid)
    own = lambda key: key[0] in skip  # noqa: E731
    delta = {key: cpu1[key] - cpu0.get(key, 0.0) for key in cpu1}
    server_key = next((key for key in cpu1 if key[0] == server.process.pid), None)
    result.update(
        {
            "window_s": round(elapsed, 2),
            "echo": latency_summary(typist.latencies),
            "keys_sent": typist.sent,
            "keys_lost": len(typist.pending),
            "metrics": latency_summary([x for p in pollers for x in p.latencies]),
            "metrics_status": dict(sum((p.statuses for p in pollers), collections.Counter())),
            "metrics_errors": sum(len(p.errors) for p in pollers),
            "metrics_unfinished": len(unfinished),
            "metrics_unfinished_max_age_s": round(max(unfinished), 1) if unfinished else None,
            "metrics_error_sample": [e for p in pollers for e in p.errors][:3],
            "scrape": latency_summary([x for p in scrapers for x in p.latencies]),
            "scrape_errors": sum(len(p.errors) for p in scrapers),
            "server_cpu_pct": round(100 * delta.get(server_key, 0.0) / elapsed, 1),
            "monitor_cpu_pct": round(100 * sum(v for k, v in delta.items() if not own(k)) / elapsed, 1),
            "workload_cpu_pct": round(100 * sum(v for k, v in delta.items() if own(k)) / elapsed, 1),
            "tree_cpu_pct": round(100 * sum(delta.values()) / elapsed, 1),
            "load_1min_after": round(os.getloadavg()[0], 2),
        }
    )

    log("reading ground truth")
    result["truth"] = await asyncio.to_thread(ground_truth, server.process)
    with_payload = [p for p in pollers if p.last_payload is not None]
    if with_payload:
        latest = max(with_payload, key=lambda p: p.last_at)
        payload = latest.last_payload
        field = "pss" if isinstance(payload.get("pss"), (int, float)) else "rss"
        cpu_values = [x for p in pollers for x in p.cpu_values]
        result["reported"] = {
            "memory_field": field,
            "memory_bytes": payload.get(field),
            "cpu_percent": payload.get("cpu_percent"),
            "cpu_percent_mean": round(statistics.fmean(cpu_values), 1) if cpu_values else None,
            "payloads": sum(p.payloads for p in pollers),
            # > 0: received that long before typing stopped; < 0: during the drain
            "age_at_window_end_s": round(window_end - latest.last_at, 1),
        }
        result["last_payload"] = payload
    else:
        result["reported"] = None
    result["stalled"] = bool(
        result["keys_lost"] or unfinished or any(e.startswith("599") for p in pollers for e in p.errors)
    )


async def run(args, extra):
    """One run, bounded by ``--max-run``; always returns a result and stops the server."""
    root = args.workdir or tempfile.mkdtemp(prefix=f"jrm-bench-{args.variant}-")
    os.makedirs(root, exist_ok=True)
    python = args.python or sys.executable
    result = {
        "variant": args.variant,
        "status": "failed",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "procs": args.procs,
        "mem_gb": args.mem_gb,
        "busy": args.busy,
        "pollers": args.pollers,
        "poll_interval_s": args.poll_interval,
        "duration_s": args.duration,
        "rate_per_s": args.rate,
        "request_timeout_s": args.request_timeout,
        "workdir": root,
    }
    env = server_env(root, args.user_config, args.pythonpath)
    result["interpreter"] = probe_interpreter(python, args.variant, root, env)
    if "import_error" in result["interpreter"]:
        result["status"] = "not installed"
        log("not installed:", result["interpreter"]["import_error"])
        return result

    AsyncHTTPClient.configure(None, max_clients=max(16, 4 * args.pollers))
    server_args = server_arguments(args.variant) + extra
    result["server_args"] = server_args
    server = Server(python, server_args, root, env)
    live = {}
    try:
        await asyncio.wait_for(measure(args, server, result, live), args.max_run)
        result["status"] = "ok"
    except asyncio.TimeoutError:
        result["status"] = "capped"
        result["error"] = f"run exceeded --max-run {args.max_run} s"
        if "typist" in live and "echo" not in result:  # what was seen before the cut
            typist, pollers = live["typist"], live["pollers"]
            result["partial"] = {
                "echo": latency_summary(typist.latencies),
                "keys_sent": typist.sent,
                "keys_pending": len(typist.pending),
                "metrics": latency_summary([x for p in pollers for x in p.latencies]),
                "metrics_errors": sum(len(p.errors) for p in pollers),
            }
    except asyncio.CancelledError:
        result["status"] = "interrupted"
    except Exception as exc:
        result["error"] = repr(exc)[:500]
    finally:
        if "typist" in live:
            live["typist"].stop()
            for poller in live["pollers"]:
                poller.task.cancel()
        log("stopping server")
        await asyncio.to_thread(server.stop)
    return result


def add_run_options(ap):
    """The options that shape a run (shared with compare.py)."""
    ap.add_argument("--procs", type=int, default=96, help="sleeping children of the workload")
    ap.add_argument("--mem-gb", type=float, default=2.0, help="GiB the workload holds")
    ap.add_argument("--busy", type=int, default=1, help="spinning children (CPU check)")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of typing")
    ap.add_argument("--rate", type=float, default=30.0, help="keystrokes per second")
    ap.add_argument("--pollers", type=int, default=4, help="clients polling the endpoint")
    ap.add_argument(
        "--poll-interval",
        type=float,
        default=1.0,
        help="seconds between one client's polls; 0 disables polling",
    )
    ap.add_argument(
        "--kernels",
        type=int,
        default=0,
        help="python3 kernels to start (through the REST API) before the window",
    )
    ap.add_argument(
        "--scrape-interval",
        type=float,
        default=0.0,
        help="seconds between scrapes of the server's /metrics (0: none)",
    )
    ap.add_argument(
        "--request-timeout",
        type=float,
        default=60.0,
        help="seconds before a metrics request counts as failed",
    )
    ap.add_argument(
        "--drain", type=float, default=60.0, help="seconds to wait after typing for late echoes and requests"
    )
    ap.add_argument(
        "--max-run", type=float, default=600.0, help="seconds the whole run may take before it is cut short"
    )
    ap.add_argument("--start-timeout", type=float, default=60.0, help="seconds the server may take to answer")
    ap.add_argument(
        "--setup-timeout", type=float, default=300.0, help="seconds the workload may take to print READY"
    )
    ap.add_argument(
        "--user-config",
        action="store_true",
        help="let the server read Jupyter config files (default: ignore them)",
    )


def parse(argv):
    extra = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--variant",
        choices=sorted(VARIANT_ARGS),
        required=True,
        help="none: no metrics extension; jru: jupyter-resource-usage; ours: jupyter_resource_monitor",
    )
    ap.add_argument("--python", help="interpreter that runs the server (default: this one)")
    ap.add_argument(
        "--pythonpath",
        help="put this in front of the server's PYTHONPATH, e.g. a "
        "source checkout to benchmark without installing it",
    )
    add_run_options(ap)
    ap.add_argument("--workdir", help="server root and log folder (default: a new temp folder)")
    ap.add_argument("--json", help="also write the result, indented, to this file")
    return ap.parse_args(argv), extra


async def main_async(args, extra):
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, task.cancel)
    inner = asyncio.create_task(run(args, extra))
    try:
        return await asyncio.shield(inner)
    except asyncio.CancelledError:
        inner.cancel()  # run() turns this into status "interrupted" after stopping the server
        return await inner


def main():
    args, extra = parse(sys.argv[1:])
    result = asyncio.run(main_async(args, extra))
    line = json.dumps(result, default=str)
    print(line, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1, default=str)
    return 0 if result["status"] in ("ok", "not installed") else 1


if __name__ == "__main__":
    sys.exit(main())
