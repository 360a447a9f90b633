"""Packaging metadata: every import is a declared dependency, and the Python and npm packages agree.

These read the installed distribution (scripts/test-all.sh installs the wheel built from the sdist),
so they check what users get, not the source tree.
"""

from __future__ import annotations

import ast
import json
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

import jupyter_resource_monitor

DIST = "jupyter-resource-monitor"
PACKAGE_DIR = Path(jupyter_resource_monitor.__file__).parent
REPO = Path(__file__).resolve().parents[1]


def imported_top_level_names() -> dict[str, list[str]]:
    """Top-level module names imported anywhere in the package, with the files importing them."""
    found: dict[str, list[str]] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                found.setdefault(top, []).append(str(path.relative_to(PACKAGE_DIR)))
    return found


def third_party_imports() -> dict[str, list[str]]:
    names = imported_top_level_names()
    own = {"jupyter_resource_monitor", "__future__"}
    return {n: files for n, files in names.items() if n not in own and n not in sys.stdlib_module_names}


def declared_runtime_requirements() -> set[str]:
    """Requires-Dist entries without an extra marker (the runtime dependencies), canonical names."""
    declared = set()
    for line in metadata.requires(DIST) or []:
        req = Requirement(line)
        if req.marker is None or "extra" not in str(req.marker):
            declared.add(canonicalize_name(req.name))
    return declared


def test_the_scan_sees_the_known_imports():
    # Guards the scan itself: these are imported today; if the scan found none, the next test
    # would pass vacuously.
    assert {"jupyter_server", "tornado", "traitlets", "prometheus_client"} <= set(third_party_imports())


def test_every_third_party_import_is_a_runtime_dependency():
    provided_by = metadata.packages_distributions()
    declared = declared_runtime_requirements()
    missing = {}
    for module, files in third_party_imports().items():
        dists = {canonicalize_name(d) for d in provided_by.get(module, [])}
        assert dists, f"no installed distribution provides {module!r} (imported in {files})"
        if not dists & declared:
            missing[module] = (sorted(dists), sorted(set(files)))
    assert not missing, f"imported but not in {DIST}'s Requires-Dist: {missing}"


def package_json() -> dict:
    return json.loads((REPO / "package.json").read_text(encoding="utf-8"))


def test_python_and_npm_metadata_agree():
    npm = package_json()
    meta = metadata.metadata(DIST)
    assert Version(meta["Version"]) == Version(npm["version"])
    assert jupyter_resource_monitor.__version__ == meta["Version"]
    assert meta["Summary"] == npm["description"]
    assert meta["License-Expression"] == npm["license"] == "BSD-3-Clause"
    urls = dict(entry.split(", ", 1) for entry in meta.get_all("Project-URL") or [])
    assert urls["Homepage"] == npm["homepage"]
    assert urls["Bug Tracker"] == npm["bugs"]["url"]
    assert npm["repository"]["url"] == urls["Source"] + ".git"


def test_installed_labextension_matches_package_json():
    from jupyter_core.paths import jupyter_path

    found = [
        Path(base, "jupyter-resource-monitor", "package.json")
        for base in jupyter_path("labextensions")
        if Path(base, "jupyter-resource-monitor", "package.json").is_file()
    ]
    if not found:
        pytest.skip("the labextension is not installed in this environment")
    built = json.loads(found[0].read_text(encoding="utf-8"))
    npm = package_json()
    assert (built["name"], built["version"], built["license"]) == (
        npm["name"],
        npm["version"],
        npm["license"],
    )
