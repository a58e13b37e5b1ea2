"""Least-privilege database roles: ``tgbot migrate --roles`` creates and grants them, idempotently.

Three NOLOGIN group roles; each service logs in as a user that is a member of one (docs/security.md
shows the ``CREATE ROLE ... LOGIN IN ROLE ...`` lines, also for a managed database):

- ``tgbot_app`` — the bot and the dispatcher: read and write the bot's own tables (the alembic
  models, the audit log excepted), read ``alembic_version``; nothing of Django's (``auth_*``,
  ``django_session``, ...).
- ``tgbot_panel`` — the admin panel: read and write every table, except that the audit log takes
  INSERT only (no UPDATE, DELETE or TRUNCATE) and ``alembic_version`` is read-only.
- ``tgbot_readonly`` — backups: SELECT on every table and sequence.

The migrator — the user running this, which owns the schema because it ran the migrations — keeps
DDL for itself. Default privileges give the panel and the backups the tables the migrator creates
later (Django's, when ``tgadmin migrate`` runs as the same user); the bot's grants are recomputed
from the models on every run, so a table leaving the models loses them.
"""

from __future__ import annotations

from sqlalchemy import Connection, make_url, text

from tgbot.db.models import Base

APP_ROLE = "tgbot_app"
PANEL_ROLE = "tgbot_panel"
READONLY_ROLE = "tgbot_readonly"
GROUP_ROLES = (APP_ROLE, PANEL_ROLE, READONLY_ROLE)
AUDIT_TABLE = "admin_audit_log"
VERSION_TABLE = "alembic_version"
# Any fixed bigint: two migrators granting at once queue instead of racing on CREATE ROLE.
ROLES_LOCK_KEY = 0x7467626F742D726C  # "tgbot-rl"


def bot_tables() -> list[str]:
    """The tables the bot and the dispatcher may read and write."""
    return sorted(t.name for t in Base.metadata.sorted_tables if t.name != AUDIT_TABLE)


def _quote(conn: Connection, name: str) -> str:
    return str(conn.dialect.identifier_preparer.quote(name))


def _sequences_of(conn: Connection, tables: list[str]) -> list[str]:
    """Sequences behind the serial and identity columns of ``tables``."""
    rows = conn.execute(
        text(
            """
            SELECT DISTINCT s.relname
            FROM pg_class s
            JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
                            AND d.deptype IN ('a', 'i')
            JOIN pg_class t ON t.oid = d.refobjid
            WHERE s.relkind = 'S' AND s.relnamespace = current_schema()::regnamespace
              AND t.relname = ANY(:tables)
            ORDER BY 1
            """
        ),
        {"tables": tables},
    )
    return [name for (name,) in rows]


def ensure_roles(conn: Connection) -> None:
    """Create the group roles if missing and (re)grant everything, in one transaction."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ROLES_LOCK_KEY})
    for role in GROUP_ROLES:
        exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
        if exists.first() is None:
            conn.execute(text(f"CREATE ROLE {_quote(conn, role)} NOLOGIN"))
    app, panel, readonly = (_quote(conn, r) for r in GROUP_ROLES)
    schema = _quote(conn, conn.execute(text("SELECT current_schema()")).scalar_one())
    existing = set(
        conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
    )
    mine = [t for t in bot_tables() if t in existing]
    owns_schema = conn.execute(
        text(
            "SELECT pg_has_role(current_user, nspowner, 'USAGE') FROM pg_namespace"
            " WHERE nspname = current_schema()"
        )
    ).scalar_one()
    # Schema privileges need its owner (on a managed database the schema may be another's; its
    # default lets everyone use it, and PostgreSQL 15+ lets only the owner create in it).
    schema_statements = [
        f"REVOKE CREATE ON SCHEMA {schema} FROM PUBLIC",
        f"GRANT USAGE ON SCHEMA {schema} TO {app}, {panel}, {readonly}",
    ]
    statements = [
        *(schema_statements if owns_schema else []),
        # Backups: read everything, now and later.
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {readonly}",
        f"GRANT SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {readonly}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {readonly}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON SEQUENCES TO {readonly}",
        # The panel: read and write, now and later ...
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {panel}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {panel}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}"
        f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {panel}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT USAGE, SELECT ON SEQUENCES TO {panel}",
        # The bot: its own tables only, recomputed from the models.
        f"REVOKE ALL ON ALL TABLES IN SCHEMA {schema} FROM {app}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {schema} FROM {app}",
    ]
    for table in mine:
        statements.append(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {_quote(conn, table)} TO {app}")
    for sequence in _sequences_of(conn, mine):
        statements.append(f"GRANT USAGE, SELECT ON SEQUENCE {_quote(conn, sequence)} TO {app}")
    # ... but the audit log is insert-only and the schema version read-only for everyone but
    # the owner.
    if AUDIT_TABLE in existing:
        statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE ON {AUDIT_TABLE} FROM {panel}")
    if VERSION_TABLE in existing:
        statements.append(
            f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON {VERSION_TABLE} FROM {panel}"
        )
        statements.append(f"GRANT SELECT ON {VERSION_TABLE} TO {app}")
    for statement in statements:
        conn.execute(text(statement))


def ensure_login_user(conn: Connection, url: str, group: str) -> str:
    """Create the user named in ``url`` (or set its password) as a LOGIN member of ``group``;
    returns the user name. The password never reaches a log: it is quoted by the server."""
    parsed = make_url(url)
    user, password = parsed.username, parsed.password
    if not user or not password:
        raise ValueError(f"the URL for {group} needs a user name and a password")
    literal = conn.execute(text("SELECT quote_literal(:p)"), {"p": str(password)}).scalar_one()
    name = _quote(conn, user)
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": user}).first()
    verb = "ALTER" if exists else "CREATE"
    conn.execute(text(f"{verb} ROLE {name} WITH LOGIN INHERIT PASSWORD {literal}"))
    conn.execute(text(f"GRANT {_quote(conn, group)} TO {name}"))
    return user
