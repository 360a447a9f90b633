"""CPU waiting per kernel, from real kernels whose children compete for one CPU, against the
threads' own /proc/<pid>/task/*/schedstat read here over the same seconds."""

from __future__ import annotations

import os
import signal
import time

import pytest

from jupyter_resource_monitor.worker import schedstat

from . import cgroups, servers
from .test_oom import send_code

# One CPU for every spinner; the test moves them into a favoured cpu cgroup, so the machine's other
# work barely touches that CPU: two spinners on it wait half the time each.
CPU = max(os.sched_getaffinity(0))
SPIN = f"import os\nos.sched_setaffinity(0, {{{CPU}}})\nwhile True:\n    pass\n"
# Two threads spinning in C with the GIL released (hashlib on a large buffer), pinned likewise.
SPIN_THREADS = (
    f"import hashlib, os, threading\nos.sched_setaffinity(0, {{{CPU}}})\n"
    "data = bytes(32 << 20)\n"
    "def spin():\n    while True:\n        hashlib.sha256(data).digest()\n"
    "threads = [threading.Thread(target=spin) for _ in range(2)]\n"
    "[t.start() for t in threads]\n[t.join() for t in threads]\n"
)


def start_child(code: str) -> str:
    """Kernel code that starts ``code`` in a child process."""
    return f"import subprocess, sys\nchild = subprocess.Popen([sys.executable, '-c', {code!r}])\n"


def children(pid: int) -> list[int]:
    found = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/children") as f:
            found += [int(c) for c in f.read().split()]
    return found


def thread_times(pid: int) -> tuple[float, float]:
    """Seconds on CPU and waiting, summed over the threads of ``pid`` (the truth, read here)."""
    run = wait = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            fields = f.read().split()
        run, wait = run + int(fields[0]), wait + int(fields[1])
    return run / 1e9, wait / 1e9


def main_thread_wait(pid: int) -> float:
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[1]) / 1e9


def rows_over(server, seconds: float) -> dict[str, list[dict]]:
    """Kernel rows of every distinct sample over ``seconds``, by kernel id."""
    rows: dict[str, list[dict]] = {}
    taken = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        body = server.get("api/metrics/v1/kernels")
        stamp = server.get("api/metrics/v1")["sample"]["taken_at"]
        if stamp not in taken:
            taken.add(stamp)
            for kernel in body["kernels"]:
                rows.setdefault(kernel["id"], []).append(kernel)
        time.sleep(0.1)
    return rows


def mean(values):
    values = [v for v in values if v is not None]
    assert values, "no figures"
    return sum(values) / len(values)


@pytest.fixture
def favoured():
    """A cpu cgroup that outweighs the rest of the machine, for the spinners."""
    cgroups.skip_unless_possible(cgroups.cpu_unavailable(), "no cpu cgroup to shield the spinners")
    cgroup = cgroups.CpuCgroup(None, favoured=True)
    yield cgroup
    cgroup.remove()


@pytest.fixture
def server(tmp_path):
    folder = tmp_path / "work"
    folder.mkdir()
    server = servers.ServerProcess(folder, "--ResourceMonitor.sample_interval=0.5")
    server.wait_until("api/metrics/v1", lambda b: b["sample"]["ready"])
    yield server
    server.stop()


def kill_children(pid: int) -> None:
    for child in children(pid):
        os.kill(child, signal.SIGKILL)


async def test_two_spinners_on_one_cpu_each_wait_half_and_an_idle_kernel_does_not(server, favoured):
    ids = [server.start_notebook(f"{name}.ipynb") for name in ("a", "b", "idle")]
    rows = server.wait_until(
        "api/metrics/v1/kernels",
        lambda b: (
            len(b["kernels"]) == 3
            and all(k["available"] and k["cpu_wait_percent"] is not None for k in b["kernels"])
        ),
        timeout=60,
    )
    pids = {k["id"]: k["pid"] for k in rows["kernels"]}
    try:
        for kernel_id in ids[:2]:
            await send_code(server, kernel_id, start_child(SPIN))
        spinners = {}
        for kernel_id in ids[:2]:
            deadline = time.monotonic() + 30
            while not children(pids[kernel_id]):
                assert time.monotonic() < deadline, "the spinner did not start"
                time.sleep(0.1)
            (spinners[kernel_id],) = children(pids[kernel_id])
            favoured.add(spinners[kernel_id])
        time.sleep(2)  # both spinning (and the samples that saw them start are past)
        truth_before = {k: thread_times(p) for k, p in spinners.items()}
        t0 = time.monotonic()
        seen = rows_over(server, 5)
        elapsed = time.monotonic() - t0
        truth = {k: 100 * (thread_times(p)[1] - truth_before[k][1]) / elapsed for k, p in spinners.items()}
        figures = {k: mean(r["cpu_wait_percent"] for r in seen[k]) for k in ids}
        print(f"waiting per kernel {figures}, truth {truth}")
        for kernel_id in ids[:2]:
            assert figures[kernel_id] == pytest.approx(50, abs=15)
            assert figures[kernel_id] == pytest.approx(truth[kernel_id], abs=10)
        assert figures[ids[2]] < 5
        # The server's tree holds both kernels' waiting.
        total = server.get("api/metrics/v1")["cpu_wait_percent"]
        assert total is not None and total >= 0.7 * sum(figures[k] for k in ids[:2])
    finally:
        for kernel_id in ids[:2]:
            kill_children(pids[kernel_id])


async def test_a_kernel_whose_two_threads_spin_counts_both(server, favoured):
    kernel_id = server.start_notebook("threads.ipynb")
    row = server.wait_until(f"api/metrics/v1/kernels/{kernel_id}", lambda k: k["available"], timeout=60)
    try:
        await send_code(server, kernel_id, start_child(SPIN_THREADS))
        deadline = time.monotonic() + 30
        while not children(row["pid"]) or len(os.listdir(f"/proc/{children(row['pid'])[0]}/task")) < 3:
            assert time.monotonic() < deadline, "the threads did not start"
            time.sleep(0.1)
        (child,) = children(row["pid"])
        favoured.add(child)
        time.sleep(2)
        run_before, wait_before = thread_times(child)
        main_before = main_thread_wait(child)
        t0 = time.monotonic()
        seen = rows_over(server, 5)[kernel_id]
        elapsed = time.monotonic() - t0
        run_after, wait_after = thread_times(child)
        truth_wait = 100 * (wait_after - wait_before) / elapsed
        truth_cpu = 100 * (run_after - run_before) / elapsed
        main_only = 100 * (main_thread_wait(child) - main_before) / elapsed
        wait, cpu = mean(r["cpu_wait_percent"] for r in seen), mean(r["cpu_percent"] for r in seen)
        print(
            f"kernel waiting {wait:.1f} % (truth {truth_wait:.1f}, main thread alone {main_only:.1f}), "
            f"CPU {cpu:.1f} % (truth {truth_cpu:.1f})"
        )
        # Two threads on one CPU: each waits about half the time, so about one CPU's worth in all.
        assert truth_wait > 70 and main_only < 5  # what a main-thread-only reading would miss
        assert wait == pytest.approx(truth_wait, abs=15)
        assert cpu == pytest.approx(truth_cpu, abs=15)
        # The worker's reader sums the threads the same way.
        assert sum(schedstat.read_thread_waits(child, 3).values()) / 1e9 >= wait_after
    finally:
        kill_children(row["pid"])
