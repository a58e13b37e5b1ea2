"""The bot service's settings, per command: read once, from the environment, at the process edge.

Settings come in groups (the database, Redis, Telegram, the webhook, ...); each command's class
is the groups it uses, so what a command needs is required by type: ``tgbot serve`` cannot start
without ``WEBHOOK_SECRET``, ``tgbot migrate`` needs only ``DATABASE_URL``. Every secret may also
be given as ``<NAME>_FILE`` (a path whose content is the value).
"""

from __future__ import annotations

import re
from typing import Any, Literal, Self, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator

from tgbot.config.sources import (
    POSTGRES_SCHEMES,
    ErrorReportingSettings,
    FileSecretsSettings,
    Language,
    LoggingSettings,
    PostgresUrl,
    RedisUrl,
    load_settings_of,
)

TOKEN_RE = re.compile(r"\d{1,20}:[A-Za-z0-9_-]{1,200}")
WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


def postgres_url_for(url: str, driver: str = "psycopg") -> str:
    """The same URL with SQLAlchemy's driver name (``postgresql+psycopg://``)."""
    scheme, rest = url.split("://", 1)
    if scheme in POSTGRES_SCHEMES:
        scheme = f"postgresql+{driver}"
    return f"{scheme}://{rest}"


def async_postgres_url(url: str) -> str:
    """The URL the bot's and the dispatcher's async engine connect with (asyncpg).

    asyncpg takes ``ssl`` where libpq takes ``sslmode`` (same values); other query parameters
    pass through as asyncpg connect arguments.
    """
    parts = urlsplit(postgres_url_for(url, "asyncpg"))
    query = [("ssl" if key == "sslmode" else key, value) for key, value in parse_qsl(parts.query)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def mask_url(url: str) -> str:
    """``postgresql://user:***@host/db`` — for logs and ``check-config``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


class CommandSettings(FileSecretsSettings, LoggingSettings, ErrorReportingSettings):
    """What every command reads: logging and error reporting; every field may come from
    ``NAME_FILE``."""

    def effective(self) -> dict[str, Any]:
        """The configuration with secrets masked, for ``tgbot check-config``."""
        out: dict[str, Any] = {}
        for name in sorted(type(self).model_fields):
            value = getattr(self, name)
            if name.endswith("_url") and isinstance(value, SecretStr):
                value = mask_url(value.get_secret_value())
            elif isinstance(value, SecretStr):
                value = "***" if value.get_secret_value() else ""
            elif value is not None and not isinstance(value, int | float | bool):
                value = str(value)
            out[name.upper()] = value
        return out


# --- groups ------------------------------------------------------------------------------


class DatabaseSettings(CommandSettings):
    """PostgreSQL, shared with the admin panel."""

    database_url: PostgresUrl = Field(
        description=(
            "PostgreSQL URL, postgresql://user:password@host:5432/db. Secret. Query parameters"
            " reach libpq (migrations) and asyncpg (serve, poll, dispatch): use ones both know,"
            " such as sslmode (given to asyncpg as ssl) and target_session_attrs."
        )
    )

    database_direct_url: PostgresUrl | None = Field(
        default=None,
        description=(
            "PostgreSQL URL of the server itself, when DATABASE_URL goes through a"
            " transaction-mode pooler (PgBouncer), which breaks advisory locks and LISTEN:"
            " migrations and the dispatcher's LISTEN connection use it. Secret. Default:"
            " DATABASE_URL."
        ),
    )
    database_pool_size: int = Field(
        default=10,
        ge=1,
        description="PostgreSQL connections per process. The bot commits the updates in flight "
        "together, one batch at a time, so it needs few (a commit, texts, readiness, replies "
        "handed to the outbox); callers beyond it wait for a free one (up to "
        "DATABASE_CONNECT_TIMEOUT) instead of opening and closing extra connections.",
    )

    database_pool_pre_ping: bool = Field(
        default=False,
        description="Test each pooled connection before use (one extra round trip per update). "
        "Off: a connection broken by a PostgreSQL restart fails one update with 503, which "
        "Telegram delivers again, and the whole pool is replaced.",
    )

    database_pool_recycle_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="Replace pooled connections older than this (idle-timeouts of proxies).",
    )

    database_connect_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to wait for a PostgreSQL connection."
    )

    @property
    def sqlalchemy_url(self) -> str:
        return async_postgres_url(self.database_url.get_secret_value())

    @property
    def direct_database_url(self) -> str:
        """The URL for session-level features (advisory locks, LISTEN): DATABASE_DIRECT_URL,
        else DATABASE_URL."""
        return (self.database_direct_url or self.database_url).get_secret_value()

    @property
    def sqlalchemy_connect_args(self) -> dict[str, Any]:
        """asyncpg's connect arguments, for every engine made from ``sqlalchemy_url``."""
        return {"timeout": self.database_connect_timeout}


class RedisSettings(CommandSettings):
    """Redis, shared with the admin panel."""

    redis_url: RedisUrl = Field(
        description="Redis URL, redis://host:6379/0. Secret.",
    )


class TelegramSettings(CommandSettings):
    """The Bot API: who the bot is and where Telegram (or the sandbox) answers."""

    telegram_bot_token: SecretStr = Field(
        description="Bot token from @BotFather. Secret. Needed to talk to Telegram."
    )

    telegram_api_base: AnyHttpUrl = Field(
        default=AnyHttpUrl("https://api.telegram.org"),
        description="Bot API base URL, https://; the sandbox's http:// URL in development (with "
        "TELEGRAM_API_ALLOW_HTTP).",
    )
    telegram_api_allow_http: bool = Field(
        default=False,
        description="Development only: allow an http:// TELEGRAM_API_BASE (the Bot API sandbox). "
        "Off, the token never travels unencrypted.",
    )

    telegram_request_timeout: float = Field(
        default=10.0, gt=0, description="Seconds for one Bot API call."
    )

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not TOKEN_RE.fullmatch(value.get_secret_value()):
            raise ValueError("does not look like a bot token (123456:ABC-DEF...)")
        return value

    @model_validator(mode="after")
    def _https_api(self) -> Self:
        if self.telegram_api_base.scheme != "https" and not self.telegram_api_allow_http:
            raise ValueError(
                "TELEGRAM_API_BASE: must be https:// (http:// is for the development sandbox: "
                "set TELEGRAM_API_ALLOW_HTTP=true there)"
            )
        return self


class UpdateSettings(CommandSettings):
    """Handling updates (webhook or polling): languages, time limits, throttling, texts."""

    default_language: Language = Field(
        default="en", description="Language for users whose language is unknown or unsupported."
    )

    handler_timeout: float = Field(
        default=20.0,
        gt=0,
        description="Seconds one update may take; past it the webhook answers 503 (retry).",
    )

    throttle_limit: int = Field(
        default=20, ge=1, description="Messages a user may send per THROTTLE_WINDOW_SECONDS."
    )

    throttle_window_seconds: int = Field(default=10, ge=1, description="Throttling window.")

    texts_cache_seconds: float = Field(
        default=5.0, ge=0, description="How long admin-edited texts are cached per process."
    )

    processed_updates_retention_hours: int = Field(
        default=48, ge=1, description="How long update ids are remembered for deduplication."
    )


class OutboxSettings(CommandSettings):
    """The outbox dispatcher (``tgbot dispatch``, or inside serve and poll)."""

    outbox_global_rate: int = Field(
        default=30,
        ge=1,
        le=1000,
        description="Messages per second all dispatchers together may send (Redis-shared).",
    )

    outbox_rate_limits_enabled: bool = Field(
        default=True,
        description="Apply the global and per-chat rate limits; turn off only for benchmarks.",
    )

    outbox_sender: Literal["aiohttp", "aiogram"] = Field(
        default="aiohttp",
        description="HTTP client of the dispatcher: plain aiohttp (faster) or aiogram's Bot.",
    )

    outbox_batch_size: int = Field(
        default=100, ge=1, le=5000, description="Most outbox rows one claim takes."
    )

    outbox_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long a claimed row is reserved; after it other dispatchers retry it.",
    )

    outbox_max_attempts: int = Field(
        default=8, ge=1, description="Attempts (5xx, network errors) before a row goes dead."
    )

    outbox_concurrency: int = Field(
        default=64, ge=1, le=1000, description="Sends one dispatcher keeps in flight."
    )

    outbox_retry_base_seconds: float = Field(
        default=1.0, gt=0, description="First retry delay; doubles per attempt, with jitter."
    )

    outbox_retry_max_seconds: float = Field(default=300.0, gt=0, description="Longest retry delay.")

    outbox_poll_seconds: float = Field(
        default=2.0,
        gt=0,
        description="Safety-net poll interval when no NOTIFY arrives (LISTEN wakes it sooner).",
    )

    broadcast_expansion_batch: int = Field(
        default=2000,
        ge=100,
        le=10000,
        description="Recipients a broadcast expands into outbox rows per transaction.",
    )

    dispatcher_metrics_port: int = Field(
        default=8082,
        ge=0,
        le=65535,
        description="Port of the dispatcher's /healthz and /metrics (0: any free port).",
    )

    dispatcher_metrics_host: str = Field(
        default="0.0.0.0",  # noqa: S104
        description="Address the dispatcher's /healthz and /metrics bind.",
    )


class GroupRateSettings(CommandSettings):
    """Telegram's per-group limit, which the dispatcher's limiter applies to every group chat."""

    outbox_group_rate_per_minute: int = Field(
        default=20,
        ge=1,
        le=6000,
        description="Messages per minute into one group (Telegram's limit: 20; the staff "
        "supergroup's topics all count against it).",
    )


class StaffTopicSettings(CommandSettings):
    """What the dispatcher writes at the top of a new staff topic."""

    panel_public_url: AnyHttpUrl | None = Field(
        default=None,
        description="The admin panel's public address with its prefix (e.g. "
        "https://admin.example.com/admin/): a new staff topic's header links to the "
        "conversation at <url>inbox/<id>/. Optional.",
    )


class StaffChatSettings(CommandSettings):
    """The staff supergroup (docs/staff-topics.md): each conversation gets a forum topic there."""

    staff_chat_id: int | None = Field(
        default=None,
        description="Id of the staff supergroup with topics enabled (e.g. -1001234567890) where "
        "each conversation gets a forum topic and staff answer; unset: no staff group. Optional.",
    )

    @field_validator("staff_chat_id")
    @classmethod
    def _supergroup(cls, value: int | None) -> int | None:
        if value is not None and not str(value).startswith("-100"):
            raise ValueError("must be a supergroup id, which starts with -100")
        return value


class WebhookSettings(CommandSettings):
    """The webhook Telegram posts to, and its registration."""

    webhook_url: AnyHttpUrl | None = Field(
        default=None, description="Public HTTPS URL Telegram posts updates to (set-webhook)."
    )

    webhook_path: str = Field(default="/telegram/webhook", description="Path of the webhook route.")

    webhook_secret: SecretStr = Field(
        description="X-Telegram-Bot-Api-Secret-Token value; 1-256 of A-Z a-z 0-9 _ -. Secret.",
    )

    webhook_max_connections: int = Field(
        default=40, ge=1, le=100, description="max_connections sent with setWebhook."
    )

    @field_validator("webhook_secret")
    @classmethod
    def _secret_shape(cls, value: SecretStr) -> SecretStr:
        if not WEBHOOK_SECRET_RE.fullmatch(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z a-z 0-9 _ -")
        return value

    @field_validator("webhook_path")
    @classmethod
    def _leading_slash(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("must start with /")
        return value


class HttpSettings(CommandSettings):
    """The HTTP server of ``tgbot serve``."""

    http_host: str = Field(default="0.0.0.0", description="Address `tgbot serve` binds.")  # noqa: S104

    http_port: int = Field(default=8080, ge=1, le=65535, description="Port `tgbot serve` binds.")

    webhook_max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Larger webhook bodies are refused with 413."
    )

    shutdown_drain_seconds: float = Field(
        default=6.0,
        ge=0,
        description="On SIGTERM, how long open connections get to be closed by their client (the "
        "proxy's keep-alive pool) after the listener closed: every answer meanwhile says "
        "`Connection: close` and /readyz says draining. Keep it above the proxy's idle keep-alive "
        "timeout (5 s at the compose edge).",
    )

    shutdown_grace_seconds: float = Field(
        default=25.0,
        ge=0,
        description="On SIGTERM, after the drain, how long in-flight updates may take to finish.",
    )


# --- commands ----------------------------------------------------------------------------


class MigrateSettings(DatabaseSettings):
    """``tgbot migrate`` (and ``tgbot alembic``): the database only."""

    # Least-privilege login users, made by `tgbot migrate --roles` (docs/security.md).
    app_database_url: PostgresUrl | None = Field(
        default=None,
        description="The bot's and the dispatcher's own PostgreSQL URL: `tgbot migrate --roles` "
        "creates its user (or sets its password) as a member of tgbot_app. Secret. Optional.",
    )
    panel_database_url: PostgresUrl | None = Field(
        default=None,
        description="The admin panel's own PostgreSQL URL: `tgbot migrate --roles` makes its user "
        "a member of tgbot_panel. Secret. Optional.",
    )
    readonly_database_url: PostgresUrl | None = Field(
        default=None,
        description="The backups' own PostgreSQL URL: `tgbot migrate --roles` makes its user a "
        "member of tgbot_readonly. Secret. Optional.",
    )


class DispatchSettings(
    DatabaseSettings,
    RedisSettings,
    TelegramSettings,
    OutboxSettings,
    GroupRateSettings,
    StaffTopicSettings,
):
    """``tgbot dispatch``: sends the outbox under the shared rate limits."""


class PollSettings(DispatchSettings, UpdateSettings, StaffChatSettings):
    """``tgbot poll`` (development): handles updates by long polling."""

    run_dispatcher_in_serve: bool = Field(
        default=False,
        description="Run the outbox dispatcher inside `tgbot serve` and `tgbot poll` too.",
    )


class ServeSettings(PollSettings, WebhookSettings, HttpSettings):
    """``tgbot serve``: the webhook, /healthz, /readyz, /metrics."""

    webhook_register_on_start: bool = Field(
        default=False,
        description="`tgbot serve` calls setWebhook at start (idempotent; handy with the sandbox).",
    )

    @model_validator(mode="after")
    def _url_to_register(self) -> Self:
        if self.webhook_register_on_start and self.webhook_url is None:
            raise ValueError("WEBHOOK_URL: is required when WEBHOOK_REGISTER_ON_START is on")
        return self


class SetWebhookSettings(TelegramSettings, WebhookSettings):
    """``tgbot set-webhook``: registers the webhook and the command menu."""

    webhook_url: AnyHttpUrl = Field(
        description="Public HTTPS URL Telegram posts updates to (set-webhook)."
    )


# Each command and the settings it reads (``tgbot check-config --for``, the docs).
COMMANDS: dict[str, type[CommandSettings]] = {
    "serve": ServeSettings,
    "poll": PollSettings,
    "dispatch": DispatchSettings,
    "migrate": MigrateSettings,
    "set-webhook": SetWebhookSettings,
}

SettingsT = TypeVar("SettingsT", bound=CommandSettings)


def load_settings(settings_cls: type[SettingsT], **overrides: Any) -> SettingsT:
    """Read one command's settings, turning validation errors into :class:`ConfigError`."""
    return load_settings_of(settings_cls, **overrides)
