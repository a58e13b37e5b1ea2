"""Shared fixtures: real PostgreSQL and Redis for integration tests (see tests/support/services.py).

Set ``TEST_FORBID_SKIPS=1`` (``.ci/run`` does) to turn every skipped test into a failed run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import services
from tests.support.processes import free_port

INTEGRATION_DIR = Path(__file__).parent / "integration"
_skipped: list[str] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if INTEGRATION_DIR in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _skipped and os.environ.get("TEST_FORBID_SKIPS") == "1":
        terminalreporter.write_line(
            f"TEST_FORBID_SKIPS=1: {len(_skipped)} test(s) skipped; a skip is a failure here",
            red=True,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _skipped and os.environ.get("TEST_FORBID_SKIPS") == "1" and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def _services() -> None:
    if not services.services_available():
        pytest.skip(services.UNAVAILABLE_REASON)


@pytest.fixture(scope="session")
def pg_server(_services: None) -> Iterator[services.PostgresServer]:
    with services.postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def redis_url(_services: None) -> Iterator[str]:
    with services.redis_server() as url:
        yield url


@pytest.fixture
def fresh_db_url(pg_server: services.PostgresServer) -> Iterator[str]:
    """An empty database of its own, dropped after the test."""
    url = pg_server.create_database()
    yield url
    pg_server.drop_database(url)


@pytest.fixture
def fresh_migrated_db_url(fresh_db_url: str) -> str:
    """An empty database of its own at alembic head, dropped after the test."""
    from tgbot.db.migrate import migrate

    migrate(fresh_db_url)
    return fresh_db_url


@pytest.fixture
def clean_redis(redis_url: str) -> str:
    """The session's Redis, flushed."""
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    return redis_url


@pytest.fixture(scope="session")
def migrated_db_url(pg_server: services.PostgresServer) -> Iterator[str]:
    """A database at alembic head, shared by the session's tests."""
    from tgbot.db.migrate import migrate

    url = pg_server.create_database("tgmain")
    migrate(url)
    yield url
    pg_server.drop_database(url)


@pytest.fixture
def own_redis(_services: None) -> Iterator[tuple[str, Any]]:
    """Redis of the test's own on a fixed host port, so it can be stopped and started again."""
    if not services.docker_available():
        pytest.skip("stopping Redis needs a Docker engine")
    with services.redis_container(host_port=free_port()) as (url, container):
        yield url, container


@pytest.fixture
def own_postgres(_services: None) -> Iterator[tuple[str, Any]]:
    """PostgreSQL on a fixed host port, so that it can be stopped and started again."""
    if not services.docker_available():
        pytest.skip("stopping PostgreSQL needs a Docker engine")
    from tgbot.db.migrate import migrate

    with services.postgres_container(host_port=free_port()) as (url, container):
        db_url = services.with_database(url, "postgres")
        migrate(db_url)
        yield db_url, container
