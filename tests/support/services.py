"""Real PostgreSQL and Redis for tests: testcontainers, or servers named by TEST_*_URL.

- ``TEST_DATABASE_URL``: an existing server (and a database to connect to); each test session
  creates fresh databases there and drops them afterwards. The role needs CREATEDB.
- ``TEST_REDIS_URL``: an existing Redis; the database it names is flushed by the tests.
- Otherwise a Docker engine is used (``TEST_POSTGRES_IMAGE``, default ``postgres:17``;
  ``TEST_REDIS_IMAGE``, default ``redis:7``).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from tests.support.waiting import wait_until

POSTGRES_IMAGE = os.environ.get("TEST_POSTGRES_IMAGE", "postgres:17")
REDIS_IMAGE = os.environ.get("TEST_REDIS_IMAGE", "redis:7")
UNAVAILABLE_REASON = (
    "integration tests need PostgreSQL and Redis: no Docker engine is reachable and "
    "TEST_DATABASE_URL / TEST_REDIS_URL are not set"
)


def docker_available() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=5)
        client.ping()
        client.close()
    except Exception:
        return False
    return True


def with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def psycopg_url(url: str) -> str:
    """psycopg wants plain ``postgresql://``; tolerate SQLAlchemy's ``postgresql+psycopg://``."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


@dataclass
class PostgresServer:
    """A PostgreSQL server the tests may create databases on."""

    url: str  # connects to a maintenance database
    created: list[str] = field(default_factory=list)

    def create_database(self, prefix: str = "tgtest") -> str:
        name = f"{prefix}_{secrets.token_hex(4)}"
        with psycopg.connect(psycopg_url(self.url), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        self.created.append(name)
        return with_database(self.url, name)

    def drop_database(self, url: str) -> None:
        name = urlsplit(url).path.lstrip("/")
        with psycopg.connect(psycopg_url(self.url), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        if name in self.created:
            self.created.remove(name)

    def drop_all(self) -> None:
        for name in list(self.created):
            self.drop_database(with_database(self.url, name))


def _wait_for_postgres(url: str, timeout: float = 60.0) -> None:
    def ready() -> bool:
        with psycopg.connect(psycopg_url(url), connect_timeout=2) as conn:
            conn.execute("SELECT 1")
        return True

    wait_until(ready, timeout=timeout, interval=0.25, what=f"PostgreSQL at {url}")


def _wait_for_redis(url: str, timeout: float = 30.0) -> None:
    import redis

    def ready() -> bool:
        client = redis.Redis.from_url(url, socket_connect_timeout=2)
        try:
            return bool(client.ping())
        finally:
            client.close()

    wait_until(ready, timeout=timeout, interval=0.1, what=f"Redis at {url}")


@contextmanager
def postgres_container(
    image: str = POSTGRES_IMAGE, host_port: int | None = None
) -> Iterator[tuple[str, Any]]:
    """Start PostgreSQL in Docker; yield (maintenance URL, container).

    With ``host_port`` the mapping is fixed, so the container can be stopped and started again.
    """
    from testcontainers.core.container import DockerContainer

    container = (
        DockerContainer(image)
        .with_env("POSTGRES_USER", "test")
        .with_env("POSTGRES_PASSWORD", "test")
        .with_env("POSTGRES_DB", "postgres")
        .with_exposed_ports(5432)
        .with_command("postgres -c fsync=off -c full_page_writes=off -c max_connections=300")
    )
    if host_port is not None:
        container = container.with_bind_ports(5432, host_port)
    container.start()
    try:
        host = container.get_container_host_ip()
        port = container.get_exposed_port(5432)
        url = f"postgresql://test:test@{host}:{port}/postgres"
        _wait_for_postgres(url)
        yield url, container
    finally:
        container.stop()


@contextmanager
def redis_container(
    image: str = REDIS_IMAGE, host_port: int | None = None
) -> Iterator[tuple[str, Any]]:
    """Start Redis in Docker; yield (URL, container). ``host_port`` as for PostgreSQL."""
    from testcontainers.core.container import DockerContainer

    container = DockerContainer(image).with_exposed_ports(6379)
    if host_port is not None:
        container = container.with_bind_ports(6379, host_port)
    container.start()
    try:
        host = container.get_container_host_ip()
        port = container.get_exposed_port(6379)
        url = f"redis://{host}:{port}/0"
        _wait_for_redis(url)
        yield url, container
    finally:
        container.stop()


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        _wait_for_postgres(url, timeout=10)
        server = PostgresServer(psycopg_url(url))
        try:
            yield server
        finally:
            server.drop_all()
        return
    with postgres_container() as (container_url, _):
        yield PostgresServer(container_url)


@contextmanager
def redis_server() -> Iterator[str]:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        _wait_for_redis(url, timeout=10)
        yield url
        return
    with redis_container() as (container_url, _):
        yield container_url


def services_available() -> bool:
    have_urls = bool(os.environ.get("TEST_DATABASE_URL") and os.environ.get("TEST_REDIS_URL"))
    return have_urls or docker_available()
