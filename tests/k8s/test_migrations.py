"""Migrations behave on a real cluster: a direct PostgreSQL URL beside a pooled one (kustomize
component, chart values), and Helm's --timeout in the docs outlasts the migration Job."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.k8s.manifests import (
    CHART_DIR,
    DOCS,
    KUBERNETES_VERSIONS,
    Obj,
    by_kind,
    containers,
    load_all,
    name_of,
    render_overlay_with,
    workloads,
)
from tests.k8s.test_objects import (
    test_secret_files_are_mounted_where_the_settings_point as check_secret_files_are_mounted,
)
from tests.k8s.tools import Tools, run, validate_strict

DIRECT = "/run/secrets/tgbot/database-direct-url"
BOT_DIRECT = "/run/secrets/tgbot/bot-database-direct-url"


def env(container: Obj) -> dict[str, str]:
    return {e["name"]: e.get("value", "") for e in container.get("env", [])}


def check_direct_url(objs: list[Obj]) -> None:
    """Every bot-image process may use DATABASE_DIRECT_URL; the migrating ones do, Django's
    migrate included, as the migrator; the bot's and the dispatcher's (LISTEN, the schema wait)
    as their own user; the file is mounted wherever it is named."""
    migrating = []
    for workload, template in workloads(objs):
        for _, c in containers(template["spec"]):
            command = " ".join([*c.get("command", []), *c.get("args", [])])
            if "tgadmin" in command and "migrate" in command:
                assert env(c)["DATABASE_URL_FILE"] == DIRECT, name_of(workload)
                migrating.append("django")
            elif "migrate" in command and "--no-upgrade" not in command:
                assert env(c)["DATABASE_DIRECT_URL_FILE"] == DIRECT, name_of(workload)
                migrating.append("alembic")
            elif c["name"] in ("dispatcher", "wait-for-schema"):
                assert env(c)["DATABASE_DIRECT_URL_FILE"] == BOT_DIRECT, name_of(workload)
            else:
                assert env(c).get("DATABASE_DIRECT_URL_FILE") in (None, BOT_DIRECT), c["name"]
    assert "django" in migrating
    assert "alembic" in migrating
    check_secret_files_are_mounted(objs)


def test_kustomize_component_points_migrations_and_listen_at_the_server(
    tools: Tools, tmp_path: Path
) -> None:
    objs = render_overlay_with(tools, tmp_path, "prod", ["direct-database-url"])

    check_direct_url(objs)
    manifest = tmp_path / "rendered.yaml"
    manifest.write_text(yaml.safe_dump_all(objs))
    assert validate_strict(tools, manifest, KUBERNETES_VERSIONS[-1]) == []


@pytest.mark.parametrize(
    "sets",
    [
        ("secrets.existingSecretHasDirectUrl=true",),
        (
            "secrets.existingSecret=",
            "secrets.databaseUrl=postgresql://u:p@pgbouncer:6432/tgbot",
            "secrets.databaseDirectUrl=postgresql://u:p@postgres:5432/tgbot",
            "secrets.botDatabaseUrl=postgresql://bot:pb@pgbouncer:6432/tgbot",
            "secrets.botDatabaseDirectUrl=postgresql://bot:pb@postgres:5432/tgbot",
            "secrets.adminDatabaseUrl=postgresql://admin:pa@pgbouncer:6432/tgbot",
            "secrets.backupDatabaseUrl=postgresql://backup:pr@postgres:5432/tgbot",
            "secrets.redisUrl=redis://redis:6379/0",
            "secrets.telegramBotToken=123:abc",
            "secrets.webhookSecret=s3cret",
            "secrets.djangoSecretKey=dev-only-key",
        ),
    ],
    ids=["existing-secret", "values"],
)
def test_chart_points_migrations_and_listen_at_the_server(
    tools: Tools, sets: tuple[str, ...]
) -> None:
    args = [arg for s in sets for arg in ("--set", s)]
    result = run(*tools.helm, "template", "tgbot", str(CHART_DIR),
                 "-f", str(CHART_DIR / "values-prod.yaml"), *args)  # fmt: skip
    assert result.returncode == 0, result.stderr
    objs = load_all(result.stdout)

    check_direct_url(objs)
    for secret in by_kind(objs, "Secret"):
        assert secret["stringData"]["database-direct-url"].startswith("postgresql://u:p@postgres")
        assert secret["stringData"]["bot-database-direct-url"].startswith("postgresql://bot:pb@")


def test_without_a_direct_url_nothing_mentions_one(tools: Tools) -> None:
    result = run(*tools.helm, "template", "tgbot", str(CHART_DIR),
                 "-f", str(CHART_DIR / "values-prod.yaml"))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "database-direct-url" not in result.stdout


def test_documented_helm_timeout_outlasts_the_migration_job() -> None:
    """Helm's default --timeout (5 min) is shorter than the Job's deadline: a long migration
    would fail the release while the Job goes on. Every documented upgrade says --timeout."""
    deadline = yaml.safe_load((CHART_DIR / "values.yaml").read_text())["migrations"][
        "activeDeadlineSeconds"
    ]
    text = "\n".join(
        path.read_text()
        for path in (DOCS, CHART_DIR / "README.md", *sorted(CHART_DIR.glob("values-*.yaml")))
    )
    commands = [
        line for line in text.splitlines() if re.search(r"helm upgrade .*charts/tgbot", line)
    ]
    assert commands
    for line in commands:
        timeout = re.search(r"--timeout[ =](\d+)m\b", line)
        assert timeout, f"no --timeout: {line}"
        assert int(timeout[1]) * 60 > deadline, line
