"""The running services, for real: every metric the alerts and the dashboard name is exported on
their /metrics, readiness is exported as a metric, and every log line has the shared shape."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.integration.admin.conftest import SECRET_KEY, tgadmin_executable
from tests.integration.admin.conftest import base_env as admin_env
from tests.integration.admin.panel_server import running_panel
from tests.integration.bot.conftest import sandbox, start_bot  # noqa: F401 - the fixture
from tests.support import services
from tests.support.monitoring import exposed_names, referenced_metrics
from tests.support.processes import ServiceProcess, base_env, free_port

SHAPE = ("time", "level", "service", "event")


@dataclass
class Stack:
    metrics: dict[str, str]  # service -> /metrics URL
    logs: dict[str, Path]  # expected `service` field -> log file


@pytest.fixture(scope="module")
def stack(
    pg_server: services.PostgresServer,
    redis_url: str,
    sandbox,  # type: ignore[no-untyped-def]  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    from tgbot.db.migrate import migrate

    tmp = tmp_path_factory.mktemp("stack")
    db_url = pg_server.create_database("tgops")
    migrate(db_url)
    django_migrate = subprocess.run(
        [tgadmin_executable(), "migrate", "--no-input"],
        env=admin_env(DATABASE_URL=db_url, SECRET_KEY=SECRET_KEY),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert django_migrate.returncode == 0, django_migrate.stderr
    (tmp / "tgadmin-migrate.log").write_text(django_migrate.stderr)

    bot = start_bot(tmp, db_url, redis_url, sandbox)
    port = free_port()
    dispatcher = ServiceProcess(
        ["dispatch"],
        base_env(
            DATABASE_URL=db_url,
            REDIS_URL=redis_url,
            TELEGRAM_BOT_TOKEN=sandbox.token,
            TELEGRAM_API_BASE=sandbox.base_url,
            TELEGRAM_API_ALLOW_HTTP="true",
            DISPATCHER_METRICS_HOST="127.0.0.1",
            DISPATCHER_METRICS_PORT=str(port),
            LOG_FORMAT="json",
        ),
        tmp / "dispatcher.log",
    ).start()
    dispatcher_url = f"http://127.0.0.1:{port}"
    try:
        dispatcher.wait_http(f"{dispatcher_url}/healthz", timeout=90)
        env = admin_env(DATABASE_URL=db_url, SECRET_KEY=SECRET_KEY, ALLOWED_HOSTS="127.0.0.1")
        with running_panel(env, tmp / "admin.log") as admin_url:
            yield Stack(
                metrics={
                    "bot": f"{bot.url}/metrics",
                    "dispatcher": f"{dispatcher_url}/metrics",
                    "admin": f"{admin_url}/metrics",
                },
                logs={
                    "tgbot-serve": bot.process.log_path,
                    "tgbot-dispatch": tmp / "dispatcher.log",
                    "tgadmin": tmp / "admin.log",
                },
            )
    finally:
        dispatcher.stop()
        bot.process.stop()
        pg_server.drop_database(db_url)


def scrape(url: str) -> str:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, response.text
    return response.text


def test_every_metric_the_alerts_and_dashboard_use_is_exported(stack: Stack) -> None:
    exposed: set[str] = set()
    for url in stack.metrics.values():
        exposed |= exposed_names(scrape(url))
    wanted = {name for name in referenced_metrics() if not name.startswith("tgbot_backup_")}
    assert wanted, "the rules and dashboard name no metric of ours?"
    assert wanted - exposed == set()


def test_readiness_is_exported_as_a_metric(stack: Stack) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    def samples(url: str) -> dict[str, float]:
        return {
            f"{s.name}{sorted(s.labels.items())}": s.value
            for family in text_string_to_metric_families(scrape(url))
            for s in family.samples
            if s.name in {"tgbot_ready", "tgadmin_ready"}
        }

    assert samples(stack.metrics["bot"]) == {
        "tgbot_ready[('check', 'database')]": 1.0,
        "tgbot_ready[('check', 'redis')]": 1.0,
    }
    assert samples(stack.metrics["admin"]) == {"tgadmin_ready[]": 1.0}


def test_every_log_line_has_the_shared_json_shape(stack: Stack) -> None:
    # A request each, so the admin's access log and the bot's handlers have written something.
    for url in stack.metrics.values():
        scrape(url)
    for service, path in stack.logs.items():
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        assert lines, f"{service} wrote nothing"
        for line in lines:
            record = json.loads(line)
            assert all(record.get(key) for key in SHAPE), (service, line)
            assert record["service"] == service, line
            assert record["level"] in {"debug", "info", "warning", "error", "critical"}, line
