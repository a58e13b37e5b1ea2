"""Fixtures of the resilience scenarios: a migrated database each, clean Redis, a patient sandbox
process (it retries a webhook as long as Telegram would), bot replicas stopped at the end."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from tests.integration.bot.conftest import SandboxProcess, start_sandbox_process
from tests.resilience.harness import PATIENT_SANDBOX, Replica, start_replica


@pytest.fixture
def scenario_db_url(fresh_db_url: str) -> str:
    from tgbot.db.migrate import migrate

    migrate(fresh_db_url)
    return fresh_db_url


@pytest.fixture
def clean_redis(redis_url: str) -> str:
    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    client.close()
    return redis_url


@pytest.fixture
def patient_sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    handle = start_sandbox_process(tmp_path, **PATIENT_SANDBOX)
    yield handle
    handle.process.stop()


ReplicaFactory = Callable[[str, str], Replica]


@pytest.fixture
def replicas(tmp_path: Path, patient_sandbox: SandboxProcess) -> Iterator[Callable[..., Replica]]:
    """``replicas(db_url, redis_url, **settings)`` starts one more bot; all stop at the end."""
    started: list[Replica] = []

    def start(db_url: str, redis_url: str, **settings: str) -> Replica:
        replica = start_replica(tmp_path, db_url, redis_url, patient_sandbox, **settings)
        started.append(replica)
        return replica

    yield start
    for replica in started:
        replica.bot.process.stop()
