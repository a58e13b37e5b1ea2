"""Settings: environment and *_FILE secrets, readable errors, masking."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tgbot.config import (
    COMMANDS,
    ConfigError,
    DispatchSettings,
    MigrateSettings,
    ServeSettings,
    async_postgres_url,
    load_settings,
    mask_url,
    postgres_url_for,
)

DB = "postgresql://bot:s3cret@db:5432/bot"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "REDIS_URL", "TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)


def test_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", DB)
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/1")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:token")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    settings = load_settings(DispatchSettings)
    assert settings.database_url.get_secret_value() == DB
    assert settings.log_level == "DEBUG"
    assert settings.sqlalchemy_url == "postgresql+asyncpg://bot:s3cret@db:5432/bot"


def test_secret_from_file_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("123:file-token\n")
    monkeypatch.setenv("DATABASE_URL", DB)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:env-token")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN_FILE", str(secret))
    monkeypatch.setenv("REDIS_URL", "redis://cache:6379/1")
    settings = load_settings(DispatchSettings)
    assert settings.telegram_bot_token.get_secret_value() == "123:file-token"


def test_unreadable_secret_file_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL_FILE", str(tmp_path / "missing"))
    with pytest.raises(ConfigError) as info:
        load_settings(MigrateSettings)
    assert len(info.value.lines) == 1
    assert info.value.lines[0].startswith("config error: DATABASE_URL_FILE: cannot read")


def test_every_problem_gets_a_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_URL", "http://not-redis")
    monkeypatch.setenv("HTTP_PORT", "99999")
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:token")
    monkeypatch.setenv("WEBHOOK_SECRET", "s3cret")
    with pytest.raises(ConfigError) as info:
        load_settings(ServeSettings)
    lines = info.value.lines
    assert "config error: DATABASE_URL: is required but not set" in lines
    assert any(line.startswith("config error: REDIS_URL: must be a redis://") for line in lines)
    assert any(line.startswith("config error: HTTP_PORT:") for line in lines)
    assert len(lines) == 3


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://x@h/db", "must be a postgresql:// URL"),
        ("postgresql://u:p@h:5432/", "must name a database"),
        ("postgresql://u:p@h:port/db", "invalid port"),
    ],
)
def test_bad_database_urls(monkeypatch: pytest.MonkeyPatch, url: str, reason: str) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    with pytest.raises(ConfigError) as info:
        load_settings(MigrateSettings)
    assert reason in info.value.lines[0]


def test_secrets_never_shown_in_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root:hunter2@h/db")
    with pytest.raises(ConfigError) as info:
        load_settings(MigrateSettings)
    assert "hunter2" not in str(info.value)


def test_mask_and_driver_urls() -> None:
    assert mask_url(DB) == "postgresql://bot:***@db:5432/bot"
    assert mask_url("redis://cache:6379/0") == "redis://cache:6379/0"
    assert postgres_url_for("postgres://a@b/c") == "postgresql+psycopg://a@b/c"
    # The async engine speaks asyncpg, which calls libpq's sslmode "ssl".
    assert (
        async_postgres_url(
            "postgresql://a:p%40ss@b:5433/c?sslmode=verify-full&target_session_attrs=read-write"
        )
        == "postgresql+asyncpg://a:p%40ss@b:5433/c?ssl=verify-full&target_session_attrs=read-write"
    )


# What each command needs, and only that: a missing one is one line naming the variable.
REQUIRED = {
    "migrate": {"DATABASE_URL"},
    "dispatch": {"DATABASE_URL", "REDIS_URL", "TELEGRAM_BOT_TOKEN"},
    "poll": {"DATABASE_URL", "REDIS_URL", "TELEGRAM_BOT_TOKEN"},
    "serve": {"DATABASE_URL", "REDIS_URL", "TELEGRAM_BOT_TOKEN", "WEBHOOK_SECRET"},
    "set-webhook": {"TELEGRAM_BOT_TOKEN", "WEBHOOK_URL", "WEBHOOK_SECRET"},
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_each_command_requires_its_own_settings(command: str) -> None:
    assert set(REQUIRED) == set(COMMANDS)
    with pytest.raises(ConfigError) as info:
        load_settings(COMMANDS[command])
    assert sorted(info.value.lines) == sorted(
        f"config error: {name}: is required but not set" for name in REQUIRED[command]
    )


def _tgbot(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tgbot", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_serve_refuses_to_start_without_a_webhook_secret() -> None:
    env = {"DATABASE_URL": DB, "REDIS_URL": "redis://cache:6379/0", "TELEGRAM_BOT_TOKEN": "1:a"}
    result = _tgbot("serve", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "config error: WEBHOOK_SECRET: is required but not set"
    ]


def test_migrate_needs_only_the_database() -> None:
    result = _tgbot("check-config", "--for", "migrate", env={"DATABASE_URL": DB})
    assert result.returncode == 0, result.stderr
    assert "DATABASE_URL=postgresql://bot:***@db:5432/bot" in result.stdout
    assert "REDIS_URL" not in result.stdout


def test_registering_on_start_needs_the_url() -> None:
    env = {
        "DATABASE_URL": DB,
        "REDIS_URL": "redis://cache:6379/0",
        "TELEGRAM_BOT_TOKEN": "1:a",
        "WEBHOOK_SECRET": "s3cret",
        "WEBHOOK_REGISTER_ON_START": "true",
    }
    result = _tgbot("serve", env=env)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "config error: WEBHOOK_URL: is required when WEBHOOK_REGISTER_ON_START is on"
    ]


def test_check_config_masks_secrets_and_requires_service_settings() -> None:
    env = {"DATABASE_URL": DB, "REDIS_URL": "redis://:pw@cache:6379/0", "WEBHOOK_SECRET": "s3cret"}
    missing = _tgbot("check-config", env=env)
    assert missing.returncode == 2
    assert missing.stderr.strip().splitlines() == [
        "config error: TELEGRAM_BOT_TOKEN: is required but not set"
    ]

    env["TELEGRAM_BOT_TOKEN"] = "123456:AAAA-secret"
    ok = _tgbot("check-config", env=env)
    assert ok.returncode == 0, ok.stderr
    assert "DATABASE_URL=postgresql://bot:***@db:5432/bot" in ok.stdout
    assert "REDIS_URL=redis://:***@cache:6379/0" in ok.stdout
    assert "TELEGRAM_BOT_TOKEN=***" in ok.stdout
    assert "WEBHOOK_SECRET=***" in ok.stdout
    for secret in ("s3cret", "AAAA-secret", ":pw@"):
        assert secret not in ok.stdout


@pytest.mark.parametrize(
    ("base", "allow_http", "problem"),
    [
        ("https://api.telegram.org", None, None),
        ("http://sandbox:8081", "true", None),
        ("http://sandbox:8081", None, "TELEGRAM_API_BASE: must be https://"),
        ("http://api.telegram.org", "false", "TELEGRAM_API_BASE: must be https://"),
    ],
)
def test_the_bot_api_is_https_outside_development(
    base: str, allow_http: str | None, problem: str | None
) -> None:
    env = {"TELEGRAM_BOT_TOKEN": "1:a", "TELEGRAM_API_BASE": base}
    if allow_http is not None:
        env["TELEGRAM_API_ALLOW_HTTP"] = allow_http
    result = _tgbot("check-config", "--for", "set-webhook", env={**env, **WEBHOOK})
    if problem is None:
        assert result.returncode == 0, result.stderr
    else:
        assert result.returncode == 2
        [line] = result.stderr.strip().splitlines()
        assert line.startswith(f"config error: {problem}")


WEBHOOK = {"WEBHOOK_URL": "https://bot.example.com/telegram/webhook", "WEBHOOK_SECRET": "s3cret"}
