# Copyright (c) jupyter-resource-monitor contributors.
# Distributed under the terms of the Modified BSD License.
"""Run a command (a JupyterLab server) with a pseudo-locale language pack installed and selected.

The pack is built from the shipped catalog (jupyter_resource_monitor/locale/*.pot): every
message becomes ``⟦…⟧`` with each ASCII letter replaced by an accented one and the ``%1``
placeholders (and ``%%``) kept, so any text of ours that the page shows without these marks
did not go through the translation bundle. It is packaged as JupyterLab language packs are,
for jupyterlab_server's translation_utils to find it:

- a wheel of the module ``jupyterlab_language_pack_<locale>`` with the entry point
  ``<locale> = jupyterlab_language_pack_<locale>`` in the group ``jupyterlab.languagepack``;
- ``locale/<locale>/LC_MESSAGES/jupyter_resource_monitor.json`` (the Jed data the frontend
  loads, written by jupyterlab-translate's own converter) and ``.mo`` (what the server uses
  to translate the settings schema).

The wheel is installed with pip into a folder of its own that only the command sees (on its
PYTHONPATH), and a fresh JupyterLab settings folder selects the locale through the
``@jupyterlab/translation-extension:plugin`` setting ``locale``; both are removed afterwards.

Usage: ``python pseudo_locale.py -- jupyter lab --config jupyter_server_test_config.py``
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import polib
from jupyterlab_translate.converters import convert_catalog_to_json

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = "jupyter_resource_monitor"
CATALOG = ROOT / DOMAIN / "locale" / f"{DOMAIN}.pot"
# A locale babel (hence jupyterlab_server) accepts, that no real language pack uses:
# English in the "unknown region".
LOCALE = "en_ZZ"
OPEN, CLOSE = "⟦", "⟧"
ACCENTED = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "ȧƀƈḓḗƒɠħīĵķŀḿƞǿƥɋřşŧŭṽẇẋẏẑȦƁƇḒḖƑƓĦĪĴĶĿḾȠǾƤɊŘŞŦŬṼẆẊẎẐ",
        strict=True,
    )
)
# What must reach the page unchanged: gettext placeholders and the escaped percent sign.
KEEP = re.compile(r"%\d+|%%")


def pseudo(text: str) -> str:
    """``Mem: %1`` -> ``⟦Ḿḗḿ: %1⟧``: visibly transformed, placeholders intact."""
    out, last = [], 0
    for match in KEEP.finditer(text):
        out.append("".join(ACCENTED.get(c, c) for c in text[last : match.start()]))
        out.append(match.group())
        last = match.end()
    out.append("".join(ACCENTED.get(c, c) for c in text[last:]))
    return OPEN + "".join(out) + CLOSE


def pseudo_catalog(pot: Path, po_path: Path) -> int:
    """Write the pseudo translation of every entry of ``pot`` to ``po_path``; returns the count."""
    catalog = polib.pofile(str(pot), wrapwidth=100000)
    catalog.metadata.update(
        {
            "Project-Id-Version": f"{DOMAIN} 0.0.0",
            "Language": LOCALE,
            "Plural-Forms": "nplurals=2; plural=(n != 1);",
        }
    )
    for entry in catalog:
        if entry.msgid_plural:
            entry.msgstr_plural = {0: pseudo(entry.msgid), 1: pseudo(entry.msgid_plural)}
        else:
            entry.msgstr = pseudo(entry.msgid)
    po_path.parent.mkdir(parents=True, exist_ok=True)
    catalog.save(str(po_path))
    return len(catalog)


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(pot: Path, out_dir: Path) -> Path:
    """A wheel of the language pack for ``LOCALE`` with the catalog of ``pot``."""
    module = f"jupyterlab_language_pack_{LOCALE}"
    dist = f"jupyterlab_language_pack_{LOCALE}-0.0.0"
    with tempfile.TemporaryDirectory() as tmp:
        messages = Path(tmp) / "locale" / LOCALE / "LC_MESSAGES"
        po_path = messages / f"{DOMAIN}.po"
        pseudo_catalog(pot, po_path)
        # Exactly what `jupyterlab-translate compile` writes into language packs.
        convert_catalog_to_json(po_path, messages, DOMAIN)
        polib.pofile(str(po_path)).save_as_mofile(str(messages / f"{DOMAIN}.mo"))
        files = {
            f"{module}/__init__.py": b'"""Pseudo-locale language pack for the UI tests."""\n',
            **{
                f"{module}/locale/{LOCALE}/LC_MESSAGES/{path.name}": path.read_bytes()
                for path in messages.iterdir()
                if path.suffix in (".json", ".mo")
            },
            f"{dist}.dist-info/METADATA": (
                f"Metadata-Version: 2.1\nName: jupyterlab-language-pack-{LOCALE}\nVersion: 0.0.0\n"
                "Summary: Pseudo-locale for the jupyter-resource-monitor UI tests\n"
            ).encode(),
            f"{dist}.dist-info/WHEEL": (
                b"Wheel-Version: 1.0\nGenerator: pseudo_locale.py\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
            ),
            f"{dist}.dist-info/entry_points.txt": (
                f"[jupyterlab.languagepack]\n{LOCALE} = {module}\n"
            ).encode(),
        }
    record = f"{dist}.dist-info/RECORD"
    lines = [_record_line(name, data) for name, data in files.items()] + [f"{record},,"]
    files[record] = ("\n".join(lines) + "\n").encode()
    wheel = out_dir / f"{dist}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return wheel


def settings_folder(path: Path) -> Path:
    """A JupyterLab user settings folder selecting ``LOCALE``, with no news prompt."""
    for plugin, values in {
        "@jupyterlab/translation-extension/plugin": {"locale": LOCALE},
        "@jupyterlab/apputils-extension/notification": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
    }.items():
        target = path / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--catalog", type=Path, default=CATALOG)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    work = Path(tempfile.mkdtemp(prefix="rm-pseudo-locale-"))
    try:
        wheel = build_wheel(args.catalog, work)
        site = work / "site"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index"]
            + ["--target", str(site), str(wheel)],
            check=True,
        )
        settings = settings_folder(work / "settings")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
        # On the command line, so it wins over the config file's own settings folder.
        child = subprocess.Popen([*command, f"--LabApp.user_settings_dir={settings}"], env=env)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda signum, _frame: child.send_signal(signum))
        return child.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
