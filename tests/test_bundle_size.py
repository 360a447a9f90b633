"""The browser's share: the JavaScript of the installed labextension stays small, so the payload
contract's validation (and everything else) is not paid for by every page load. Runtime schema
validators are test-only devDependencies; this keeps them (and any other heavy library) out."""

from __future__ import annotations

from pathlib import Path

import pytest
from jupyter_core.paths import jupyter_path

LIMIT_BYTES = 80 * 1024
NAME = "jupyter-resource-monitor"


def installed_static() -> Path:
    """The static folder of the labextension JupyterLab would load (the first on its path)."""
    for root in jupyter_path("labextensions"):
        static = Path(root) / NAME / "static"
        if static.is_dir():
            return static
    raise AssertionError(f"no {NAME} labextension installed in {jupyter_path('labextensions')}")


def test_the_extensions_javascript_is_under_80_kb():
    static = installed_static()
    if list(static.glob("*.js.map")):
        # `npm run build` (development: unminified, with source maps), as an editable install
        # has it. scripts/test-all.sh installs the wheel, whose build is the production one.
        pytest.skip(f"{static} holds a development build; `npm run build:prod` to measure")
    # Every chunk of ours; remoteEntry is the module-federation runtime every extension has.
    chunks = {p.name: p.stat().st_size for p in static.glob("*.js") if not p.name.startswith("remoteEntry.")}
    assert chunks, f"no JavaScript in {static}"
    total = sum(chunks.values())
    assert total < LIMIT_BYTES, f"{total} bytes of JavaScript (limit {LIMIT_BYTES}): {chunks}"
