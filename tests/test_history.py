"""The server's bounded history: buckets, bounds, and the route a new tab reads."""

from __future__ import annotations

import json

from jupyter_resource_monitor.tracking.history import History

from .test_kernels import kernel_until, start_kernel  # noqa: F401 (a fixture)


def test_samples_in_one_bucket_keep_the_peak_memory_and_the_latest_cpu():
    history = History(span_s=60, step_s=5)
    history.add(100.0, 10, 20, 5.0, {"k": (7, 1.0)})
    history.add(101.0, 30, 15, 9.0, {"k": (3, 2.0)})
    history.add(105.0, 1, 2, 0.5, {"k": (1, None)})
    assert history.as_dict()["totals"]["points"] == [[101000, 30, 20, 9.0], [105000, 1, 2, 0.5]]
    assert history.kernel_points("k") == [[101000, 7, 2.0], [105000, 1, None]]


def test_span_bounds_every_series_and_gone_kernels_are_dropped():
    history = History(span_s=60, step_s=5)  # 12 points at most
    for i in range(100):
        history.add(5.0 * i, i, i, None, {"a": (i, None), "b": (i, None)} if i < 50 else {"a": (i, None)})
    body = json.loads(history.body())
    assert len(body["totals"]["points"]) == 12 and body["totals"]["points"][-1][1] == 99
    assert set(body["kernels"]["points"]) == {"a"} and len(body["kernels"]["points"]["a"]) == 12
    assert history.kernel_points("a", since_ms=round(1000 * 5.0 * 98)) == [
        [490000, 98, None],
        [495000, 99, None],
    ]


def test_a_kernel_missing_from_one_sample_keeps_its_curve():
    history = History(span_s=60, step_s=5)
    history.add(0.0, 1, 1, None, {"a": (5, None)})
    history.add(5.0, 1, 1, None, {}, known={"a"})  # restarting: not sampled, still running
    history.add(10.0, 1, 1, None, {"a": (6, None)})
    assert history.kernel_points("a") == [[0, 5, None], [10000, 6, None]]
    history.add(15.0, 1, 1, None, {}, known=set())  # shut down
    assert history.kernel_points("a") == []


def test_body_is_encoded_once_per_change():
    history = History()
    history.add(1.0, 1, 1, None, {})
    first = history.body()
    assert history.body() is first
    history.add(2.0, 2, 2, None, {})
    assert history.body() is not first


async def test_history_route_has_the_totals_and_a_running_kernel(jp_fetch, start_kernel):
    kernel_id = await start_kernel()
    await kernel_until(jp_fetch, kernel_id, lambda b: b["available"])
    body = json.loads((await jp_fetch("api", "metrics", "v1", "history")).body)
    assert body["step_ms"] == 5000 and body["span_ms"] == 3600000
    assert body["totals"]["fields"] == ["t_ms", "pss", "used", "cpu_percent"]
    t_ms, pss, used, _cpu = body["totals"]["points"][-1]
    figure = json.loads((await jp_fetch("api", "metrics", "v1")).body)["memory"]["figure"]
    assert pss > 0 and (used == pss if figure == "pss" else used > 0)
    assert body["kernels"]["points"][kernel_id][-1][1] > 0
