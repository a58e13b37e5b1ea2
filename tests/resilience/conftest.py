"""Fixtures of the resilience scenarios: a patient sandbox process (it retries a webhook as long
as Telegram would) and bot replicas stopped at the end. A migrated database each and clean Redis
come from tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.integration.bot.conftest import SandboxProcess, start_sandbox_process
from tests.resilience.harness import PATIENT_SANDBOX, Replica, scale, start_replica

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each scenario may run as long as its scale needs (RESILIENCE_SCALE)."""
    for item in items:
        if Path(str(item.fspath)).parent == HERE and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(scale().test_timeout))


@pytest.fixture
def patient_sandbox(tmp_path: Path) -> Iterator[SandboxProcess]:
    handle = start_sandbox_process(tmp_path, **PATIENT_SANDBOX)
    yield handle
    handle.process.stop()


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
