"""The payload contract: every answer of ours is checked against the JSON Schema the package ships
(jupyter_resource_monitor/schemas/api.schema.json), the one description docs/api.md, the frontend's
types and its validators are tested against."""

from __future__ import annotations

import json
import re
from importlib import resources

import jsonschema

# Loaded from the installed package, as a client of the wheel would find it.
SCHEMA: dict = json.loads(
    resources.files("jupyter_resource_monitor").joinpath("schemas/api.schema.json").read_text()
)


def route_template(pattern: str) -> str:
    """A tornado route pattern of ours as the schema's ``x-routes`` names it:
    ``/api/metrics/v1/kernels/(?P<kernel_id>[^/]+)/?`` -> ``/api/metrics/v1/kernels/<kernel_id>``."""
    template = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", pattern)
    template = re.sub(r"/\?$", "", template)
    return template.rstrip("/") or "/"


def validator(definition: str) -> jsonschema.Draft202012Validator:
    """A validator of one ``$defs`` entry, its references resolved within the schema."""
    assert definition in SCHEMA["$defs"], f"no definition {definition!r} in the schema"
    return jsonschema.Draft202012Validator({**SCHEMA, "$ref": f"#/$defs/{definition}"})


def definition_of(route: str) -> str:
    """The ``$defs`` entry that describes the answer of ``route`` (a route template)."""
    ref = SCHEMA["x-routes"][route]
    return ref.removeprefix("#/$defs/")


def assert_valid(definition: str, body) -> None:
    """Fail with every violation (path and message) when ``body`` breaks the contract."""
    errors = sorted(validator(definition).iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, f"{definition}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors
    )
