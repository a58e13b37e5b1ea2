"""Alembic environment: runs on the connection ``tgbot migrate`` hands over, or opens one."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine, pool

from tgbot.db.models import Base

config = context.config
target_metadata = Base.metadata


# Django's own tables live in the same database; alembic neither owns nor compares them.
DJANGO_TABLE_PREFIXES = ("django_", "auth_", "axes_", "otp_")  # the admin's Django apps


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    if type_ == "table" and name is not None:
        return not name.startswith(DJANGO_TABLE_PREFIXES)
    return True


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        transaction_per_migration=True,
        compare_type=True,
        compare_server_default=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from tgbot.config import MigrateSettings, load_settings, postgres_url_for

        url = postgres_url_for(load_settings(MigrateSettings).direct_database_url)
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as conn:
        run_on(conn)
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `tgbot migrate`")
run_migrations_online()
