"""The real ``tgadmin`` console script: migrate, ensure-superuser and configuration errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest

from tests.integration.admin.conftest import SECRET_KEY, base_env, tgadmin_executable
from tests.support.services import psycopg_url


def run_tgadmin(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tgadmin_executable(), *args],
        env=base_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def schema_snapshot(url: str) -> dict[str, list[tuple[str, ...]]]:
    """Every table's columns (name, type, nullable, default), and the indexes."""
    with psycopg.connect(psycopg_url(url)) as conn:
        columns = conn.execute(
            """
            SELECT table_name, column_name, data_type, is_nullable, coalesce(column_default, '')
            FROM information_schema.columns WHERE table_schema = 'public'
            ORDER BY table_name, ordinal_position
            """
        ).fetchall()
        indexes = conn.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2"
        ).fetchall()
    snapshot: dict[str, list[tuple[str, ...]]] = {}
    for table, *column in columns:
        snapshot.setdefault(table, []).append(tuple(column))
    for table, indexdef in indexes:
        snapshot.setdefault(table, []).append(("index", indexdef))
    return snapshot


def is_django_table(name: str) -> bool:
    return name.startswith(("django_", "auth_", "axes_", "otp_"))


def test_migrate_creates_only_djangos_tables(fresh_db_url: str) -> None:
    from tgbot.db.migrate import migrate

    migrate(fresh_db_url)
    before = schema_snapshot(fresh_db_url)

    result = run_tgadmin("migrate", "--no-input", DATABASE_URL=fresh_db_url, SECRET_KEY=SECRET_KEY)
    assert result.returncode == 0, result.stderr
    again = run_tgadmin("migrate", "--no-input", DATABASE_URL=fresh_db_url, SECRET_KEY=SECRET_KEY)
    assert again.returncode == 0, again.stderr
    assert "No migrations to apply" in again.stdout

    after = schema_snapshot(fresh_db_url)
    bot_after = {t: cols for t, cols in after.items() if not is_django_table(t)}
    assert bot_after == before
    created = set(after) - set(before)
    assert all(is_django_table(t) for t in created)
    assert {
        "auth_user",
        "auth_group",
        "auth_permission",
        "django_admin_log",
        "django_session",
        "django_content_type",
        "django_migrations",
        "otp_totp_totpdevice",
        "django_otp_webauthn_webauthncredential",  # security keys
        "django_otp_webauthn_webauthnuserhandle",
    } <= created
    # Alembic ignores Django's tables (env.py's DJANGO_TABLE_PREFIXES): still no drift.
    from alembic import command

    from tgbot.db.migrate import alembic_config

    command.check(alembic_config(fresh_db_url))
    with psycopg.connect(psycopg_url(fresh_db_url)) as conn:
        groups = {name for (name,) in conn.execute("SELECT name FROM auth_group")}
    assert groups == {"operators", "admins"}


def test_missing_secret_key_is_one_readable_line(admin_db_url: str) -> None:
    result = run_tgadmin("migrate", DATABASE_URL=admin_db_url)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "config error: SECRET_KEY: is required but not set"
    ]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("mysql://u:p@localhost/db", "must be a postgresql:// URL"),
        ("postgresql://u:p@localhost:notaport/db", "has an invalid port"),
        ("postgresql://u:p@localhost:5432/", "must name a database"),
    ],
)
def test_bad_database_url_is_one_readable_line(url: str, problem: str) -> None:
    result = run_tgadmin("check", DATABASE_URL=url, SECRET_KEY=SECRET_KEY)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("config error: DATABASE_URL: ")
    assert problem in lines[0]
    assert "p@" not in result.stderr  # the password is not echoed


def test_weak_secret_key_refused_in_production(admin_db_url: str) -> None:
    result = run_tgadmin("check", DATABASE_URL=admin_db_url, SECRET_KEY="changethis")
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("config error: SECRET_KEY: is too weak for production")
    debug = run_tgadmin("check", DATABASE_URL=admin_db_url, SECRET_KEY="changethis", DEBUG="1")
    assert debug.returncode == 0, debug.stderr


def test_unreachable_database_exits_3() -> None:
    url = "postgresql://u:p@127.0.0.1:1/db"
    result = run_tgadmin("migrate", DATABASE_URL=url, SECRET_KEY=SECRET_KEY)
    assert result.returncode == 3
    assert result.stderr.startswith("tgadmin: database unavailable:")
    assert "Traceback" not in result.stderr


def test_ensure_superuser_creates_once_and_resets_only_when_asked(
    admin_db_url: str, tmp_path: Path
) -> None:
    password_file = tmp_path / "password"
    password_file.write_text("s3cret-Passw0rd\n")
    env = {
        "DATABASE_URL": admin_db_url,
        "SECRET_KEY": SECRET_KEY,
        "ADMIN_USERNAME": "boss",
        "ADMIN_PASSWORD_FILE": str(password_file),
        "ADMIN_EMAIL": "boss@example.com",
    }

    def account() -> tuple[object, ...]:
        with psycopg.connect(psycopg_url(admin_db_url)) as conn:
            row = conn.execute(
                "SELECT email, is_superuser, is_staff, is_active, password FROM auth_user"
                " WHERE username = 'boss'"
            ).fetchone()
        assert row is not None
        return tuple(row)

    first = run_tgadmin("ensure-superuser", **env)
    assert first.stdout.strip() == "superuser boss: created", first.stderr
    created_hash = account()[4]
    # The owner changes the password in the panel and, later, an admin disables the account.
    with psycopg.connect(psycopg_url(admin_db_url)) as conn:
        conn.execute(
            "UPDATE auth_user SET password = 'changed-in-panel', is_active = false,"
            " is_superuser = false WHERE username = 'boss'"
        )
    again = run_tgadmin("ensure-superuser", **{**env, "ADMIN_EMAIL": "b@example.com"})
    assert again.stdout.strip() == (
        "superuser boss: exists, left unchanged (use --reset to recover it)"
    ), again.stderr
    assert account() == ("boss@example.com", False, True, False, "changed-in-panel")

    reset = run_tgadmin("ensure-superuser", "--reset", **env)
    assert reset.stdout.strip() == "superuser boss: reset", reset.stderr
    email, superuser, staff, active, password_hash = account()
    assert (email, superuser, staff, active) == ("boss@example.com", True, True, True)
    assert password_hash not in ("changed-in-panel", created_hash)  # a fresh salt
    with psycopg.connect(psycopg_url(admin_db_url)) as conn:
        audited = conn.execute(
            "SELECT action, admin_username FROM admin_audit_log"
            " WHERE action LIKE 'superuser_%' AND object_type = 'auth.user' ORDER BY id"
        ).fetchall()
    assert audited[-2:] == [
        ("superuser_created", "ensure-superuser"),
        ("superuser_reset", "ensure-superuser"),
    ]

    missing = run_tgadmin("ensure-superuser", DATABASE_URL=admin_db_url, SECRET_KEY=SECRET_KEY)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        "config error: ADMIN_USERNAME: is required but not set",
        "config error: ADMIN_PASSWORD: is required but not set",
    ]


def test_ensure_superuser_refuses_a_weak_password(admin_db_url: str) -> None:
    env = {"DATABASE_URL": admin_db_url, "SECRET_KEY": SECRET_KEY, "ADMIN_USERNAME": "weakling"}
    short = run_tgadmin("ensure-superuser", **env, ADMIN_PASSWORD="Short-pw-1")
    assert short.returncode == 2
    (line,) = short.stderr.strip().splitlines()
    assert line.startswith("config error: ADMIN_PASSWORD: ")
    assert "12" in line
    common = run_tgadmin("ensure-superuser", **env, ADMIN_PASSWORD="password1234")
    assert common.returncode == 2
    assert common.stderr.strip() == ("config error: ADMIN_PASSWORD: This password is too common.")
    with psycopg.connect(psycopg_url(admin_db_url)) as conn:
        row = conn.execute("SELECT count(*) FROM auth_user WHERE username = 'weakling'").fetchone()
    assert row == (0,)


def test_ensure_superuser_shows_a_development_password_once(
    admin_db_url: str, tmp_path: Path
) -> None:
    password_file = tmp_path / "password"
    password_file.write_text("dev-Passw0rd-1\n")
    env = {
        "DATABASE_URL": admin_db_url,
        "SECRET_KEY": SECRET_KEY,
        "ADMIN_PASSWORD_FILE": str(password_file),
        "ADMIN_SHOW_PASSWORD": "true",
    }
    dev = {**env, "DEBUG": "true", "ADMIN_USERNAME": "devboss"}
    first = run_tgadmin("ensure-superuser", **dev)
    again = run_tgadmin("ensure-superuser", **dev)
    production = run_tgadmin("ensure-superuser", **env, ADMIN_USERNAME="prodboss")

    assert first.stdout.strip().splitlines() == [
        "superuser devboss: created",
        "log in as devboss with password dev-Passw0rd-1",
    ], first.stderr
    assert again.stdout.strip().startswith("superuser devboss: exists, left unchanged")
    assert production.stdout.strip() == "superuser prodboss: created", production.stderr
