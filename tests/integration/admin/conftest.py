"""Django for the admin tests: settings from a controlled environment, the harness's database.

Django is set up at import (settings only, no connection); the session fixture then points the
connection at a database of its own at alembic head and runs ``migrate`` for Django's tables.
Each test runs in a transaction that is rolled back.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import django
import pytest

from tests.support import services

SECRET_KEY = secrets.token_urlsafe(50)
PLACEHOLDER_URL = "postgresql://placeholder@127.0.0.1:1/placeholder"
SETTINGS_ENV = {
    "DJANGO_SETTINGS_MODULE": "tgadmin.settings.test",
    "SECRET_KEY": SECRET_KEY,
    "DATABASE_URL": PLACEHOLDER_URL,
    "DEBUG": "false",
    "LANGUAGE_CODE": "en",
    "BEHIND_TLS": "false",
}


@contextmanager
def patched_environ(values: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _setup_django() -> None:
    from django.conf import settings

    if settings.configured:
        return
    from tgadmin.config import settings_from_environment

    with patched_environ(SETTINGS_ENV):
        settings_from_environment.cache_clear()
        django.setup()


_setup_django()


def tgadmin_executable() -> str:
    """The installed ``tgadmin`` console script of this environment."""
    beside = Path(sys.executable).with_name("tgadmin")
    found = str(beside) if beside.exists() else shutil.which("tgadmin")
    assert found, "the tgadmin console script is not installed (uv sync)"
    return found


def run_tgadmin(*args: str, env: dict[str, str]) -> None:
    """Run one ``tgadmin`` command to completion; fail the test with its stderr otherwise."""
    result = subprocess.run(
        [tgadmin_executable(), *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def prepared_panel_env(
    db_url: str, static_root: str, *, username: str, password: str
) -> dict[str, str]:
    """Migrate ``db_url`` (bot schema, then Django's) and create the superuser, as a deployment's
    one-shots do; returns the environment to serve the panel with."""
    from tgbot.db.migrate import migrate

    migrate(db_url)
    env = base_env(
        DATABASE_URL=db_url,
        SECRET_KEY=SECRET_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        STATIC_ROOT=static_root,
        ADMIN_USERNAME=username,
        ADMIN_PASSWORD=password,
    )
    run_tgadmin("migrate", "--no-input", env=env)
    run_tgadmin("ensure-superuser", env=env)
    return env


def base_env(**values: str) -> dict[str, str]:
    """The environment for a tgadmin subprocess: no inherited settings, only ``values``."""
    drop = {
        "DATABASE_URL",
        "SECRET_KEY",
        "DEBUG",
        "DJANGO_SETTINGS_MODULE",
        "ALLOWED_HOSTS",
        "ADMIN_URL_PREFIX",
        "BEHIND_TLS",
        "REDIS_URL",
    }
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.endswith("_FILE")}
    env.update(values)
    return env


@pytest.fixture(scope="session")
def admin_db_url(pg_server: services.PostgresServer) -> Iterator[str]:
    """A database at alembic head plus Django's own tables; Django's connection uses it.

    Its own database rather than the shared ``migrated_db_url``: Django's tables there would show
    up as drift in ``alembic check`` (tests/integration/db) for the rest of the session.
    """
    from django.core.management import call_command
    from django.db import connections

    from tgadmin.dburl import database_settings
    from tgbot.db.migrate import migrate

    url = pg_server.create_database("tgadmin")
    migrate(url)
    connection = connections["default"]
    connection.close()
    connection.settings_dict.update(database_settings(url))
    call_command("migrate", verbosity=0, interactive=False)
    yield url
    connections.close_all()
    pg_server.drop_database(url)


@pytest.fixture
def db(admin_db_url: str) -> Iterator[None]:
    """One rolled-back transaction per test."""
    from django.db import transaction

    atomic = transaction.atomic()
    atomic.__enter__()
    try:
        yield
    finally:
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture(scope="session")
def static_root(admin_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """``collectstatic`` output, as production serves it (hashed, compressed names)."""
    root = str(tmp_path_factory.mktemp("static"))
    result = subprocess.run(
        [tgadmin_executable(), "collectstatic", "--no-input", "-v", "0"],
        env=base_env(DATABASE_URL=admin_db_url, SECRET_KEY=SECRET_KEY, STATIC_ROOT=root),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return root
