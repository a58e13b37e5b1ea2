"""The unmanaged models agree with the tables alembic creates, column by column."""

from __future__ import annotations

import subprocess

import pytest
from django.apps import apps
from django.db import connection, models

from tests.integration.admin.conftest import SECRET_KEY, base_env, tgadmin_executable

BOT_TABLES = {
    "tg_users",
    "user_tags",
    "conversations",
    "messages",
    "bot_texts",
    "broadcasts",
    "outbox",
    "processed_updates",
    "admin_audit_log",
    "conversation_notes",
    "canned_answers",
    "outbox_uploads",
}


def unmanaged_models() -> list[type[models.Model]]:
    return [m for m in apps.get_app_config("panel").get_models() if not m._meta.managed]


def db_columns(table: str) -> dict[str, tuple[str, bool]]:
    """column -> (type as Django spells it, nullable)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT column_name, data_type, character_maximum_length, is_nullable
            FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = %s
            """,
            [table],
        )
        rows = cursor.fetchall()
    columns = {}
    for name, data_type, max_length, nullable in rows:
        spelled = f"varchar({max_length})" if data_type == "character varying" else data_type
        columns[name] = (spelled, nullable == "YES")
    return columns


def db_foreign_keys(table: str) -> dict[str, tuple[str, str]]:
    """column -> (referenced table, referenced column)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT kcu.column_name, ccu.table_name, ccu.column_name
            FROM information_schema.table_constraints tc
            JOIN information_schema.key_column_usage kcu
              ON tc.constraint_name = kcu.constraint_name AND tc.table_schema = kcu.table_schema
            JOIN information_schema.constraint_column_usage ccu
              ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema
            WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_name = %s
            """,
            [table],
        )
        return {column: (ref_table, ref_column) for column, ref_table, ref_column in cursor}


def test_every_bot_table_has_an_unmanaged_model(admin_db_url: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        tables = {name for (name,) in cursor}
    bot_tables = {
        t
        for t in tables
        if not t.startswith(("django_", "auth_", "axes_", "otp_")) and t != "alembic_version"
    }
    mirrored = {m._meta.db_table for m in unmanaged_models()}
    assert bot_tables == BOT_TABLES
    assert mirrored == bot_tables


@pytest.mark.parametrize("model", unmanaged_models(), ids=lambda m: m._meta.db_table)
def test_model_mirrors_table(admin_db_url: str, model: type[models.Model]) -> None:
    table = model._meta.db_table
    columns = db_columns(table)
    foreign_keys = db_foreign_keys(table)
    mapped = set()
    for field in model._meta.concrete_fields:
        column = field.column
        mapped.add(column)
        assert column in columns, f"{table}.{column} is not in the database"
        db_type, nullable = columns[column]
        assert field.db_type(connection) == db_type, f"{table}.{column} type"
        assert field.null == nullable, f"{table}.{column} nullability"
        if field.is_relation:
            assert field.db_constraint == (column in foreign_keys), f"{table}.{column} FK"
            target = field.target_field
            if field.db_constraint:
                assert foreign_keys[column] == (target.model._meta.db_table, target.column)
            else:  # a reference to Django's own tables, which alembic does not know
                assert target.model._meta.db_table.startswith("auth_"), f"{table}.{column}"
        else:
            assert column not in foreign_keys, f"{table}.{column} is a FK in the database"
    assert set(columns) == mapped, f"{table}: unmapped columns {set(columns) - mapped}"


def test_makemigrations_is_clean(admin_db_url: str) -> None:
    result = subprocess.run(
        [tgadmin_executable(), "makemigrations", "--check", "--dry-run"],
        env=base_env(DATABASE_URL=admin_db_url, SECRET_KEY=SECRET_KEY),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No changes detected" in result.stdout
