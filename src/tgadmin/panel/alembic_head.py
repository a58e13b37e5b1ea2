"""The bot schema's head revision, read from the migration files' text (no alembic import).

The admin image has no alembic; the version files ship inside the ``tgbot`` package.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
from pathlib import Path

_ASSIGNMENT = re.compile(
    r"^(?P<name>revision|down_revision)\s*(?::[^=]+)?=\s*(?P<value>.+)$", re.MULTILINE
)


def versions_dir() -> Path:
    spec = importlib.util.find_spec("tgbot")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the tgbot package (it carries the migrations) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "migrations" / "versions"


def _as_ids(value: str) -> set[str]:
    parsed = ast.literal_eval(value.strip())
    if parsed is None:
        return set()
    if isinstance(parsed, str):
        return {parsed}
    return {str(item) for item in parsed}


def parse_revisions(text: str) -> tuple[str, set[str]]:
    """(revision, down revisions) of one migration file's source."""
    found = {m["name"]: m["value"] for m in _ASSIGNMENT.finditer(text)}
    if "revision" not in found:
        raise ValueError("no revision variable")
    (revision,) = _as_ids(found["revision"])
    return revision, _as_ids(found.get("down_revision", "None"))


@functools.cache
def _graph(directory: Path | None) -> tuple[frozenset[str], frozenset[str]]:
    """(every revision, every revision something builds on) of the version files."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (directory or versions_dir()).glob("*.py"):
        try:
            revision, down = parse_revisions(path.read_text(encoding="utf-8"))
        except (ValueError, SyntaxError):
            continue
        revisions.add(revision)
        parents |= down
    return frozenset(revisions), frozenset(parents)


def head_revisions(directory: Path | None = None) -> frozenset[str]:
    """Revisions no other revision builds on (one, unless branches are unmerged)."""
    revisions, parents = _graph(directory)
    return revisions - parents


def known_revisions(directory: Path | None = None) -> frozenset[str]:
    """Every revision the installed bot package ships."""
    return _graph(directory)[0]
