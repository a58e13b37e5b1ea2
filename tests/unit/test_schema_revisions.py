"""The schema rule of the bot and the admin: own head or newer runs; older or none does not."""

from __future__ import annotations

from tgbot.schema_revisions import schema_problem

KNOWN = {"0001", "0002"}
HEADS = {"0002"}


def test_own_head_runs() -> None:
    assert schema_problem({"0002"}, HEADS, KNOWN) is None


def test_a_later_releases_revision_runs() -> None:
    assert schema_problem({"0003"}, HEADS, KNOWN) is None


def test_a_pending_migration_does_not() -> None:
    assert schema_problem({"0001"}, HEADS, KNOWN) == (
        "schema at ['0001'], behind ['0002']: run tgbot migrate"
    )


def test_an_unmigrated_database_does_not() -> None:
    assert schema_problem(set(), HEADS, KNOWN) == "schema not migrated: run tgbot migrate"
