"""Every route's real answer, from a real ``jupyter server`` with a running notebook kernel,
against the JSON Schema the package ships; and the schema itself: valid, strict, one entry per
route the extension registers, and the same fields as docs/api.md."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import jsonschema
import pytest

from jupyter_resource_monitor.routes.handlers import handlers

from . import servers
from .contract import SCHEMA, assert_valid, definition_of, route_template, validator

ROOT = Path(__file__).resolve().parent.parent

# How to reach each route of ours with a real answer: a path with the kernel's id filled in.
# A route the extension registers without an entry here fails test_every_route_has_an_entry.
PATHS = {
    "/api/metrics/v1": "api/metrics/v1",
    "/api/metrics/v1/kernels": "api/metrics/v1/kernels",
    "/api/metrics/v1/kernels/<kernel_id>": "api/metrics/v1/kernels/{kernel_id}",
    "/api/metrics/v1/kernels/<kernel_id>/cells": "api/metrics/v1/kernels/{kernel_id}/cells",
    "/api/metrics/v1/kernel_usage/get_usage/<kernel_id>": "api/metrics/v1/kernel_usage/get_usage/{kernel_id}",
    "/api/metrics/v1/events": "api/metrics/v1/events",
    "/api/metrics/v1/history": "api/metrics/v1/history",
    "/api/metrics/v1/notebooks/peaks": "api/metrics/v1/notebooks/peaks?path=contract.ipynb",
    "/api/metrics/v1/guard": "api/metrics/v1/guard",
}


def registered_routes() -> list[str]:
    """The routes the extension adds to the server, from its own handler list."""
    return [route_template(pattern) for pattern, _ in handlers("/")]


def test_every_route_has_an_entry_in_the_schema_and_here():
    routes = registered_routes()
    assert len(routes) >= 6
    assert set(routes) <= set(SCHEMA["x-routes"]), "a route without a schema entry"
    assert set(routes) <= set(PATHS), "a route this test does not request"


def test_the_schema_is_valid_and_each_route_names_a_definition():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    for route in SCHEMA["x-routes"]:
        assert definition_of(route) in SCHEMA["$defs"], route


def _objects(node, path=""):
    """Every object schema in the schema with its path, for the strictness check."""
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            yield path, node
        for key, value in node.items():
            yield from _objects(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _objects(value, f"{path}/{i}")


def test_every_object_is_closed_and_requires_only_what_it_describes():
    objects = list(_objects(SCHEMA["$defs"]))
    assert len(objects) > 20
    for path, node in objects:
        assert node.get("additionalProperties") is False, f"{path} accepts unknown fields"
        assert set(node.get("required", [])) <= set(node["properties"]), path


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("contract") / "home"
    folder.mkdir()
    server = servers.contract_server(folder)
    try:
        server.wait_until("api/status", lambda b: True)
        kernel_id = server.start_notebook("contract.ipynb")
        server.wait_until(
            "api/metrics/v1/kernels",
            lambda b: any(
                k["id"] == kernel_id and k["available"] and k["cpu_percent"] is not None for k in b["kernels"]
            ),
        )
        # A few history buckets with the CPU measured.
        server.wait_until(
            "api/metrics/v1/history",
            lambda b: b["kernels"]["points"].get(kernel_id) and b["totals"]["points"][-1][-1] is not None,
        )
        yield server, kernel_id
    finally:
        server.stop()


@pytest.mark.parametrize("route", list(PATHS))
def test_real_answer_matches_the_schema(server, route):
    server, kernel_id = server
    if route not in registered_routes():
        pytest.skip(f"{route} is not registered by this version of the extension")
    body = server.get(PATHS[route].format(kernel_id=kernel_id))
    assert_valid(definition_of(route), body)


def test_real_answers_hold_the_optional_parts_they_should(server):
    """The answers validated above are not the trivial ones: disk, owners, a measured kernel."""
    server, kernel_id = server
    body = server.get("api/metrics/v1")
    assert {"disk_used", "disk_total", "by_owner", "oom", "cpu_percent", "cpu_count"} <= set(body)
    assert body["limits"]["disk"]["disk"] == body["disk_total"] > 0
    assert any(o["kernel_id"] == kernel_id for o in body["by_owner"])
    usage = server.get(f"api/metrics/v1/kernel_usage/get_usage/{kernel_id}")
    assert usage["msg_type"] == "usage_reply" and usage["content"]["kernel_memory"] > 0


def test_the_schema_rejects_drift_both_ways(server):
    """A field added, a required field removed, a type changed: each fails validation."""
    server, kernel_id = server
    body = server.get("api/metrics/v1")
    check = validator("metrics")
    assert check.is_valid(body)
    cases = {
        "added": lambda b: b.update(surprise=1),
        "added in limits.memory": lambda b: b["limits"]["memory"].update(surprise=1),
        "rss removed": lambda b: b.pop("rss"),
        "sample.worker removed": lambda b: b["sample"].pop("worker"),
        "rss a float": lambda b: b.update(rss=float(b["rss"]) + 0.5),
        "cpu_percent a string": lambda b: b.update(cpu_percent="1.0"),
        "cpu_count a float": lambda b: b.update(cpu_count=1.5),
        "limits.memory.warn a number": lambda b: b["limits"]["memory"].update(warn=0),
        "limits.memory.rss null": lambda b: b["limits"]["memory"].update(rss=None),
    }
    for name, mutate in cases.items():
        changed = copy.deepcopy(body)
        mutate(changed)
        assert not check.is_valid(changed), name


# --- docs/api.md says what the schema says ------------------------------------------------------


def schema_fields() -> set[str]:
    """Every property name the schema defines (JSON keys of the payloads)."""
    names: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            names.update(node.get("properties", {}))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(SCHEMA["$defs"])
    return names


def documented_fields() -> set[str]:
    """The JSON keys docs/api.md shows: in its jsonc blocks and `code` spans that look like keys
    (``"name":`` or a bare snake_case word followed by a colon)."""
    text = (ROOT / "docs" / "api.md").read_text()
    # Events on the server's bus have schemas of their own (jupyter_resource_monitor/bus).
    text = re.sub(r"\n## Events on the server's bus\n.*?(?=\n## |\Z)", "\n", text, flags=re.S)
    names: set[str] = set()
    for block in re.findall(r"```jsonc\n(.*?)```", text, re.S):
        code = "\n".join(line.split("//", 1)[0] for line in block.splitlines())
        names.update(re.findall(r'"([a-z_][a-z0-9_]*)"\s*:', code))
    # Fields described in prose: `name` spans directly inside a {"...", ...} listing.
    # (A quoted word after a colon is a value, not a key.)
    for listing in re.findall(r'`[\[{]"[^`]*`', text):
        names.update(re.findall(r'(?<!: )"([a-z_][a-z0-9_]*)"', listing))
    return names


def test_docs_document_every_schema_field_and_no_other():
    schema, docs = schema_fields(), documented_fields()
    assert sorted(schema - docs) == [], "in the schema, not in docs/api.md"
    assert sorted(docs - schema) == [], "in docs/api.md, not in the schema"
