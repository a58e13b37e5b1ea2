"""compose.yaml's operations parts validate: the backup service, the monitoring profile, the edge
proxy as the only published service of staging/prod, the networks and Redis' password."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).parents[3]
DEV_FILES = "compose.yaml:compose.override.yaml"


def config(*profiles: str, env: str = "prod") -> dict[str, Any]:
    if shutil.which("docker") is None:
        pytest.skip("docker compose is not installed")
    args = ["docker", "compose"]
    for profile in profiles:
        args += ["--profile", profile]
    result = subprocess.run(
        [*args, "config", "--format", "json"],
        cwd=REPO,
        env={
            **os.environ,
            "TGBOT_ENV": env,
            "WEBHOOK_URL": "https://bot.example.com/hook",
            "ADMIN_HOST": "admin.example.com",
            "ACME_EMAIL": "ops@example.com",
            "BACKUP_AGE_RECIPIENT": "age1example",
            "BACKUP_S3_ENDPOINT": "https://s3.example.com",
            "BACKUP_S3_BUCKET": "tgbot-backups",
            # staging/prod as .env.example has it: without compose.override.yaml's dev ports
            "COMPOSE_FILE": "compose.yaml" if env != "dev" else DEV_FILES,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_backup_runs_in_staging_and_prod_only() -> None:
    for env in ("staging", "prod"):
        backup = config(env, env=env)["services"]["backup"]
        assert backup["command"] == ["loop"]
        assert backup["environment"]["DATABASE_URL_FILE"] == "/run/secrets/database_url"
        assert [v["target"] for v in backup["volumes"]] == ["/backups", "/metrics"]
        assert backup["build"]["dockerfile"] == "Dockerfile.backup"
        assert backup["environment"]["BACKUP_AGE_RECIPIENT"] == "age1example"
        assert backup["environment"]["BACKUP_S3_BUCKET"] == "tgbot-backups"
        assert backup["environment"]["BACKUP_S3_ACCESS_KEY_ID_FILE"] == (
            "/run/secrets/backup_s3_access_key_id"
        )
        assert {"backup_s3_access_key_id", "backup_s3_secret_access_key"} <= {
            s["source"] for s in backup["secrets"]
        }
    assert "backup" not in config("dev", env="dev")["services"]


def test_monitoring_profile_reads_the_backup_textfile_and_the_rules() -> None:
    services = config("prod", "monitoring")["services"]
    assert {"prometheus", "node-exporter", "grafana"} <= set(services)
    node = services["node-exporter"]
    assert "--collector.textfile.directory=/textfile" in node["command"]
    # node-exporter sees the backup's metrics file, never the dumps
    backup_mounts = {v["target"]: v["source"] for v in services["backup"]["volumes"]}
    assert [v["source"] for v in node["volumes"]] == [backup_mounts["/metrics"]]
    assert services["backup"]["environment"]["BACKUP_METRICS_PATH"].startswith("/metrics/")
    mounts = {v["target"]: v["source"] for v in services["prometheus"]["volumes"]}
    assert mounts["/etc/prometheus/prometheus.yml"] == str(REPO / "monitoring" / "prometheus.yml")
    assert mounts["/etc/prometheus/rules"] == str(REPO / "monitoring" / "rules")
    assert "prometheus" not in config("prod")["services"]


def test_admin_metrics_sum_every_worker_in_every_profile() -> None:
    """gunicorn runs several workers: /metrics needs prometheus-client's multiprocess directory,
    on the writable /tmp of the read-only container."""
    for env in ("dev", "staging", "prod"):
        admin = config(env, env=env)["services"]["admin"]
        directory = admin["environment"]["PROMETHEUS_MULTIPROC_DIR"]
        assert directory.startswith("/tmp/"), (env, directory)
        assert admin["read_only"] is True
        assert "/tmp" in admin["tmpfs"], env


def published(service: dict[str, Any]) -> list[int]:
    return sorted(int(p["target"]) for p in service.get("ports", []))


def test_staging_and_prod_publish_only_the_edge_proxy() -> None:
    for env in ("staging", "prod"):
        services = config(env, env=env)["services"]
        assert {name for name, s in services.items() if s.get("ports")} == {"proxy"}
        assert published(services["proxy"]) == [80, 443]
        proxy_env = services["proxy"]["environment"]
        assert proxy_env["WEBHOOK_URL"] == "https://bot.example.com/hook"
        assert proxy_env["ADMIN_HOST"] == "admin.example.com"
    dev = config("dev", env="dev")["services"]
    assert "proxy" not in dev
    assert published(dev["bot"]) == [8080]
    assert published(dev["admin"]) == [8000]


def test_networks_keep_the_data_tier_off_the_edge() -> None:
    cfg = config("prod", "monitoring")
    services, networks = cfg["services"], cfg["networks"]
    assert networks["data"].get("internal") is True
    assert set(services["proxy"]["networks"]) == {"edge"}
    for name in ("postgres", "redis", "migrate", "admin-migrate"):
        assert set(services[name]["networks"]) == {"data"}, name
    assert set(services["backup"]["networks"]) == {"data", "outbound"}  # to the off-site bucket
    assert set(services["bot"]["networks"]) == {"edge", "data", "outbound", "monitoring"}
    # outbound: the inbox's media proxy reads users' files from the Bot API.
    assert set(services["admin"]["networks"]) == {"edge", "data", "monitoring", "outbound"}
    assert "edge" not in services["dispatcher"]["networks"]
    for name in ("prometheus", "node-exporter", "grafana"):
        assert set(services[name]["networks"]) == {"monitoring"}, name


def test_redis_requires_a_password_from_a_secret() -> None:
    for env in ("dev", "staging", "prod"):
        services = config(env, env=env)["services"]
        redis = services["redis"]
        assert [s["source"] for s in redis["secrets"]] == ["redis_password"]
        assert "requirepass" in " ".join(redis["command"])
        for name in ("bot", "dispatcher", "migrate"):
            assert "redis_url" in [s["source"] for s in services[name]["secrets"]], name
            assert services[name]["environment"]["REDIS_URL_FILE"] == "/run/secrets/redis_url"
            assert "REDIS_URL" not in services[name]["environment"], name
