"""The shipped gettext catalog is what ``jupyterlab-translate extract`` collects from the sources.

Language packs regenerate their catalogs with that extractor; a string added or changed in
``src/`` or ``schema/`` without regenerating
``jupyter_resource_monitor/locale/jupyter_resource_monitor.pot``
(``python scripts/extract_translations.py``) fails here.
"""

from __future__ import annotations

import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "jupyter_resource_monitor"
COMMITTED = ROOT / DOMAIN / "locale" / f"{DOMAIN}.pot"


def entries(path: Path) -> dict[tuple[str, str], str]:
    """(context, msgid) -> plural msgid of every live entry: what a translation is keyed on.

    Source references, line numbers and the header (creation date, version) are left out,
    so moving code or regenerating on another day changes nothing.
    """
    catalog = polib.pofile(str(path), wrapwidth=100000)
    return {
        (entry.msgctxt or "", entry.msgid): entry.msgid_plural or ""
        for entry in catalog
        if not entry.obsolete
    }


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory) -> Path:
    """The catalog extracted afresh from the current sources, in a temporary folder."""
    out = tmp_path_factory.mktemp("catalog") / f"{DOMAIN}.pot"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "extract_translations.py"), "--output", str(out)],
        check=True,
        capture_output=True,
        timeout=240,
    )
    return out


def test_committed_catalog_matches_the_sources(regenerated):
    fresh, committed = entries(regenerated), entries(COMMITTED)
    missing = sorted(set(fresh) - set(committed))
    stale = sorted(set(committed) - set(fresh))
    assert not missing and not stale, (
        f"{COMMITTED.relative_to(ROOT)} is out of date: run python scripts/extract_translations.py\n"
        f"  not in the catalog: {missing}\n  no longer in the sources: {stale}"
    )
    plurals = {key: (fresh[key], committed[key]) for key in fresh if fresh[key] != committed[key]}
    assert not plurals, f"plural forms differ (sources, catalog): {plurals}"


def test_catalog_covers_every_part_of_the_ui(regenerated):
    # The extractor must really have read the frontend and the schema: a catalog that lost
    # a whole area (a renamed bundle, a moved folder) would otherwise still "match".
    fresh = entries(regenerated)
    assert len(fresh) >= 150
    for key in [
        ("", "Mem: %1"),  # server status bar item
        ("", "Kernel usage"),  # kernel panel
        ("", "Resource Usage Details"),  # command label
        ("", "Memory is at %1 of the limit (%2 of %3)."),  # notification
        ("schema", "Resource Monitor"),  # settings schema title
        ("settings", "Refresh rate (ms)"),
    ]:
        assert key in fresh, key
    assert fresh[("", "%1 process")] == "%1 processes"


def test_catalog_ships_in_the_installed_package():
    shipped = files(DOMAIN) / "locale" / f"{DOMAIN}.pot"
    assert shipped.is_file()
    assert entries(Path(str(shipped))) == entries(COMMITTED)
