"""The alembic head is read from the migration files' text, without alembic."""

from __future__ import annotations

from pathlib import Path

from tgadmin.panel.alembic_head import head_revisions, versions_dir


def write(directory: Path, name: str, revision: str, down: str) -> None:
    (directory / name).write_text(
        f'"""x"""\nrevision: str = "{revision}"\ndown_revision: str | None = {down}\n'
    )


def test_head_of_a_chain(tmp_path: Path) -> None:
    write(tmp_path, "a.py", "0001", "None")
    write(tmp_path, "b.py", "0002", '"0001"')
    write(tmp_path, "c.py", "0003", '"0002"')
    assert head_revisions(tmp_path) == {"0003"}


def test_merge_revision(tmp_path: Path) -> None:
    write(tmp_path, "a.py", "a", "None")
    write(tmp_path, "b.py", "b", '"a"')
    write(tmp_path, "c.py", "c", '"a"')
    write(tmp_path, "m.py", "m", '("b", "c")')
    assert head_revisions(tmp_path) == {"m"}


def test_the_bot_package_has_one_head() -> None:
    assert versions_dir().is_dir()
    assert len(head_revisions()) == 1
