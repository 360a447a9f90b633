"""Our events on jupyter_server's event bus (jupyter_events): OOM kills, blocked-loop episodes and
the memory guard's catches.

The REST routes keep every record for tabs opened later; the bus tells those already open at once
(JupyterLab receives it through ``serviceManager.events``) and lets operators route the records to
their logs (``c.EventLogger.handlers``). Each record is emitted once, on the event loop, when the
tracker records it: a schema validation and a copy, a few hundred microseconds per event.

The schemas are the YAML files beside this module, one folder per event and one file per version,
as jupyter_server keeps its own.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Ours, under the project's home: stable across releases, a new version gets a new file.
EVENTS_URI = "https://github.com/jupyter-resource-monitor/jupyter-resource-monitor/events"
OOM_KILL_SCHEMA_ID = f"{EVENTS_URI}/oom_kill/v1"
LOOP_BLOCK_SCHEMA_ID = f"{EVENTS_URI}/loop_block/v1"
MEMORY_GUARD_SCHEMA_ID = f"{EVENTS_URI}/memory_guard/v1"
SCHEMA_IDS = (OOM_KILL_SCHEMA_ID, LOOP_BLOCK_SCHEMA_ID, MEMORY_GUARD_SCHEMA_ID)

# Bounds the schemas state, applied before validation so a long path cuts instead of failing.
MAX_STACK_FRAMES = 32
_MAX_TEXT = {
    "kernel_id": 256,
    "kernel_name": 256,
    "path": 1024,
    "session_type": 64,
    "limit_source": 64,
    "exit_signal": 16,
    "cell_id": 256,
    "ename": 64,
    "function": 256,
    "file": 1024,
}
# The REST record's fields the event leaves out: a curve of up to 10 minutes of samples.
_OOM_LEFT_OUT = ("memory_before",)

log = logging.getLogger(__name__)


def schema_path(schema_id: str) -> Path:
    """The file of one of our schemas, from its id (``.../oom_kill/v1`` -> ``oom_kill/v1.yaml``)."""
    assert schema_id in SCHEMA_IDS, schema_id
    return Path(__file__).parent / (schema_id[len(EVENTS_URI) + 1 :] + ".yaml")


def register_schemas(event_logger) -> bool:
    """Register our schemas with the server's event logger (``serverapp.event_logger``); False
    when it refuses them (a jupyter_events older than 0.6 wanted ``redactionPolicies`` on every
    field): then nothing is emitted and clients keep the REST routes."""
    try:
        for schema_id in SCHEMA_IDS:
            if schema_id not in event_logger.schemas:  # a second extension app in the same server
                event_logger.register_event_schema(schema_path(schema_id))
    except Exception as exc:  # noqa: BLE001 - the bus is a nicety over the REST routes
        log.warning("Resource monitor: no events on the server's bus (%s): %s", type(exc).__name__, exc)
        return False
    return True


def listen(event_logger, schema_id: str, listener) -> bool:
    """Call ``listener(logger, schema_id, data)`` (a coroutine function) for each event of
    ``schema_id`` on the server's bus; False where the bus cannot (a jupyter_events without
    listeners, or a server that does not register that schema)."""
    try:
        if schema_id not in event_logger.schemas:
            return False
        event_logger.add_listener(schema_id=schema_id, listener=listener)
    except Exception as exc:  # noqa: BLE001 - the worker's own walks still find every kernel
        log.info("Resource monitor: not listening to %s (%s)", schema_id, exc)
        return False
    return True


def oom_kill_record(event: Any) -> dict[str, Any]:
    """The bus record of an OOM event (an ``OomEvent`` or its REST dict): the REST fields without
    the memory curve, long strings cut to the schema's bounds."""
    record = dataclasses.asdict(event) if dataclasses.is_dataclass(event) else dict(event)
    for name in _OOM_LEFT_OUT:
        record.pop(name, None)
    return _bounded(record)


def loop_block_record(block: Any) -> dict[str, Any]:
    """The bus record of a blocked-loop episode (a ``Block`` or its REST dict ``{id, time,
    duration_ms, stack, culprit}``): its innermost :data:`MAX_STACK_FRAMES` frames, with the
    whole stack's depth."""
    raw = block if isinstance(block, Mapping) else block.to_json()
    stack = list(raw.get("stack") or [])
    culprit = raw.get("culprit")
    return {
        "id": raw["id"],
        "time": raw["time"],
        "duration_ms": raw["duration_ms"],
        "culprit": _frame(culprit) if culprit else None,
        "stack": [_frame(f) for f in stack[:MAX_STACK_FRAMES]],
        "stack_depth": len(stack),
    }


def emit_oom_kill(event_logger, event: Any) -> dict[str, Any] | None:
    """Emit one OOM kill on the bus; returns what was emitted (None when nobody listens)."""
    return _emit(event_logger, OOM_KILL_SCHEMA_ID, oom_kill_record(event))


def emit_loop_block(event_logger, block: Any) -> dict[str, Any] | None:
    """Emit one blocked-loop episode on the bus; returns what was emitted (None when nobody
    listens). Fits ``LoopWatch.listeners`` through ``functools.partial(emit_loop_block, logger)``."""
    return _emit(event_logger, LOOP_BLOCK_SCHEMA_ID, loop_block_record(block))


def emit_memory_guard(event_logger, record: Mapping[str, Any]) -> dict[str, Any] | None:
    """Emit one of the memory guard's records (see guard/service.py) on the bus."""
    return _emit(event_logger, MEMORY_GUARD_SCHEMA_ID, _bounded(dict(record)))


def _emit(event_logger, schema_id: str, data: dict[str, Any]) -> dict[str, Any] | None:
    if event_logger is None:
        return None
    try:
        return event_logger.emit(schema_id=schema_id, data=data)
    except Exception:  # noqa: BLE001 - the REST record stands; a bus failure must not lose it
        log.exception("Resource monitor: could not emit %s", schema_id)
        return None


def _frame(frame: Any) -> dict[str, Any]:
    raw = frame if isinstance(frame, Mapping) else dataclasses.asdict(frame)
    return _bounded({"function": raw["function"], "file": raw["file"], "line": raw["line"]})


def _bounded(record: dict[str, Any]) -> dict[str, Any]:
    for name, most in _MAX_TEXT.items():
        value = record.get(name)
        if isinstance(value, str) and len(value) > most:
            record[name] = value[: most - 1] + "…"
    return record
