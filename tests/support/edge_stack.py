"""A staging-like compose stack behind the real edge proxy, for tests and benchmarks.

The same stack as the edge step of scripts/compose-ci.sh: compose.yaml's staging profile plus
compose/test/edge.yaml (Pebble as the ACME server, the sandbox as Telegram, posting to
https://bot.test through the proxy). Its own project name, image tag and ephemeral ports, so it
never meets another stack on the same engine; ``down()`` removes containers, volumes and images.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.waiting import wait_until

REPO = Path(__file__).resolve().parents[2]
PEBBLE_IMAGE = os.environ.get("PEBBLE_IMAGE", "ghcr.io/letsencrypt/pebble:latest")
PYTHON_IMAGE = os.environ.get("PYTHON_IMAGE", "python:3.12-slim-bookworm")


def docker(*args: str, timeout: float = 600, check: bool = True) -> str:
    result = subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"docker {' '.join(args[:3])}: {result.stderr.strip()[-2000:]}")
    return result.stdout


def build_images(tag: str) -> None:
    """tgbot-bot:<tag> and tgbot-admin:<tag> from the working tree (cached layers reused)."""
    for service in ("bot", "admin"):
        docker(
            "build",
            "--quiet",
            "-f",
            f"Dockerfile.{service}",
            "-t",
            f"tgbot-{service}:{tag}",
            "--build-arg",
            f"PYTHON_IMAGE={PYTHON_IMAGE}",
            str(REPO),
            timeout=1200,
        )


def retag_images(tag: str, new_tag: str) -> None:
    for service in ("bot", "admin"):
        docker("tag", f"tgbot-{service}:{tag}", f"tgbot-{service}:{new_tag}")


def remove_images(*tags: str) -> None:
    for tag in tags:
        for service in ("bot", "admin"):
            docker("image", "rm", f"tgbot-{service}:{tag}", check=False)


@dataclass
class EdgeStack:
    project: str
    tag: str
    work: Path
    sandbox_env: dict[str, str] = field(default_factory=dict)

    @property
    def env_file(self) -> Path:
        return self.work / "edge.env"

    @property
    def compose_args(self) -> list[str]:
        return [
            "-p",
            self.project,
            "-f",
            "compose.yaml",
            "-f",
            "compose/test/edge.yaml",
            "--env-file",
            str(self.env_file),
        ]

    def compose(self, *args: str, timeout: float = 600, check: bool = True) -> str:
        env = {
            **os.environ,
            "PEBBLE_MINICA": str(self.work / "pebble.minica.pem"),
            "PEBBLE_ROOT": str(self.work / "pebble-root.pem"),
            **self.sandbox_env,
        }
        result = subprocess.run(
            ["docker", "compose", *self.compose_args, *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"compose {' '.join(args[:4])}: {result.stderr.strip()[-3000:]}")
        return result.stdout

    def write_config(self) -> None:
        secrets_dir = self.work / "secrets"
        secrets_dir.mkdir(parents=True, exist_ok=True)
        for source in (REPO / "compose" / "dev" / "secrets").iterdir():
            if source.name != "README.md":
                shutil.copy(source, secrets_dir / source.name)
        (secrets_dir / "django_secret_key").write_text(secrets.token_urlsafe(48))
        (secrets_dir / "admin_password").write_text(secrets.token_urlsafe(18))
        lines = {
            "COMPOSE_PROFILES": "staging",
            "TGBOT_ENV": "staging",
            "SECRETS_DIR": str(secrets_dir),
            "BOT_IMAGE": "tgbot-bot",
            "ADMIN_IMAGE": "tgbot-admin",
            "TAG": self.tag,
            "WEBHOOK_URL": "https://bot.test/telegram/webhook",
            "ADMIN_HOST": "admin.test",
            "ACME_EMAIL": "ci@example.com",
            "HTTP_BIND": "127.0.0.1",
            "HTTP_PORT": "0",
            "HTTPS_BIND": "127.0.0.1",
            "HTTPS_PORT": "0",
            "SANDBOX_PORT": "0",
            "RESTART_POLICY": "no",
            # backups run in tests/integration/ops (scaled to 0 here); staging requires these
            "BACKUP_AGE_RECIPIENT": "age1unused",
            "BACKUP_S3_ENDPOINT": "http://unused",
            "BACKUP_S3_BUCKET": "unused",
        }
        self.env_file.write_text("".join(f"{k}={v}\n" for k, v in lines.items()))
        pem = docker(
            "run", "--rm", "--entrypoint", "cat", PEBBLE_IMAGE, "/test/certs/pebble.minica.pem"
        )
        (self.work / "pebble.minica.pem").write_text(pem)

    def up(self, *, scale: dict[str, int] | None = None, wait_timeout: int = 300) -> None:
        """Pebble first (its issuing root is made at start), then everything else, healthy."""
        self.write_config()
        self.compose("up", "-d", "--no-build", "pebble")
        port = self.port("pebble", 15000)

        def issuing_root() -> str | None:
            pem = httpx.get(
                f"https://localhost:{port}/roots/0",
                verify=str(self.work / "pebble.minica.pem"),
                timeout=5,
            ).text
            return pem if "BEGIN CERTIFICATE" in pem else None

        root = wait_until(issuing_root, timeout=60, interval=0.5, what="Pebble's issuing root")
        (self.work / "pebble-root.pem").write_text(root)
        scales = [f"--scale={name}={n}" for name, n in (scale or {}).items()]
        self.compose(
            "up",
            "-d",
            "--no-build",
            "--wait",
            f"--wait-timeout={wait_timeout}",
            "--scale=backup=0",
            *scales,
            timeout=wait_timeout + 60,
        )

    def port(self, service: str, port: int) -> int:
        return int(self.compose("port", service, str(port)).strip().rsplit(":", 1)[1])

    @property
    def ca_file(self) -> Path:
        return self.work / "pebble-root.pem"

    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.port('sandbox', 8081)}"

    def psql(self, query: str) -> list[list[str]]:
        """Rows of a query run by psql inside the postgres container (no published port)."""
        out = self.compose(
            "exec",
            "-T",
            "postgres",
            "psql",
            "-U",
            "tgbot",
            "-d",
            "tgbot",
            "-At",
            "-F",
            "\t",
            "-c",
            query,
        )
        return [line.split("\t") for line in out.splitlines() if line]

    def roll(self, tag: str) -> subprocess.CompletedProcess[str]:
        """scripts/compose-roll.sh to ``tag`` (the documented update command)."""
        return subprocess.run(
            ["bash", "scripts/compose-roll.sh", *self.compose_args, tag],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=1200,
            check=False,
            env={
                **os.environ,
                "PEBBLE_MINICA": str(self.work / "pebble.minica.pem"),
                "PEBBLE_ROOT": str(self.work / "pebble-root.pem"),
                **self.sandbox_env,
            },
        )

    def logs(self, *services: str) -> str:
        return self.compose("logs", "--no-color", "--tail", "200", *services, check=False)

    def down(self) -> None:
        self.compose("down", "-v", "--remove-orphans", "--timeout", "10", check=False)
