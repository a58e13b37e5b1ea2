"""The admin's settings class: names, defaults and readable errors (no Django needed)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from tgadmin.config import AdminSettings, ConfigError, load_settings, webauthn_origins
from tgadmin.dburl import database_settings

GOOD_KEY = secrets.token_urlsafe(50)
URL = "postgresql://bot:p%40ss@db.internal:5433/tgbot?sslmode=require"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "DATABASE_URL",
        "SECRET_KEY",
        "SECRET_KEY_FILE",
        "DEBUG",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "ADMIN_URL_PREFIX",
        "LANGUAGE_CODE",
        "BEHIND_TLS",
    ):
        monkeypatch.delenv(name, raising=False)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", URL)
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    settings = load_settings()
    assert settings.debug is False
    assert settings.admin_url_prefix == "admin/"
    assert settings.language_code == "en"
    assert settings.behind_tls is False
    assert settings.allowed_hosts == []


def test_lists_and_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", URL)
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("ALLOWED_HOSTS", "admin.example.com, localhost")
    monkeypatch.setenv("CSRF_TRUSTED_ORIGINS", "https://admin.example.com")
    monkeypatch.setenv("ADMIN_URL_PREFIX", "/ops/x1")
    settings = load_settings()
    assert settings.allowed_hosts == ["admin.example.com", "localhost"]
    assert settings.csrf_trusted_origins == ["https://admin.example.com"]
    assert settings.admin_url_prefix == "ops/x1/"


def test_secret_key_from_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text(GOOD_KEY + "\n")
    monkeypatch.setenv("DATABASE_URL", URL)
    monkeypatch.setenv("SECRET_KEY_FILE", str(key_file))
    assert load_settings().secret_key.get_secret_value() == GOOD_KEY


def test_every_problem_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://x/y")
    monkeypatch.setenv("SECRET_KEY", "django-insecure-abc")
    monkeypatch.setenv("CSRF_TRUSTED_ORIGINS", "admin.example.com")
    monkeypatch.setenv("LANGUAGE_CODE", "de")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    names = [line.split(":")[1].strip() for line in caught.value.lines]
    assert sorted(names) == ["CSRF_TRUSTED_ORIGINS", "DATABASE_URL", "LANGUAGE_CODE", "SECRET_KEY"]
    assert all(line.startswith("config error: ") for line in caught.value.lines)


def test_weak_key_allowed_only_in_debug(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", URL)
    monkeypatch.setenv("SECRET_KEY", "dev")
    with pytest.raises(ConfigError):
        load_settings()
    monkeypatch.setenv("DEBUG", "true")
    assert isinstance(load_settings(), AdminSettings)


def test_database_settings_from_url() -> None:
    db = database_settings(URL, connect_timeout=3)
    assert db["NAME"] == "tgbot"
    assert (db["USER"], db["PASSWORD"]) == ("bot", "p@ss")
    assert (db["HOST"], db["PORT"]) == ("db.internal", "5433")
    assert db["OPTIONS"] == {"sslmode": "require", "connect_timeout": 3}


def test_the_dev_placeholder_key_never_passes_outside_debug(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    placeholder = Path(__file__).parents[3] / "compose" / "dev" / "secrets" / "django_secret_key"
    assert placeholder.read_text().startswith("django-insecure-")
    monkeypatch.setenv("DATABASE_URL", URL)
    monkeypatch.setenv("SECRET_KEY_FILE", str(placeholder))
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.lines == [
        "config error: SECRET_KEY: is Django's generated development key; generate a new one"
    ]
    monkeypatch.setenv("DEBUG", "true")
    assert load_settings().secret_key.get_secret_value().startswith("django-insecure-")


def test_sign_in_hardening_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", URL)
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    defaults = load_settings()
    assert (defaults.login_failure_limit, defaults.login_lockout_minutes) == (5, 15)
    assert defaults.session_idle_timeout == 8 * 3600
    assert defaults.two_factor_required_for_admins is False
    assert defaults.message_retention_days == 0
    monkeypatch.setenv("SESSION_IDLE_TIMEOUT", "10")
    monkeypatch.setenv("LOGIN_FAILURE_LIMIT", "0")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    names = sorted(line.split(":")[1].strip() for line in caught.value.lines)
    assert names == ["LOGIN_FAILURE_LIMIT", "SESSION_IDLE_TIMEOUT"]


def test_security_keys_use_the_origins_browsers_allow_under_one_relying_party() -> None:
    # https:// anywhere, plain http only on localhost (a secure context); never an IP address.
    assert webauthn_origins(["https://admin.example.com", "http://admin.example.com"]) == [
        "https://admin.example.com"
    ]
    assert webauthn_origins(["http://localhost:8000", "http://127.0.0.1:8000"]) == [
        "http://localhost:8000"
    ]
    # One relying party: the first origin's host, and its subdomains.
    assert webauthn_origins(
        ["https://example.com/", "https://ops.example.com", "https://other.org"]
    ) == ["https://example.com", "https://ops.example.com"]
    assert webauthn_origins(["http://127.0.0.1:8000"]) == []
    assert webauthn_origins([]) == []
