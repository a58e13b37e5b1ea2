"""compose.yaml's operations parts validate: the backup service and the monitoring profile."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).parents[3]


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
        assert [v["target"] for v in backup["volumes"]] == ["/backups"]
        assert backup["build"]["dockerfile"] == "Dockerfile.backup"
    assert "backup" not in config("dev", env="dev")["services"]


def test_monitoring_profile_reads_the_backup_textfile_and_the_rules() -> None:
    services = config("prod", "monitoring")["services"]
    assert {"prometheus", "node-exporter", "grafana"} <= set(services)
    node = services["node-exporter"]
    assert "--collector.textfile.directory=/backups/metrics" in node["command"]
    assert node["volumes"][0]["source"] == services["backup"]["volumes"][0]["source"]
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
