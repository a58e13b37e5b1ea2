"""Least-privilege roles on real PostgreSQL: each can do its job and none of the forbidden things.

The database is migrated as a deployment does it: ``tgbot migrate --roles`` with a URL per
service (twice: idempotent, and a changed password follows), then ``tgadmin migrate`` as the same
migrator; each service's URL then connects as its own user.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import errors, sql

from tests.support.services import psycopg_url

Check = Callable[[psycopg.Connection[tuple[object, ...]]], object]


def console_script(name: str) -> str:
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"the {name} console script is not installed (uv sync)"
    return found


def run(command: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG"}}
    return subprocess.run(
        command, env={**keep, **env}, capture_output=True, text=True, timeout=180, check=False
    )


def as_user(url: str, user: str, password: str) -> str:
    parts = urlsplit(psycopg_url(url))
    host = parts.netloc.rsplit("@", 1)[-1]
    return urlunsplit(parts._replace(netloc=f"{user}:{quote(password, safe='')}@{host}"))


@pytest.fixture(scope="module")
def roles_db(pg_server: object) -> Iterator[dict[str, str]]:
    """A database migrated with roles, and the login URL `tgbot migrate --roles` made per group."""
    url = pg_server.create_database("tgroles")  # type: ignore[attr-defined]
    suffix = secrets.token_hex(3)
    logins = {
        group: as_user(url, f"{group}_{suffix}", secrets.token_urlsafe(12) + "'%@")
        for group in ("tgbot_app", "tgbot_panel", "tgbot_readonly")
    }
    env = {
        "DATABASE_URL": url,
        "APP_DATABASE_URL": logins["tgbot_app"],
        "PANEL_DATABASE_URL": logins["tgbot_panel"],
        "READONLY_DATABASE_URL": logins["tgbot_readonly"],
    }
    first = run([console_script("tgbot"), "migrate", "--roles"], **env)
    assert first.returncode == 0, first.stderr
    # Again, with a new password for the bot's user: idempotent, and the password follows.
    logins["tgbot_app"] = as_user(url, f"tgbot_app_{suffix}", secrets.token_urlsafe(12))
    again = run(
        [console_script("tgbot"), "migrate", "--roles"],
        **{**env, "APP_DATABASE_URL": logins["tgbot_app"]},
    )
    assert again.returncode == 0, again.stderr
    assert "'%@" not in first.stdout + first.stderr + again.stdout + again.stderr
    django = run(
        [console_script("tgadmin"), "migrate", "--no-input"],
        DATABASE_URL=url,
        SECRET_KEY=secrets.token_urlsafe(50),
    )
    assert django.returncode == 0, django.stderr
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        # A table the migrator adds later (a future Django migration): default privileges.
        conn.execute("CREATE TABLE django_later (id bigserial PRIMARY KEY, note text)")
    yield {"owner": url, **logins}
    pg_server.drop_database(url)  # type: ignore[attr-defined]
    with psycopg.connect(psycopg_url(url).rsplit("/", 1)[0] + "/postgres", autocommit=True) as c:
        for group in logins:
            c.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(f"{group}_{suffix}")))


def allowed(url: str, statement: str) -> bool:
    """Whether ``statement`` runs for this login (rolled back either way)."""
    with psycopg.connect(url) as conn:
        try:
            conn.execute(statement)  # type: ignore[arg-type]
        except errors.InsufficientPrivilege:
            return False
        finally:
            conn.rollback()
    return True


SEED_USER = (
    "INSERT INTO tg_users (telegram_id, first_name, language) VALUES (77, 'Ann', 'en')"
    " ON CONFLICT DO NOTHING"
)
OUTBOX = (
    "INSERT INTO outbox (chat_id, method, payload, idempotency_key)"
    " VALUES (77, 'sendMessage', '{}'::jsonb, md5(random()::text))"
)
AUDIT = (
    "INSERT INTO admin_audit_log (admin_username, action, object_type, object_id, details)"
    " VALUES ('x', 'ban', 'panel.telegramuser', '77', '{}'::jsonb)"
)


def test_the_bot_reads_and_writes_its_tables_only(roles_db: dict[str, str]) -> None:
    bot = roles_db["tgbot_app"]
    assert allowed(bot, SEED_USER)
    assert allowed(bot, f"{SEED_USER}; {OUTBOX}")  # the sequence behind outbox.id too
    assert allowed(bot, "UPDATE tg_users SET is_blocked = true WHERE telegram_id = 77")
    assert allowed(bot, "SELECT version_num FROM alembic_version")
    for forbidden in (
        "SELECT * FROM auth_user",
        "SELECT * FROM django_session",
        "SELECT * FROM axes_accessattempt",
        "SELECT * FROM django_otp_webauthn_webauthncredential",
        "SELECT * FROM django_later",
        AUDIT,
        "SELECT * FROM admin_audit_log",
        "UPDATE alembic_version SET version_num = 'x'",
        "TRUNCATE tg_users",
        "DROP TABLE tg_users",
        "CREATE TABLE mine (id int)",
    ):
        assert not allowed(bot, forbidden), forbidden


def test_the_panel_writes_what_it_writes_and_only_appends_to_the_audit_log(
    roles_db: dict[str, str],
) -> None:
    panel = roles_db["tgbot_panel"]
    assert allowed(panel, "SELECT * FROM auth_user")
    assert allowed(panel, "INSERT INTO auth_group (name) VALUES ('support')")
    assert allowed(panel, "DELETE FROM django_session")
    assert allowed(panel, f"{SEED_USER}; UPDATE tg_users SET is_banned = true")
    assert allowed(panel, f"{SEED_USER}; {OUTBOX}")
    assert allowed(panel, AUDIT)
    assert allowed(panel, "SELECT * FROM admin_audit_log")
    assert allowed(panel, "INSERT INTO django_later (note) VALUES ('later')")
    # Security keys (django-otp-webauthn's tables): a user's handle, a key's counter, removal.
    assert allowed(
        panel,
        "INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email,"
        " is_staff, is_active, date_joined) VALUES ('x', false, 'keyholder', '', '', '', true,"
        " true, now()); INSERT INTO django_otp_webauthn_webauthnuserhandle (handle_hex, user_id)"
        " SELECT md5('keyholder'), id FROM auth_user WHERE username = 'keyholder'",
    )
    assert allowed(panel, "UPDATE django_otp_webauthn_webauthncredential SET sign_count = 1")
    assert allowed(panel, "DELETE FROM django_otp_webauthn_webauthncredential")
    for forbidden in (
        "UPDATE admin_audit_log SET action = 'nothing'",
        "DELETE FROM admin_audit_log",
        "TRUNCATE admin_audit_log",
        "UPDATE alembic_version SET version_num = 'x'",
        "DROP TABLE tg_users",
        "CREATE TABLE mine (id int)",
        "ALTER TABLE tg_users ADD COLUMN x int",
    ):
        assert not allowed(panel, forbidden), forbidden


def test_backups_read_everything_and_write_nothing(roles_db: dict[str, str]) -> None:
    backup = roles_db["tgbot_readonly"]
    for table in ("tg_users", "auth_user", "django_session", "admin_audit_log", "django_later"):
        assert allowed(backup, f"SELECT * FROM {table}"), table
    for forbidden in (SEED_USER, AUDIT, "DELETE FROM auth_user", "CREATE TABLE mine (id int)"):
        assert not allowed(backup, forbidden), forbidden


def test_the_migrator_keeps_everything(roles_db: dict[str, str]) -> None:
    owner = psycopg_url(roles_db["owner"])
    assert allowed(owner, "UPDATE admin_audit_log SET action = action")
    assert allowed(owner, "ALTER TABLE tg_users ADD COLUMN x int")


def test_a_managed_database_migrator_without_createrole(roles_db: dict[str, str]) -> None:
    """A database owner that may not create roles (a managed database's usual user): with the
    group roles made beforehand (they exist here: roles_db made them), migrate --roles grants;
    a missing role is refused in one line."""
    admin_url = psycopg_url(roles_db["owner"]).rsplit("/", 1)[0] + "/postgres"
    owner, password = f"owner_{secrets.token_hex(3)}", secrets.token_urlsafe(12)
    database = f"managed_{secrets.token_hex(3)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOCREATEROLE PASSWORD {}").format(
                sql.Identifier(owner), sql.Literal(password)
            )
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(owner)
            )
        )
    try:
        url = as_user(admin_url.rsplit("/", 1)[0] + f"/{database}", owner, password)
        done = run([console_script("tgbot"), "migrate", "--roles"], DATABASE_URL=url)
        assert done.returncode == 0, done.stderr
        bot_login = roles_db["tgbot_app"].rsplit("/", 1)[0] + f"/{database}"
        assert allowed(bot_login, SEED_USER)
        assert not allowed(bot_login, "CREATE TABLE mine (id int)")

        refused = run(
            [console_script("tgbot"), "migrate", "--roles"],
            DATABASE_URL=url,
            APP_DATABASE_URL=as_user(url, f"newcomer_{secrets.token_hex(3)}", "pw-newcomer-1"),
        )
        assert refused.returncode == 1
        (line,) = refused.stderr.strip().splitlines()
        assert line.startswith("tgbot migrate: cannot create or grant the roles: permission denied")
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
            )
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(owner)))


def test_the_bots_init_container_waits_for_the_schema_without_migrating(
    roles_db: dict[str, str], fresh_db_url: str
) -> None:
    """The bot's user may not migrate: its pods' init containers only wait for the release Job
    (`tgbot migrate --no-upgrade`), which passes at once on a migrated database ..."""
    ready = run(
        [console_script("tgbot"), "migrate", "--wait", "5", "--no-upgrade"],
        DATABASE_URL=roles_db["tgbot_app"],
    )
    assert ready.returncode == 0, ready.stderr
    # ... and on an unmigrated one gives up after --wait with one line, having created nothing.
    waiting = run(
        [console_script("tgbot"), "migrate", "--wait", "1", "--no-upgrade"],
        DATABASE_URL=fresh_db_url,
    )
    assert waiting.returncode == 3
    (line,) = waiting.stderr.strip().splitlines()
    assert line == "tgbot migrate --no-upgrade: schema not migrated: run tgbot migrate"
    with psycopg.connect(psycopg_url(fresh_db_url)) as conn:
        tables = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables.fetchone() == (0,)


def test_retention_runs_as_the_panels_user(roles_db: dict[str, str]) -> None:
    """`tgadmin purge-messages` on its schedule runs with the admin's URL (tgbot_panel): it
    deletes old messages, the outbox rows pointing at them keep going (SET NULL)."""
    owner = psycopg_url(roles_db["owner"])
    with psycopg.connect(owner) as conn:
        conn.execute(SEED_USER)
        conv = conn.execute(
            "INSERT INTO conversations (user_id, status) VALUES (77, 'closed') RETURNING id"
        ).fetchone()
        assert conv is not None
        ids = [
            conn.execute(
                "INSERT INTO messages (conversation_id, direction, content_type, text, created_at)"
                " VALUES (%s, 'in', 'text', %s, now() - make_interval(days => %s)) RETURNING id",
                (conv[0], text, age),
            ).fetchone()
            for text, age in (("old one", 40), ("old two", 31), ("recent", 29))
        ]
        old_id = ids[0][0]  # type: ignore[index]
        conn.execute(
            "INSERT INTO outbox (chat_id, method, payload, idempotency_key, message_id)"
            " VALUES (77, 'sendMessage', '{}'::jsonb, md5(random()::text), %s)",
            (old_id,),
        )
    done = run(
        [console_script("tgadmin"), "purge-messages", "--batch-size", "1"],
        DATABASE_URL=roles_db["tgbot_panel"],
        SECRET_KEY=secrets.token_urlsafe(50),
        MESSAGE_RETENTION_DAYS="30",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "deleted 2 message(s) older than 30 day(s)"
    with psycopg.connect(owner) as conn:
        left = conn.execute(
            "SELECT text FROM messages WHERE conversation_id = %s", (conv[0],)
        ).fetchall()
        assert left == [("recent",)]
        pointing = conn.execute("SELECT count(*) FROM outbox WHERE message_id = %s", (old_id,))
        assert pointing.fetchone() == (0,)
