"""The browser's share: the JavaScript of the installed labextension stays small, so the payload
contract's validation (and everything else) is not paid for by every page load. Runtime schema
validators are test-only devDependencies; this keeps them (and any other heavy library) out."""

from __future__ import annotations

import re
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


def exposed_chunks(static: Path) -> dict[str, list[Path]]:
    """The chunks each module the labextension exposes (``./extension``, ``./style``) loads, as
    its module-federation runtime (remoteEntry) maps them."""
    (entry,) = static.glob("remoteEntry.*.js")
    text = entry.read_text()
    chunks = {}
    for name in ("./extension", "./style"):
        match = re.search(re.escape(f'"{name}":') + r"\(\)=>([^,\"]*(?:,[^\"]*)?)", text)
        assert match, f"{entry.name} does not expose {name}"
        ids = re.findall(r"\.e\((\d+)\)", match.group(1))
        chunks[name] = [path for i in ids for path in static.glob(f"{i}.*.js")]
    return chunks


def test_the_extensions_javascript_is_under_80_kb():
    static = installed_static()
    if list(static.glob("*.js.map")):
        # `npm run build` (development: unminified, with source maps), as an editable install
        # has it. scripts/test-all.sh installs the wheel, whose build is the production one.
        pytest.skip(f"{static} holds a development build; `npm run build:prod` to measure")
    chunks = exposed_chunks(static)
    code = chunks["./extension"]
    assert code, f"no chunk of ./extension in {static}"
    total = sum(p.stat().st_size for p in code)
    # What the limit covers: the extension's own code. Reported beside it, not counted: the
    # stylesheet (CSS wrapped in a loader) and the module-federation runtime every extension has.
    others = {p.name: p.stat().st_size for p in static.glob("*.js") if p not in code}
    assert total < LIMIT_BYTES, (
        f"{total} bytes of JavaScript code (limit {LIMIT_BYTES}): {[p.name for p in code]}; "
        f"not counted: {others}"
    )
