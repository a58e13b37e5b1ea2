"""Fixtures of the delivery tests: a migrated database each, clean Redis (tests/conftest.py),
a reset sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.integration.delivery.harness import Db, Launcher, SandboxControl
from tests.support.sandbox import sandbox  # noqa: F401 - the shared sandbox fixture


@pytest.fixture
def delivery_db_url(fresh_migrated_db_url: str) -> str:
    return fresh_migrated_db_url


@pytest.fixture
def db(delivery_db_url: str) -> Db:
    return Db(delivery_db_url)


@pytest.fixture
async def control(sandbox) -> AsyncIterator[SandboxControl]:  # type: ignore[no-untyped-def]  # noqa: F811
    ctl = SandboxControl(sandbox.base_url)
    await ctl.reset()
    yield ctl
    await ctl.reset()


@pytest.fixture
def launch(
    delivery_db_url: str,
    clean_redis: str,
    sandbox,  # type: ignore[no-untyped-def]  # noqa: F811
    control: SandboxControl,
    tmp_path: Path,
) -> Iterator[Launcher]:
    launcher = Launcher(delivery_db_url, clean_redis, sandbox.base_url, sandbox.token, tmp_path)
    yield launcher
    launcher.stop_all()
