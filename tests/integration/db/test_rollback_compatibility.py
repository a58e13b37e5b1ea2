"""A rollback meets a schema from a later release: the older code migrates nothing and is ready.

Expand/contract (docs/operations.md) keeps a release's migration compatible with the previous
release, so `tgbot migrate` of the older release leaves an unknown, newer revision alone and its
readiness accepts it; an older (known) revision still means "run tgbot migrate".
"""

from __future__ import annotations

import asyncio

import psycopg
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import create_async_engine

from tests.integration.db.test_migrations import alembic_revision
from tests.support.processes import run_tgbot
from tests.support.services import psycopg_url
from tgbot.config import postgres_url_for
from tgbot.db.migrate import head_revisions, known_revisions, migrate
from tgbot.web.health import Readiness

LATER_RELEASE = "f00dcafe0003"  # a revision this code has never seen


def set_revision(url: str, revision: str) -> None:
    with psycopg.connect(psycopg_url(url)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = %s", (revision,))


def readiness_of(url: str, redis_url: str) -> str | None:
    async def check() -> str | None:
        engine = create_async_engine(postgres_url_for(url))
        redis = Redis.from_url(redis_url)
        try:
            readiness = Readiness(
                engine=engine,
                redis=redis,
                expected_heads=head_revisions(),
                known_revisions=known_revisions(),
            )
            return await readiness._database()
        finally:
            await redis.aclose()
            await engine.dispose()

    return asyncio.run(check())


def test_older_release_leaves_a_newer_schema_alone_and_is_ready(
    cli_env: dict[str, str], redis_url: str
) -> None:
    url = cli_env["DATABASE_URL"]
    migrate(url)
    set_revision(url, LATER_RELEASE)

    result = run_tgbot("migrate", env=cli_env)
    assert result.returncode == 0, result.stderr
    assert '"event": "migrate.schema_newer"' in result.stdout + result.stderr
    assert alembic_revision(url) == {LATER_RELEASE}
    assert readiness_of(url, redis_url) is None


def test_a_schema_behind_the_code_is_not_ready_until_migrated(
    cli_env: dict[str, str], redis_url: str
) -> None:
    url = cli_env["DATABASE_URL"]
    migrate(url)
    older = sorted(known_revisions() - head_revisions())[0]
    set_revision(url, older)

    problem = readiness_of(url, redis_url)
    assert problem is not None
    assert problem.startswith(f"schema at ['{older}'], behind")
    assert "run tgbot migrate" in problem
