#!/usr/bin/env python3
# Copyright (c) jupyter-resource-monitor contributors.
# Distributed under the terms of the Modified BSD License.
"""Regenerate the gettext catalog of the extension's user-visible strings.

Runs ``jupyterlab-translate extract`` (what language packs run; it needs ``pybabel``
from ``babel``, both in the ``test`` extra) on a copy of the files the strings come
from: the frontend sources without their tests, the settings schema, package.json
and the Python package. The repository itself is not handed to the extractor because
it walks every folder at the top (``.venv``, ``ui-tests/node_modules``) and merges
into an existing catalog instead of replacing it.

Usage::

    python scripts/extract_translations.py            # update the shipped catalog
    python scripts/extract_translations.py --check    # exit 1 if it is out of date
    python scripts/extract_translations.py --output /tmp/x.pot

The catalog is rewritten only when its entries change, so regenerating it does not
churn the header's creation date.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "jupyter_resource_monitor"
CATALOG = ROOT / DOMAIN / "locale" / f"{DOMAIN}.pot"

# What one entry is, for comparisons: everything a translator or a language pack
# keys on, nothing that moves with an unrelated edit (source line numbers, dates).
Entry = tuple[str, str, str]


def catalog_entries(path: Path) -> set[Entry]:
    """The (context, msgid, plural msgid) of every entry in a catalog."""
    return {
        (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")
        for entry in polib.pofile(str(path), wrapwidth=100000)
        if not entry.obsolete
    }


def _copy_sources(dest: Path) -> None:
    """Copy what holds user-visible strings into ``dest``, laid out as in the repository."""
    shutil.copy2(ROOT / "package.json", dest / "package.json")
    shutil.copytree(ROOT / "schema", dest / "schema")
    shutil.copytree(ROOT / "src", dest / "src", ignore=shutil.ignore_patterns("__tests__"))
    # The output folder the extractor requires; its .py files are scanned too.
    shutil.copytree(
        ROOT / DOMAIN,
        dest / DOMAIN,
        ignore=shutil.ignore_patterns("labextension", "locale", "__pycache__", "*.pyc"),
    )


def extract(output: Path) -> int:
    """Extract the catalog into ``output``; returns the number of entries."""
    # jupyterlab-translate, and the pybabel and gettext-extract it runs, are console scripts
    # of this interpreter's environment, which may not be on PATH.
    dirs = [sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]
    path = os.pathsep.join([*dirs, os.environ.get("PATH", "")])
    env = {**os.environ, "PATH": path}
    translate = shutil.which("jupyterlab-translate", path=path)
    if translate is None:
        raise RuntimeError("jupyterlab-translate is not installed (pip install '.[test]')")
    with tempfile.TemporaryDirectory(prefix="rm-extract-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        _copy_sources(repo)
        done = subprocess.run(
            [translate, "extract", ".", DOMAIN],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            raise RuntimeError(f"jupyterlab-translate extract failed ({done.returncode})")
        produced = repo / DOMAIN / "locale" / f"{DOMAIN}.pot"
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(produced, output)
    return len(catalog_entries(output))


def main(argv: list[str] | None = None) -> int:
    """Command line: update, check, or write the catalog elsewhere."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, help="write the catalog here instead")
    parser.add_argument("--check", action="store_true", help="exit 1 if the shipped catalog is out of date")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="rm-catalog-") as tmp:
        fresh = Path(tmp) / f"{DOMAIN}.pot"
        count = extract(fresh)
        if args.output:
            shutil.copyfile(fresh, args.output)
            print(f"{count} entries written to {args.output}")
            return 0
        same = CATALOG.exists() and catalog_entries(CATALOG) == catalog_entries(fresh)
        if args.check:
            print(f"{CATALOG.relative_to(ROOT)}: {'up to date' if same else 'OUT OF DATE'}")
            return 0 if same else 1
        if same:
            print(f"{CATALOG.relative_to(ROOT)} is up to date ({count} entries)")
        else:
            CATALOG.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(fresh, CATALOG)
            print(f"{CATALOG.relative_to(ROOT)}: {count} entries written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
