"""Can this code run on the database's schema? One rule for the bot, the dispatcher and the admin.

Migrations follow expand/contract (docs/operations.md): a release's migration keeps the previous
release working. So the code runs on its own head and on a *newer* schema — a revision it does not
know, written by a later release — which is what a rollback meets. It does not run on an older
schema (a migration of its own is pending) or an unmigrated database.

Pure functions on revision ids: importable by the admin, which has no alembic.
"""

from __future__ import annotations

from collections.abc import Set


def is_newer_schema(current: Set[str], known: Set[str]) -> bool:
    """The database carries a revision this code has never seen: a later release migrated it."""
    return bool(current - known)


def schema_problem(current: Set[str], heads: Set[str], known: Set[str]) -> str | None:
    """Why this code cannot run on a database at ``current``; None when it can."""
    if current == heads or is_newer_schema(current, known):
        return None
    if not current:
        return "schema not migrated: run tgbot migrate"
    return f"schema at {sorted(current)}, behind {sorted(heads)}: run tgbot migrate"
