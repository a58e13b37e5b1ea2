"""Fixtures of the schema tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def cli_env(fresh_db_url: str) -> dict[str, str]:
    """The environment of a ``tgbot`` command against a fresh, empty database."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env["DATABASE_URL"] = fresh_db_url
    env["LOG_FORMAT"] = "json"
    return env
