"""Run the UI-latency benchmark for several variants in one sitting and print a Markdown table.

Each variant is one ``ui_latency.py`` run in its own process, one after another, with the same
workload and polling settings: ``none`` (no metrics extension), ``jru`` (jupyter-resource-usage
with CPU tracking) and ``ours`` (jupyter_resource_monitor). A variant whose package does not import
in its interpreter is reported as "not installed"; a run that outlives ``--max-run`` plus a margin
is stopped and reported as "hung". Results go to ``--out`` (one JSON file per variant, every
summary line in ``runs.jsonl``, the report in ``report.md``); the report is also printed.

usage:
  python compare.py [--variants none,jru,ours] [--jru-python /tmp/jru-venv/bin/python]
      [--python VARIANT=PATH ...] [--pythonpath VARIANT=DIR ...]
      [--server-args VARIANT="ARGS" ...] [--out DIR]
      [ui_latency.py run options: --procs 96 --mem-gb 2 --busy 1 --pollers 4 ...]
"""

import argparse
import datetime
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import time

import psutil
import ui_latency

HERE = os.path.dirname(os.path.abspath(__file__))
MARGIN_S = 180  # on top of --max-run before a run counts as hung (server start, cleanup)
# Variants that run another variant's server with a switch flipped: (base variant, its arguments).
DERIVED_VARIANTS = {
    "ours-loop-off": ("ours", ["--ResourceMonitor.track_event_loop=False"]),
    # The memory guard on (without a cgroup limit, against the host's memory): its kernels fenced.
    "ours-guard": ("ours", ["--ResourceMonitor.memory_guard=True"]),
}


def machine():
    """CPU model, CPU counts, RAM, kernel and this Python, as one dict."""
    model = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpu_model": model or platform.processor() or "unknown",
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "ram_bytes": psutil.virtual_memory().total,
        "kernel": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
    }


def run_variant(variant, python, pythonpath, server_args, run_options, out_dir):
    """One ``ui_latency.py`` run; its result dict, whatever happens."""
    workdir = tempfile.mkdtemp(prefix=f"jrm-bench-{variant}-")
    base, switches = DERIVED_VARIANTS.get(variant, (variant, []))
    server_args = [*switches, *server_args]
    cmd = [
        sys.executable,
        os.path.join(HERE, "ui_latency.py"),
        "--variant",
        base,
        "--workdir",
        workdir,
        "--json",
        os.path.join(out_dir, f"{variant}.json"),
        *run_options,
    ]
    if python:
        cmd += ["--python", python]
    if pythonpath:
        cmd += ["--pythonpath", pythonpath]
    if server_args:
        cmd += ["--", *server_args]
    ui_latency.log(f"== {variant}: {shlex.join(cmd)}")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    limit = float(run_options[run_options.index("--max-run") + 1]) + MARGIN_S
    try:
        out, _ = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        stop_hung_run(proc, workdir)
        return {
            "variant": variant,
            "status": "hung",
            "workdir": workdir,
            "error": f"ui_latency.py still running after {limit:.0f} s; killed",
        }
    for line in reversed(out.strip().splitlines()):
        try:
            result = json.loads(line)
        except ValueError:
            continue
        result["variant"] = variant
        return result
    return {
        "variant": variant,
        "status": "failed",
        "workdir": workdir,
        "error": f"ui_latency.py exited with {proc.returncode} and no JSON",
    }


def stop_hung_run(proc, workdir):
    """SIGTERM the run (it stops its server), then SIGKILL it and the server's whole tree."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(60)
        return
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    try:
        with open(os.path.join(workdir, "server.pid")) as f:
            server = psutil.Process(int(f.read()))
        victims = [server] + server.children(recursive=True)
    except (OSError, ValueError, psutil.Error):
        return
    ui_latency.kill_all(victims)


def describe_extension(interpreter):
    """Version and location of a variant's package, plus the git commit if it is a checkout."""
    folder = os.path.dirname(os.path.dirname(interpreter["extension_file"]))
    text = f"{interpreter.get('extension_version')} from {folder}"
    try:
        commit = subprocess.run(
            ["git", "-C", folder, "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if commit.returncode == 0 and "site-packages" not in folder:
            text += f" at {commit.stdout.strip()}"
    except (OSError, subprocess.SubprocessError):
        pass
    return text


def fmt_ms(value):
    if value is None:
        return "–"
    return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.1f} ms"


def fmt_gib(value):
    return "–" if value is None else f"{value / (1 << 30):.2f}"


def row(result):
    """One table row: the numbers of a run, or its status in their place."""
    status = result.get("status", "failed")
    if status != "ok" and "echo" not in result:
        reason = result.get("error") or result.get("interpreter", {}).get("import_error", "")
        note = status + (f" ({reason[:80]})" if reason and status != "not installed" else "")
        partial = result.get("partial")
        if partial and partial["echo"].get("n"):
            note += (
                f"; before the cut: echo p50 {fmt_ms(partial['echo']['p50_ms'])}, "
                f"{partial['keys_pending']} of {partial['keys_sent']} keys unechoed"
            )
        return [result["variant"], note] + ["–"] * 9
    echo, metrics = result.get("echo", {}), result.get("metrics", {})
    if result.get("stalled"):
        status = "stalled" if status == "ok" else status
    errors = str(result.get("metrics_errors", 0))
    if result.get("metrics_unfinished"):
        errors += f" + {result['metrics_unfinished']} unfinished"
    truth, reported = result.get("truth") or {}, result.get("reported") or {}
    memory = cpu = "–"
    if reported.get("memory_bytes") is not None and truth.get("pss_bytes"):
        ratio = reported["memory_bytes"] / truth["pss_bytes"]
        memory = (
            f"{fmt_gib(reported['memory_bytes'])} ({reported['memory_field']}) / "
            f"{fmt_gib(truth['pss_bytes'])} GiB = {ratio:.2f}×"
        )
    elif truth.get("pss_bytes"):
        memory = f"– / {fmt_gib(truth['pss_bytes'])} GiB"
    if truth.get("cpu_percent_1s") is not None:
        said, mean = reported.get("cpu_percent"), reported.get("cpu_percent_mean")
        cpu = f"{'–' if said is None else f'{said:.0f}'} / {truth['cpu_percent_1s']:.0f} %"
        if mean is not None and result.get("tree_cpu_pct") is not None:
            cpu += f" (window: {mean:.0f} / {result['tree_cpu_pct']:.0f} %)"
    metrics_n = metrics.get("n", 0)
    # With no extension the endpoint does not exist: this is the latency of a 404.
    tag = " (404)" if set(result.get("metrics_status", {})) == {"404"} else ""
    return [
        result["variant"],
        status,
        fmt_ms(echo.get("p50_ms")),
        fmt_ms(echo.get("p99_ms")),
        f"{result.get('keys_lost', '–')} / {result.get('keys_sent', '–')}",
        fmt_ms(metrics.get("p50_ms")) + tag if metrics_n else "–",
        fmt_ms(metrics.get("p99_ms")) + tag if metrics_n else "–",
        errors,
        f"{result.get('monitor_cpu_pct', '–')} %",
        memory,
        cpu,
    ]


HEADER = [
    "variant",
    "status",
    "echo p50",
    "echo p99",
    "keys lost / sent",
    "metrics p50",
    "metrics p99",
    "metrics errors",
    "monitor CPU",
    "memory reported / truth PSS",
    "CPU reported / truth",
]


def report(results, host, started, settings):
    """The Markdown report: when, where, with what settings, then the table."""
    versions = sorted(
        {
            f"{r['interpreter'].get('python_version')} "
            f"(jupyter_server {r['interpreter'].get('jupyter_server')})"
            for r in results
            if r.get("interpreter")
        }
    )
    extensions = [
        f"{r['variant']}: {describe_extension(r['interpreter'])}"
        for r in results
        if r.get("interpreter", {}).get("extension_file")
    ]
    lines = [
        f"Run {started} (UTC) on {host['cpu_model']}, {host['cpus']} CPUs "
        f"({host['cpus_usable']} usable), {host['ram_bytes'] / (1 << 30):.1f} GiB RAM, "
        f"{host['kernel']}; server Python {', '.join(versions) or host['python']}"
        + (f"; {', '.join(extensions)}" if extensions else "")
        + ".",
        "",
        f"Settings: {settings}.",
        "",
        "Host load (1-minute average) before / after each window: "
        + ", ".join(
            f"{r['variant']} {r['load_1min_before']} / {r.get('load_1min_after', '?')}"
            for r in results
            if "load_1min_before" in r
        )
        + ".",
        "",
        "| " + " | ".join(HEADER) + " |",
        "|" + "|".join("---" for _ in HEADER) + "|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row(r)) + " |" for r in results]
    return "\n".join(lines)


def known_variants():
    return sorted([*ui_latency.VARIANT_ARGS, *DERIVED_VARIANTS])


def keyed(pairs, what):
    """Turn ``VARIANT=VALUE`` options into a dict."""
    out = {}
    for pair in pairs:
        variant, sep, value = pair.partition("=")
        if not sep or variant not in known_variants():
            raise SystemExit(
                f"{what} expects VARIANT=VALUE with VARIANT one of {known_variants()}, got {pair!r}"
            )
        out[variant] = value
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--variants",
        default="none,jru,ours",
        help="comma-separated, run in this order, repeats allowed (default: "
        "none,jru,ours); ours-loop-off is ours with "
        "--ResourceMonitor.track_event_loop=False",
    )
    ap.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="VARIANT=PATH",
        help="interpreter running that variant's server (default: this one)",
    )
    ap.add_argument("--jru-python", metavar="PATH", help="same as --python jru=PATH")
    ap.add_argument(
        "--pythonpath",
        action="append",
        default=[],
        metavar="VARIANT=DIR",
        help="put DIR in front of that variant's PYTHONPATH (e.g. ours=. to run "
        "the checkout without installing it)",
    )
    ap.add_argument(
        "--server-args",
        action="append",
        default=[],
        metavar="VARIANT=ARGS",
        help="extra jupyter server arguments for one variant (shell-quoted string)",
    )
    ap.add_argument(
        "--pause", type=float, default=5.0, help="seconds between runs, for memory to be given back"
    )
    ap.add_argument("--out", help="results folder (default: benchmarks/results/<UTC time>)")
    ui_latency.add_run_options(ap)
    args = ap.parse_args()

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in variants if v not in known_variants()]
    if unknown:
        raise SystemExit(f"unknown variants {unknown}; choose from {known_variants()}")
    pythons = keyed(args.python, "--python")
    if args.jru_python:
        pythons["jru"] = args.jru_python
    pythonpaths = {k: os.path.abspath(v) for k, v in keyed(args.pythonpath, "--pythonpath").items()}
    server_args = {k: shlex.split(v) for k, v in keyed(args.server_args, "--server-args").items()}

    now = datetime.datetime.now(datetime.timezone.utc)
    started = now.strftime("%Y-%m-%d %H:%M")
    out_dir = args.out or os.path.join(HERE, "results", now.strftime("%Y%m%dT%H%M%SZ"))
    os.makedirs(out_dir, exist_ok=True)
    run_options = []
    for action in ap._actions:  # forward every shared run option, defaults included
        dest = action.dest
        if dest in {"help", "variants", "python", "jru_python", "pythonpath", "server_args", "pause", "out"}:
            continue
        value = getattr(args, dest)
        flag = action.option_strings[0]
        if isinstance(value, bool):
            run_options += [flag] if value else []
        else:
            run_options += [flag, str(value)]
    settings = (
        f"workload {args.mem_gb} GiB × ({args.procs} sleeping + {args.busy} busy) "
        f"children; {args.pollers} pollers every {args.poll_interval} s; typing "
        f"{args.rate}/s for {args.duration} s; request timeout {args.request_timeout} s"
    )

    host = machine()
    results = []
    with open(os.path.join(out_dir, "runs.jsonl"), "w") as jsonl:
        for i, variant in enumerate(variants):
            if i:
                time.sleep(args.pause)
            base = DERIVED_VARIANTS.get(variant, (variant,))[0]
            result = run_variant(
                variant,
                pythons.get(variant, pythons.get(base)),
                pythonpaths.get(variant, pythonpaths.get(base)),
                server_args.get(variant, server_args.get(base, [])),
                run_options,
                out_dir,
            )
            results.append(result)
            jsonl.write(json.dumps(result, default=str) + "\n")
            jsonl.flush()
            ui_latency.log(f"== {variant}: {result.get('status')}")
    text = report(results, host, started, settings)
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write(text + "\n")
    with open(os.path.join(out_dir, "machine.json"), "w") as f:
        json.dump(host, f, indent=1)
    print(text)
    ui_latency.log(f"results in {out_dir}")


if __name__ == "__main__":
    main()
