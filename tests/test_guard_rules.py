"""The memory guard's rules that need no kernel: when it is on, and what counts as a memory error."""

from __future__ import annotations

import logging

import pytest

from jupyter_resource_monitor.config import load_config
from jupyter_resource_monitor.guard.service import guard_options, is_memory_error

MiB = 1 << 20


def config(**values):
    return load_config({"ResourceMonitor": values}, logging.getLogger("test"))


@pytest.mark.parametrize(
    "setting, cgroup_limit, env, expected",
    [
        (None, 1 << 30, None, "limit"),  # a cgroup limit: on
        (None, None, None, None),  # no limit: off
        (None, None, str(2 << 30), None),  # MEM_LIMIT alone (nothing enforces it): off
        (True, None, str(2 << 30), "limit"),  # switched on: against MEM_LIMIT
        (False, 1 << 30, None, None),  # switched off
        (True, None, None, "host"),  # switched on without a limit: the host's memory
    ],
)
def test_the_guard_is_on_where_a_limit_applies_or_when_switched_on(setting, cgroup_limit, env, expected):
    options = guard_options(config(memory_guard=setting), cgroup_limit, env)
    if expected is None:
        assert options is None
    else:
        assert options is not None and options.host is (expected == "host")


def test_a_configured_limit_and_the_thresholds_reach_the_worker():
    options = guard_options(
        config(mem_limit=3 << 30, memory_guard=True, memory_guard_reserve=0.1, memory_guard_interrupt_at=0.9),
        None,
        None,
    )
    assert options.mem_limit == 3 << 30 and not options.host
    assert options.reserve_fraction == 0.1 and options.interrupt_at == 0.9
    assert options.reserve_min == 100 * MiB


@pytest.mark.parametrize(
    "content, expected",
    [
        ({"status": "error", "ename": "MemoryError", "evalue": ""}, True),
        ({"status": "error", "ename": "_ArrayMemoryError", "evalue": "Unable to allocate 2.0 GiB"}, True),
        ({"status": "error", "ename": "<class 'MemoryError'>", "evalue": ""}, True),  # xeus-python
        ({"status": "error", "ename": "OutOfMemoryError", "evalue": ""}, True),  # Julia
        ({"status": "error", "ename": "ERROR", "evalue": "cannot allocate vector of size 2 Gb"}, True),  # R
        ({"status": "error", "ename": "KeyboardInterrupt", "evalue": ""}, False),
        ({"status": "error", "ename": "ValueError", "evalue": "bad"}, False),
        ({"status": "ok", "ename": "MemoryError"}, False),
    ],
)
def test_memory_errors_of_each_kernel_are_recognised(content, expected):
    assert is_memory_error(content) is expected
