"""Our events on jupyter_server's event bus, through the real server's event logger and its
``/api/events/subscribe`` WebSocket. The real OOM kill on the bus is checked in test_oom.py."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from pathlib import Path

import jsonschema
import pytest
from jupyter_events.schema import EventSchema

from jupyter_resource_monitor import bus
from jupyter_resource_monitor.tracking.oom import OomEvent


@pytest.fixture
def event_log(tmp_path):
    return tmp_path / "events.log"


@pytest.fixture
def jp_server_config(monitor_config, event_log):
    # As docs/api.md tells operators: route the bus to a log file with c.EventLogger.handlers.
    return {
        "ServerApp": {"jpserver_extensions": {"jupyter_resource_monitor": True}},
        "ResourceMonitor": {"sample_interval": 0.2, **monitor_config},
        "EventLogger": {"handlers": [logging.FileHandler(event_log)]},
    }


async def next_of(ws, schema_id: str, timeout: float = 10.0) -> dict:
    """The next message of the subscription with ``schema_id`` (the server's own events, such as
    kernel actions, pass by)."""

    async def read():
        while True:
            message = await ws.read_message()
            assert message is not None, "the events WebSocket closed"
            data = json.loads(message)
            if data["schema_id"] == schema_id:
                return data

    return await asyncio.wait_for(read(), timeout)


def oom_event(**changes) -> OomEvent:
    fields = dict(
        id=7,
        time=1_700_000_000.5,
        kernel_id="3f1c",
        kernel_name="python3",
        path="work/analysis.ipynb",
        session_type="notebook",
        kernel_memory=600 << 20,
        server_memory=690 << 20,
        memory_figure="working_set",
        limit=700 << 20,
        limit_source="cgroup",
        counter_source="cgroup",
        exit_signal="SIGKILL",
        sample_time=1_700_000_000.0,
        memory_before=[[1_700_000_000_000 - 500 * i, i << 20] for i in range(1200)],
    )
    fields.update(changes)
    return OomEvent(**fields)


def test_the_schemas_are_jupyter_events_schemas_shipped_beside_the_module():
    for schema_id in bus.SCHEMA_IDS:
        path = bus.schema_path(schema_id)
        assert path.is_file() and path.parent.parent == Path(bus.__file__).parent
        schema = EventSchema(path)  # validates it against jupyter_events' metaschema
        assert schema.id == schema_id and schema.version == "1"
        assert schema_id.startswith(bus.EVENTS_URI + "/") and schema_id.endswith("/v1")
        assert schema.properties and "personal-data" in schema._schema


async def test_the_server_registers_our_schemas(jp_serverapp, monitor):
    registered = set(jp_serverapp.event_logger.schemas.schema_ids)
    assert set(bus.SCHEMA_IDS) <= registered
    assert len(monitor.tracker.oom_listeners) == 1


async def test_an_oom_event_reaches_subscribers_and_the_operators_log(jp_ws_fetch, monitor, event_log):
    ws = await jp_ws_fetch("api", "events", "subscribe")
    try:
        event = oom_event()
        for listener in monitor.tracker.oom_listeners:  # what the tracker does on a new event
            listener(event)
        message = await next_of(ws, bus.OOM_KILL_SCHEMA_ID)
    finally:
        ws.close()
    expected = dataclasses.asdict(event)
    del expected["memory_before"]  # 1,200 points: the REST route has them, the bus does not
    assert message == {"schema_id": bus.OOM_KILL_SCHEMA_ID, **expected}
    assert len(json.dumps(message)) < 1024

    logged = [json.loads(line) for line in event_log.read_text().splitlines()]
    ours = [r for r in logged if r["__schema__"] == bus.OOM_KILL_SCHEMA_ID]
    assert len(ours) == 1 and ours[0]["__schema_version__"] == "1"
    assert {k: v for k, v in ours[0].items() if not k.startswith("__")} == expected


def test_long_strings_are_cut_to_the_schemas_bounds_and_the_record_still_validates():
    record = bus.oom_kill_record(
        oom_event(path="deep/" * 400 + "x.ipynb", kernel_memory=None, sample_time=None, exit_signal=None)
    )
    assert len(record["path"]) == 1024 and record["path"].endswith("…")
    schema = EventSchema(bus.schema_path(bus.OOM_KILL_SCHEMA_ID))
    schema.validate(record)
    with pytest.raises(jsonschema.ValidationError):  # the schema does check: a wrong figure fails
        schema.validate({**record, "memory_figure": "rss"})


def block(depth: int) -> dict:
    """A block as the loop watch's ``Block.to_json()`` gives it: innermost frame first."""
    stack = [{"function": f"level_{i}", "file": f"/srv/app/mod_{i}.py", "line": 10 + i} for i in range(depth)]
    stack[0] = {"function": "match", "file": "/usr/lib/python3.11/re/__init__.py", "line": None}
    return {"id": 3, "time": 1_700_000_100.25, "duration_ms": 2041.5, "stack": stack, "culprit": stack[1]}


async def test_a_loop_block_reaches_subscribers_validated_and_bounded(jp_serverapp, jp_ws_fetch):
    ws = await jp_ws_fetch("api", "events", "subscribe")
    try:
        emitted = bus.emit_loop_block(jp_serverapp.event_logger, block(depth=50))
        message = await next_of(ws, bus.LOOP_BLOCK_SCHEMA_ID)
    finally:
        ws.close()
    assert emitted is not None  # validated by the logger against the registered schema
    assert message["id"] == 3 and message["duration_ms"] == 2041.5
    assert message["culprit"] == {"function": "level_1", "file": "/srv/app/mod_1.py", "line": 11}
    assert message["stack_depth"] == 50 and len(message["stack"]) == bus.MAX_STACK_FRAMES
    assert message["stack"][0] == {
        "function": "match",
        "file": "/usr/lib/python3.11/re/__init__.py",
        "line": None,
    }
    assert message["stack"][-1]["function"] == f"level_{bus.MAX_STACK_FRAMES - 1}"


async def test_a_block_object_with_to_json_and_no_culprit_is_emitted(jp_serverapp):
    class Block:  # the loop watch's record type: anything with to_json()
        def to_json(self):
            return {**block(depth=2), "culprit": None}

    seen = []

    async def listener(logger, schema_id, data):
        seen.append(data)

    jp_serverapp.event_logger.add_listener(schema_id=bus.LOOP_BLOCK_SCHEMA_ID, listener=listener)
    try:
        assert bus.emit_loop_block(jp_serverapp.event_logger, Block())["culprit"] is None
        await asyncio.sleep(0.1)
    finally:
        jp_serverapp.event_logger.remove_listener(schema_id=bus.LOOP_BLOCK_SCHEMA_ID, listener=listener)
    assert [d["stack_depth"] for d in seen] == [2]


def test_registration_is_idempotent_and_a_refused_schema_leaves_the_bus_out(monkeypatch, tmp_path):
    from jupyter_events import EventLogger

    logger = EventLogger()
    assert bus.register_schemas(logger) and bus.register_schemas(logger)
    assert set(logger.schemas.schema_ids) == set(bus.SCHEMA_IDS)
    # A schema the installed jupyter_events refuses (as one older than 0.6 refuses fields without
    # redactionPolicies): registration says so instead of failing the server's start.
    refused = tmp_path / "refused.yaml"
    refused.write_text(bus.schema_path(bus.OOM_KILL_SCHEMA_ID).read_text().replace("  id:\n", "  __id:\n", 1))
    monkeypatch.setattr(bus, "schema_path", lambda _schema_id: refused)
    assert not bus.register_schemas(EventLogger())
