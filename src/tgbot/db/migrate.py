"""``tgbot migrate``: alembic upgrade head, serialised across processes by an advisory lock.

Session-level advisory locks need a direct connection to PostgreSQL: behind PgBouncer in
transaction pooling mode the lock and the unlock may land on different server sessions and the
next migrator waits forever. Point ``DATABASE_URL`` of the migrate step at PostgreSQL itself.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, create_engine, pool, text
from sqlalchemy.exc import OperationalError, ProgrammingError
from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_exponential

from tgbot.config import postgres_url_for
from tgbot.schema_revisions import is_newer_schema, schema_problem

log = structlog.get_logger(__name__)

# pg_advisory_lock key: any fixed bigint unique to this application ("tgbot-mi" in ASCII).
MIGRATION_LOCK_KEY = 0x7467626F742D6D69


def alembic_ini_path() -> Path:
    return Path(str(resources.files("tgbot.migrations").joinpath("alembic.ini")))


def alembic_config(database_url: str | None = None) -> Config:
    """An alembic Config that works from an installed wheel (no repo checkout)."""
    cfg = Config(str(alembic_ini_path()))
    cfg.set_main_option("script_location", str(alembic_ini_path().parent))
    if database_url:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        cfg.set_main_option("sqlalchemy.url", postgres_url_for(database_url).replace("%", "%%"))
    return cfg


@functools.cache
def _scripts() -> ScriptDirectory:
    """The migrations this code ships (read once per process)."""
    return ScriptDirectory.from_config(alembic_config())


def head_revisions() -> set[str]:
    return set(_scripts().get_heads())


def known_revisions() -> set[str]:
    """Every revision this code ships, heads included."""
    return {rev.revision for rev in _scripts().walk_revisions()}


def current_revisions(connection: Connection) -> set[str]:
    return set(MigrationContext.configure(connection).get_current_heads())


class DatabaseUnavailable(Exception):
    """PostgreSQL could not be reached; the message is one readable line."""


class SchemaNotReady(Exception):
    """The schema did not reach this code's head in time; the message is one readable line."""


class RolesRefused(Exception):
    """PostgreSQL refused to create or grant the roles; the message is one readable line."""


@dataclass(frozen=True)
class MigrationResult:
    before: frozenset[str]
    after: frozenset[str]
    waited_for_lock_s: float

    @property
    def changed(self) -> bool:
        return self.before != self.after


def _describe_connect_error(exc: OperationalError) -> str:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    return f"cannot connect to PostgreSQL: {reason}"


LOCK_POLL_SECONDS = 0.2


def _lock(conn: Connection) -> None:
    """Take the migration lock, polling between short transactions.

    A migration that builds an index CONCURRENTLY waits for every transaction older than its
    own; a migrator blocked inside ``pg_advisory_lock`` is such a transaction, waiting in turn
    for the lock the builder holds: PostgreSQL reports a deadlock. Each try here ends its
    transaction at once, so the builder never waits for the queue.
    """
    while True:
        taken = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
        got = bool(taken.scalar())
        conn.commit()
        if got:
            return
        time.sleep(LOCK_POLL_SECONDS)


def migrate(
    database_url: str, *, wait_seconds: float = 0.0, connect_timeout: float = 5.0
) -> MigrationResult:
    """Upgrade to head. Concurrent callers queue on the lock; later ones find nothing to do."""
    engine = create_engine(
        postgres_url_for(database_url),
        poolclass=pool.NullPool,
        connect_args={"connect_timeout": max(1, int(connect_timeout))},
    )

    @retry(
        retry=retry_if_exception_type(OperationalError),
        stop=stop_after_delay(wait_seconds),
        wait=wait_exponential(multiplier=0.2, max=2),
        reraise=True,
    )
    def connect() -> Connection:
        return engine.connect()

    try:
        try:
            conn = connect()
        except OperationalError as exc:
            raise DatabaseUnavailable(_describe_connect_error(exc)) from None
        with conn:
            heads = head_revisions()
            before = current_revisions(conn)
            conn.rollback()
            if before == heads:
                log.info("migrate.up_to_date", revision=sorted(heads))
                return MigrationResult(frozenset(before), frozenset(before), 0.0)
            if is_newer_schema(before, known_revisions()):
                # A later release migrated this database and this one is being rolled back to:
                # expand/contract keeps it compatible, and alembic could not go "up" from there.
                log.warning("migrate.schema_newer", current=sorted(before), head=sorted(heads))
                return MigrationResult(frozenset(before), frozenset(before), 0.0)
            started = time.monotonic()
            _lock(conn)
            waited = time.monotonic() - started
            try:
                locked_before = current_revisions(conn)
                conn.rollback()
                if locked_before != heads:
                    log.info("migrate.upgrading", current=sorted(locked_before), head=sorted(heads))
                    cfg = alembic_config()
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
                    conn.commit()
                after = current_revisions(conn)
                conn.rollback()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": MIGRATION_LOCK_KEY})
                conn.commit()
            log.info(
                "migrate.done",
                revision=sorted(after),
                applied=locked_before != after,
                waited_for_lock_s=round(waited, 3),
            )
            return MigrationResult(frozenset(locked_before), frozenset(after), waited)
    finally:
        engine.dispose()


def wait_for_schema(
    database_url: str, *, wait_seconds: float, connect_timeout: float = 5.0, poll: float = 2.0
) -> None:
    """Wait, without migrating, until the schema is one this code runs on (its head, or a later
    release's): for a process whose database user may not migrate, such as the bot's and the
    dispatcher's init containers under the least-privilege role, while the release Job migrates.
    Connection and permission errors count as "not yet" (the Job may still be creating the user).
    """
    engine = create_engine(
        postgres_url_for(database_url),
        poolclass=pool.NullPool,
        connect_args={"connect_timeout": max(1, int(connect_timeout))},
    )
    deadline = time.monotonic() + wait_seconds
    try:
        while True:
            try:
                with engine.connect() as conn:
                    current = current_revisions(conn)
                problem = schema_problem(current, head_revisions(), known_revisions())
            except OperationalError as exc:
                problem = _describe_connect_error(exc)
            except ProgrammingError as exc:
                reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                problem = f"cannot read the schema version: {reason}"
            if problem is None:
                log.info("migrate.schema_ready", revision=sorted(current))
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise SchemaNotReady(problem)
            log.info("migrate.waiting_for_schema", problem=problem)
            time.sleep(min(poll, left))
    finally:
        engine.dispose()


def grant_roles(
    database_url: str, *, logins: dict[str, str] | None = None, connect_timeout: float = 5.0
) -> None:
    """Create the least-privilege group roles and grant them (:mod:`tgbot.db.roles`); then
    create or update a login user for each ``{group role: URL naming the user}`` in ``logins``."""
    from tgbot.db.roles import ensure_login_user, ensure_roles

    engine = create_engine(
        postgres_url_for(database_url),
        poolclass=pool.NullPool,
        connect_args={"connect_timeout": max(1, int(connect_timeout))},
    )
    try:
        with engine.begin() as conn:
            ensure_roles(conn)
            users = [ensure_login_user(conn, url, group) for group, url in (logins or {}).items()]
    except OperationalError as exc:
        raise DatabaseUnavailable(_describe_connect_error(exc)) from None
    except ProgrammingError as exc:  # e.g. no CREATEROLE: say so in one line
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise RolesRefused(f"cannot create or grant the roles: {reason}") from None
    except ValueError as exc:
        raise RolesRefused(str(exc)) from None
    finally:
        engine.dispose()
    log.info("migrate.roles_granted", login_users=users)
