"""The admin panel's settings: read once, from the environment, through one pydantic class.

Shared names with the bot mean the same thing (``DATABASE_URL``, ``REDIS_URL``); every secret
may also be given as ``<NAME>_FILE``. Only ``tgbot.config.sources`` (pydantic only) is reused:
the admin image carries none of the bot's dependencies.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AnyHttpUrl,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
)
from pydantic_settings import (
    NoDecode,
    SettingsConfigDict,
)

from tgbot.config.sources import (
    ConfigError as ConfigError,
)
from tgbot.config.sources import (
    EnvSettings,
    ErrorReportingSettings,
    FileSecretsSettings,
    Language,
    LoggingSettings,
    PostgresUrl,
    RedisUrl,
    load_settings_of,
)

MIN_SECRET_KEY_LENGTH = 50
MIN_SECRET_KEY_UNIQUE_CHARS = 5


def _split_list(value: Any) -> Any:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CommaList = Annotated[list[str], NoDecode]


def secret_key_problem(key: str) -> str | None:
    """Why ``key`` is unfit for production (Django's own ``security.W009`` rules), or None."""
    if key.startswith("django-insecure"):
        return "is Django's generated development key; generate a new one"
    if len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < MIN_SECRET_KEY_UNIQUE_CHARS:
        return (
            f"is too weak for production: use at least {MIN_SECRET_KEY_LENGTH} random characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(50))'), "
            "or set DEBUG=true for local development"
        )
    return None


def webauthn_origins(origins: list[str]) -> list[str]:
    """The origins security keys can be used from: browsers allow WebAuthn on https:// and on
    http://localhost only, and one relying party (the first such origin's host) covers its own
    host and subdomains."""
    usable = [
        origin.rstrip("/")
        for origin in origins
        if origin.startswith("https://") or urlsplit(origin).hostname == "localhost"
    ]
    if not usable:
        return []
    rp_id = urlsplit(usable[0]).hostname or ""
    return [
        origin
        for origin in usable
        if (host := urlsplit(origin).hostname or "") == rp_id or host.endswith("." + rp_id)
    ]


class AdminSettings(FileSecretsSettings, LoggingSettings, ErrorReportingSettings):
    """All settings of ``tgadmin``. Names are the environment variables, upper-cased."""

    # DEBUG comes first: the SECRET_KEY check depends on it.
    debug: bool = Field(default=False, description="Django debug mode. Never in production.")

    # --- shared with the bot -------------------------------------------------------------
    database_url: PostgresUrl = Field(
        description="PostgreSQL URL, postgresql://user:password@host:5432/db. Secret."
    )
    redis_url: RedisUrl | None = Field(
        default=None, description="Redis URL, redis://host:6379/0. Secret. Optional here."
    )

    # --- Django --------------------------------------------------------------------------
    secret_key: SecretStr = Field(
        description="Django SECRET_KEY; 50+ random characters unless DEBUG. Secret."
    )
    allowed_hosts: CommaList = Field(
        default_factory=list, description="Comma-separated host names the panel answers to."
    )
    csrf_trusted_origins: CommaList = Field(
        default_factory=list,
        description="Comma-separated origins (https://admin.example.com) trusted for CSRF; "
        "also where security keys work (WebAuthn: https://, or http://localhost in development; "
        "the first such origin's host is the relying party). Without one, keys are not offered.",
    )
    admin_url_prefix: str = Field(
        default="admin/", description="URL prefix of the admin site, e.g. `admin/` or `ops/x1/`."
    )
    language_code: Language = Field(
        default="en", description="Default UI language (users may switch to the other one)."
    )
    time_zone: str = Field(default="UTC", description="Time zone dates are shown in.")
    static_root: Path = Field(
        default=Path("staticfiles"), description="Directory `collectstatic` writes to."
    )
    database_connect_timeout: int = Field(
        default=5, ge=1, description="Seconds to wait for a PostgreSQL connection."
    )
    database_conn_max_age: int = Field(
        default=0, ge=0, description="Seconds to keep a database connection (0: per request)."
    )

    # --- TLS -----------------------------------------------------------------------------
    behind_tls: bool = Field(
        default=False,
        description="Served over HTTPS (TLS ends at a proxy sending X-Forwarded-Proto): "
        "secure cookies, HSTS, SSL redirect.",
    )
    hsts_seconds: int = Field(default=31_536_000, ge=0, description="HSTS max-age with TLS.")
    hsts_include_subdomains: bool = Field(default=True, description="HSTS includeSubDomains.")
    hsts_preload: bool = Field(default=True, description="HSTS preload directive.")

    # --- the operator inbox: users' media, read through the Bot API (issue 16) ----------------
    telegram_bot_token: SecretStr | None = Field(
        default=None,
        description="The bot's token, for the inbox's media proxy (getFile, then the file "
        "download, server-side; the browser never sees it). Secret. Without it the inbox shows "
        "media by type and name only.",
    )
    telegram_api_base: AnyHttpUrl = Field(
        default=AnyHttpUrl("https://api.telegram.org"),
        description="Bot API base URL for the media proxy; the sandbox's URL in development.",
    )

    inbox_reply_target_seconds: int = Field(
        default=900,
        ge=60,
        description="Reply-time target: the alert TgadminInboxReplyTargetMissed fires when a user "
        "has waited longer (exposed as tgadmin_inbox_reply_target_seconds).",
    )

    prometheus_multiproc_dir: Path | None = Field(
        default=None,
        description="prometheus-client's multiprocess directory, so /metrics sums every gunicorn "
        "worker; gunicorn empties it at start. The image sets /tmp/prometheus-multiproc.",
    )

    # --- sign-in hardening -----------------------------------------------------------------
    login_failure_limit: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins after which the user name, and separately the address, "
        "is locked out (django-axes).",
    )
    login_lockout_minutes: int = Field(
        default=15, ge=1, description="Minutes a lockout lasts after the last failed sign-in."
    )
    session_idle_timeout: int = Field(
        default=8 * 3600,
        ge=60,
        description="Seconds of inactivity after which a panel session expires.",
    )
    message_retention_days: int = Field(
        default=0,
        ge=0,
        description="`tgadmin purge-messages` deletes messages older than this many days "
        "(0: keep them all).",
    )
    two_factor_required_for_admins: bool = Field(
        default=False,
        description="Members of the `admins` group and superusers must set up and use a second "
        "factor (a TOTP authenticator app or a security key) to use the panel.",
    )

    @field_validator("allowed_hosts", "csrf_trusted_origins", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        return _split_list(value)

    @field_validator("csrf_trusted_origins")
    @classmethod
    def _origins_have_scheme(cls, value: list[str]) -> list[str]:
        for origin in value:
            if not origin.startswith(("http://", "https://")):
                raise ValueError(f"{origin!r} must start with https:// (or http://)")
        return value

    @field_validator("secret_key")
    @classmethod
    def _secret_key_fit_for_production(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        if info.data.get("debug"):
            return value
        problem = secret_key_problem(value.get_secret_value())
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("admin_url_prefix")
    @classmethod
    def _normalise_prefix(cls, value: str) -> str:
        prefix = value.strip().strip("/")
        if not prefix:
            raise ValueError("must not be empty (the site root is not the admin)")
        if prefix.split("/")[0] in {"healthz", "readyz", "metrics", "static"}:
            raise ValueError("clashes with /healthz, /readyz, /metrics or /static")
        return prefix + "/"


class ServerSettings(EnvSettings):
    """gunicorn's settings (``tgadmin.gunicorn_conf``)."""

    port: int = Field(default=8000, ge=1, le=65535, description="Port the panel listens on.")
    web_concurrency: int = Field(default=2, ge=1, description="Number of worker processes.")
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="Proxies whose X-Forwarded-* headers are trusted (comma-separated, or *).",
    )


class SuperuserSettings(FileSecretsSettings):
    """What ``tgadmin ensure-superuser`` creates or updates."""

    model_config = SettingsConfigDict(env_prefix="ADMIN_")

    username: str = Field(min_length=1, max_length=150, description="The admin's login name.")
    password: SecretStr = Field(
        min_length=12, description="The admin's password (12+ characters). Secret."
    )
    email: str = Field(default="", description="The admin's e-mail address.")
    show_password: bool = Field(
        default=False,
        description="Print the password once, when the superuser is created; honoured only with "
        "DEBUG=true (the dev compose profile's placeholder credentials).",
    )


def load_settings(**overrides: Any) -> AdminSettings:
    """Read the settings, turning validation errors into :class:`ConfigError`."""
    return load_settings_of(AdminSettings, **overrides)


@functools.cache
def settings_from_environment() -> AdminSettings:
    """The process's settings, read once (Django's settings module and the CLI share them)."""
    return load_settings()
