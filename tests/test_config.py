"""Configuration: c.ResourceMonitor, jupyter-resource-usage's c.ResourceUseDisplay, bad values."""

import logging

import pytest
from traitlets.config import Config
from traitlets.config.loader import DeferredConfigString

from jupyter_resource_monitor.config import ResourceMonitor, load_config


def load(caplog, **sections):
    caplog.set_level(logging.WARNING)
    return load_config(Config(sections), logging.getLogger("test"))


def test_defaults(caplog):
    monitor = load(caplog)
    assert (monitor.sample_interval, monitor.max_processes, monitor.pss_budget) == (1.0, 2000, 0.02)
    assert monitor.track_cpu_percent and not monitor.track_disk_usage
    assert caplog.records == []


@pytest.mark.parametrize(
    "name, value",
    [
        ("sample_interval", -1),
        ("sample_interval", 0.0),
        ("max_processes", 0),
        ("max_processes", "lots"),
        ("pss_budget", 2.0),
        ("idle_timeout", -5),
        ("mem_limit", -1),
        ("mem_warning_threshold", 1.5),
        ("memory_guard", "sometimes"),
        ("memory_guard_reserve", 1.5),
        ("memory_guard_reserve_min", -1),
        ("memory_guard_interrupt_at", -0.1),
        ("cpu_limit", "two"),
        ("track_cpu_percent", "perhaps"),
        ("loop_block_threshold", 0.1),
        ("loop_block_threshold", 1000),
    ],
)
def test_bad_value_is_logged_once_and_the_default_kept(caplog, name, value):
    monitor = load(caplog, ResourceMonitor={name: value})
    assert getattr(monitor, name) == ResourceMonitor.class_traits()[name].default()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert f"c.ResourceMonitor.{name}" in errors[0].getMessage()


def test_unknown_option_is_named(caplog):
    load(caplog, ResourceMonitor={"sample_intervall": 3})
    assert "c.ResourceMonitor.sample_intervall" in caplog.text


def test_command_line_text_is_parsed(caplog):
    monitor = load(
        caplog,
        ResourceMonitor={
            "mem_limit": DeferredConfigString("52428800"),
            "sample_interval": DeferredConfigString("0.5"),
        },
    )
    assert (monitor.mem_limit, monitor.sample_interval) == (52428800, 0.5)


def test_resource_use_display_options_are_honoured(caplog):
    monitor = load(
        caplog,
        ResourceUseDisplay={
            "mem_limit": 10**9,
            "track_disk_usage": True,
            "disk_path": "/tmp",
            "cpu_warning_threshold": 0.3,
            "process_memory_metrics": [],
        },
    )
    assert (monitor.mem_limit, monitor.track_disk_usage, monitor.disk_path) == (10**9, True, "/tmp")
    assert monitor.cpu_warning_threshold == 0.3


def test_resource_monitor_wins_over_resource_use_display(caplog):
    monitor = load(caplog, ResourceUseDisplay={"mem_limit": 10**9}, ResourceMonitor={"mem_limit": 5 * 10**8})
    assert monitor.mem_limit == 5 * 10**8


def test_callable_limits_are_accepted(caplog):
    monitor = load(caplog, ResourceUseDisplay={"mem_limit": lambda rss, pss: 2 * rss})
    assert monitor.mem_limit(rss=1, pss=1) == 2
