"""CONTRIBUTING.md's architecture map names every part of the code, and nothing that is gone.

Granularity: every Python module and every package folder of ``jupyter_resource_monitor/`` (plus
its top-level folders, such as ``schemas/``), and every folder or file directly in ``src/``.
Left out: ``__init__.py`` (its folder's line covers it), the generated ``_version.py``,
``__pycache__/``, the built ``labextension/``, ``locale/`` and ``src/__tests__/``.

The map is read from the bullet lines ``- `path`: what it is`` under the headings
``### `jupyter_resource_monitor/``` and ``### `src/``` of its ``## Architecture map`` section;
paths are relative to that heading's folder.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRIBUTING = ROOT / "CONTRIBUTING.md"
SECTION = "## Architecture map"
PACKAGE = "jupyter_resource_monitor"

SKIP_NAMES = {"__pycache__", "__init__.py", "_version.py", "labextension", "locale", "__tests__"}
ENTRY = re.compile(r"^(?P<indent> *)- `(?P<path>[^`]+)`(?P<rest>.*)$")


def package_parts(root: Path) -> set[str]:
    """Python modules, folders holding Python modules, and top-level folders, relative to root."""
    parts: set[str] = set()
    for path in root.rglob("*"):
        rel = path.relative_to(root)
        if any(name in SKIP_NAMES or name.startswith(".") for name in rel.parts):
            continue
        if path.is_file() and path.suffix == ".py":
            parts.add(rel.as_posix())
            parts.update(f"{parent.as_posix()}/" for parent in rel.parents if parent != Path("."))
        elif path.is_dir() and len(rel.parts) == 1:
            parts.add(f"{rel.as_posix()}/")
    return parts


def src_parts(root: Path) -> set[str]:
    """Folders and files directly in src/."""
    return {
        f"{p.name}/" if p.is_dir() else p.name
        for p in root.iterdir()
        if p.name not in SKIP_NAMES and not p.name.startswith(".")
    }


def map_entries(text: str) -> dict[str, list[tuple[str, str]]]:
    """The map's lines by heading: [(path, whole line), ...] in the file's order."""
    assert SECTION in text, f"CONTRIBUTING.md has no {SECTION!r} section"
    section = text.split(SECTION, 1)[1]
    section = re.split(r"\n## ", section, maxsplit=1)[0]
    entries: dict[str, list[tuple[str, str]]] = {}
    heading = None
    for line in section.splitlines():
        if line.startswith("### "):
            heading = line[4:].strip()
            entries[heading] = []
            continue
        match = ENTRY.match(line)
        if heading is not None and match:
            entries[heading].append((match["path"], line))
    return entries


def depth(path: str) -> int:
    return path.rstrip("/").count("/")


def where_to_add(missing: set[str], listed: list[str]) -> str:
    """Each missing line, exactly as it should be written, and the line it goes after."""
    everything = sorted(set(listed) | missing)
    out = []
    for path in sorted(missing):
        before = everything[: everything.index(path)]
        after = f"after the line for `{before[-1]}`" if before else "as the first line"
        if before and before[-1] in missing:
            after += " (which you add too)"
        what = "folder" if path.endswith("/") else "module" if path.endswith(".py") else "file"
        line = f"{'  ' * depth(path)}- `{path}`: <one line: what this {what} does>"
        out.append(f"    {after}:\n        {line}")
    return "\n".join(out)


def check(heading: str, actual: set[str], entries: dict[str, list[tuple[str, str]]]) -> list[str]:
    assert heading in entries, f"CONTRIBUTING.md's {SECTION!r} has no '### {heading}' heading"
    listed = [path for path, _ in entries[heading]]
    problems = []
    missing = actual - set(listed)
    if missing:
        problems.append(
            f"CONTRIBUTING.md, {SECTION!r}, under '### {heading}' leaves out {sorted(missing)}. "
            f"Add these lines (paths relative to {heading.strip('`')}; a module one level "
            f"deeper than its folder's line is indented two more spaces):\n"
            + where_to_add(missing, [path for path in listed if path in actual])
        )
    gone = sorted(set(listed) - actual)
    if gone:
        problems.append(
            f"CONTRIBUTING.md, {SECTION!r}, under '### {heading}' names {gone}, which no longer "
            f"exist (or are left out of the map by design): remove or rename those lines."
        )
    twice = sorted({p for p in listed if listed.count(p) > 1})
    if twice:
        problems.append(f"under '### {heading}' these are listed twice: {twice}")
    bare = [line for path, line in entries[heading] if not re.match(r"^: \S", line.split("`", 2)[2])]
    if bare:
        problems.append(f"under '### {heading}' these lines say nothing after the path: {bare}")
    return problems


def test_the_map_names_every_module_and_folder_of_the_package_and_nothing_else():
    entries = map_entries(CONTRIBUTING.read_text())
    problems = check(f"`{PACKAGE}/`", package_parts(ROOT / PACKAGE), entries)
    assert not problems, "\n\n".join(problems)


def test_the_map_names_every_folder_and_file_of_src_and_nothing_else():
    entries = map_entries(CONTRIBUTING.read_text())
    problems = check("`src/`", src_parts(ROOT / "src"), entries)
    assert not problems, "\n\n".join(problems)


def test_the_failure_says_which_line_to_add_and_where(tmp_path):
    """A new package folder with a module, as a branch adding one would have it."""
    package = tmp_path / PACKAGE
    (package / "guard").mkdir(parents=True)
    for name in ("__init__.py", "app.py", "guard/__init__.py", "guard/monitor.py"):
        (package / name).write_text("")
    (package / "locale").mkdir()
    text = f"{SECTION}\n\n### `{PACKAGE}/`\n\n- `app.py`: the extension.\n- `gone.py`: was here.\n"
    problems = check(f"`{PACKAGE}/`", package_parts(package), map_entries(text))
    assert len(problems) == 2
    assert "after the line for `app.py`:\n        - `guard/`: <one line" in problems[0]
    assert (
        "after the line for `guard/` (which you add too):\n"
        "          - `guard/monitor.py`: <one line: what this module does>"
    ) in problems[0]
    assert "['gone.py'], which no longer exist" in problems[1]
