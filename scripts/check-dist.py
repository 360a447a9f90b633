#!/usr/bin/env python3
"""Check the contents of the sdist and the wheel that scripts/test-all.sh built.

twine and check-wheel-contents check the metadata and the wheel's generic layout; this checks what
only this project knows: the prebuilt labextension (package.json, static/), install.json, the server
config that enables the extension, the settings schema, the LICENSE in both, and no stray files
(node_modules, virtual environments, UI tests, caches, TypeScript build output).

Usage: python scripts/check-dist.py DIST_DIR   (holds exactly one .tar.gz and one .whl)
Exits non-zero with one line per problem.
"""

from __future__ import annotations

import json
import re
import sys
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path, PurePosixPath

NAME = "jupyter_resource_monitor"
LABEXT = "jupyter-resource-monitor"

# Path parts or names that must never be shipped.
STRAY_PARTS = {
    "node_modules",
    ".venv",
    ".venv-lab-oldest",
    "ui-tests",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".ipynb_checkpoints",
    ".git",
    ".github",
    "coverage",
    "test-results",
    "playwright-report",
}
STRAY_NAME = re.compile(r"(\.tsbuildinfo|\.pyc|\.eslintcache|\.stylelintcache|\.DS_Store)$")


def stray(paths: list[str], where: str) -> list[str]:
    problems = []
    for path in paths:
        parts = PurePosixPath(path).parts
        hit = STRAY_PARTS.intersection(parts)
        if hit or STRAY_NAME.search(path):
            problems.append(f"{where}: stray file {path}")
    return problems


def check_labextension(names: set[str], read, prefix: str, where: str) -> list[str]:
    """The prebuilt labextension under ``prefix``: its package.json names us, static/ has the bundle."""
    problems = []
    pkg = f"{prefix}/package.json"
    if pkg not in names:
        return [f"{where}: missing {pkg}"]
    meta = json.loads(read(pkg))
    if meta.get("name") != LABEXT:
        problems.append(f"{where}: {pkg} names {meta.get('name')!r}")
    load = meta.get("jupyterlab", {}).get("_build", {}).get("load")
    if not load or f"{prefix}/{load}" not in names:
        problems.append(f"{where}: {pkg} has no built remoteEntry ({load!r})")
    static = [n for n in names if n.startswith(f"{prefix}/static/") and n.endswith(".js")]
    if not static:
        problems.append(f"{where}: no JavaScript under {prefix}/static/")
    if f"{prefix}/static/style.js" not in names:
        problems.append(f"{where}: missing {prefix}/static/style.js")
    schemas = [n for n in names if n.startswith(f"{prefix}/schemas/{LABEXT}/") and n.endswith(".json")]
    if not schemas:
        problems.append(f"{where}: no settings schema under {prefix}/schemas/{LABEXT}/")
    return problems


def check_server_config(data: bytes, path: str, where: str) -> list[str]:
    enabled = json.loads(data).get("ServerApp", {}).get("jpserver_extensions", {}).get(NAME)
    return [] if enabled is True else [f"{where}: {path} does not enable {NAME}"]


def check_wheel(path: Path, license_text: bytes) -> list[str]:
    where = path.name
    with zipfile.ZipFile(path) as whl:
        names = set(whl.namelist())
        problems = stray(sorted(names), where)
        dist_info = {n.split("/")[0] for n in names if n.split("/")[0].endswith(".dist-info")}
        if len(dist_info) != 1:
            return [*problems, f"{where}: expected one .dist-info folder, found {sorted(dist_info)}"]
        info = dist_info.pop()
        data = f"{info.removesuffix('.dist-info')}.data/data"
        share = f"{data}/share/jupyter/labextensions/{LABEXT}"

        license_path = f"{info}/licenses/LICENSE"
        if license_path not in names:
            problems.append(f"{where}: missing {license_path}")
        elif whl.read(license_path) != license_text:
            problems.append(f"{where}: {license_path} differs from the repository's LICENSE")
        meta = HeaderParser().parsestr(whl.read(f"{info}/METADATA").decode())
        if meta["License-Expression"] != "BSD-3-Clause":
            problems.append(f"{where}: License-Expression is {meta['License-Expression']!r}")
        if "LICENSE" not in (meta.get_all("License-File") or []):
            problems.append(f"{where}: METADATA names no License-File LICENSE")

        problems += check_labextension(names, whl.read, share, where)
        install = f"{share}/install.json"
        if install not in names:
            problems.append(f"{where}: missing {install}")
        elif json.loads(whl.read(install)).get("packageName") != "jupyter-resource-monitor":
            problems.append(f"{where}: {install} names another package")
        server_config = f"{data}/etc/jupyter/jupyter_server_config.d/{NAME}.json"
        if server_config not in names:
            problems.append(f"{where}: missing {server_config}")
        else:
            problems += check_server_config(whl.read(server_config), server_config, where)

        modules = {n for n in names if n.startswith(f"{NAME}/") and n.endswith(".py")}
        for needed in ("__init__.py", "_version.py", "app.py", "worker/main.py", "routes/handlers.py"):
            if f"{NAME}/{needed}" not in modules:
                problems.append(f"{where}: missing {NAME}/{needed}")
        # Everything at the top level is the package, its data or its metadata.
        tops = {n.split("/")[0] for n in names}
        extra = tops - {NAME, info, f"{info.removesuffix('.dist-info')}.data"}
        if extra:
            problems.append(f"{where}: unexpected top-level entries {sorted(extra)}")
    return problems


def check_sdist(path: Path, license_text: bytes) -> list[str]:
    where = path.name
    with tarfile.open(path) as sdist:
        members = [m.name for m in sdist.getmembers() if m.isfile()]
        roots = {m.split("/")[0] for m in members}
        if len(roots) != 1:
            return [f"{where}: expected one top-level folder, found {sorted(roots)}"]
        root = roots.pop()
        names = {m.removeprefix(f"{root}/") for m in members}

        def read(name: str) -> bytes:
            handle = sdist.extractfile(f"{root}/{name}")
            assert handle is not None
            return handle.read()

        problems = stray(sorted(names), where)
        if "LICENSE" not in names:
            problems.append(f"{where}: missing LICENSE")
        elif read("LICENSE") != license_text:
            problems.append(f"{where}: LICENSE differs from the repository's")
        # What building the wheel from the sdist needs, without node_modules: the prebuilt
        # labextension, the files shared-data maps, and the sources.
        for needed in (
            "pyproject.toml",
            "package.json",
            "package-lock.json",
            "README.md",
            "install.json",
            f"jupyter-config/server-config/{NAME}.json",
            f"{NAME}/__init__.py",
            f"{NAME}/_version.py",
            "src/index.ts",
            "style/index.css",
            "tsconfig.json",
        ):
            if needed not in names:
                problems.append(f"{where}: missing {needed}")
        problems += check_labextension(names, read, f"{NAME}/labextension", where)
        if f"jupyter-config/server-config/{NAME}.json" in names:
            path_ = f"jupyter-config/server-config/{NAME}.json"
            problems += check_server_config(read(path_), path_, where)
        if any(n.startswith("lib/") for n in names):
            problems.append(f"{where}: TypeScript build output lib/ is shipped")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    dist = Path(argv[1])
    sdists, wheels = sorted(dist.glob("*.tar.gz")), sorted(dist.glob("*.whl"))
    if len(sdists) != 1 or len(wheels) != 1:
        print(f"expected one sdist and one wheel in {dist}, found {sdists + wheels}", file=sys.stderr)
        return 2
    license_text = (Path(__file__).resolve().parents[1] / "LICENSE").read_bytes()
    problems = check_sdist(sdists[0], license_text) + check_wheel(wheels[0], license_text)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print(f"{sdists[0].name} and {wheels[0].name}: contents OK")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
