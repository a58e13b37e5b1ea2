"""Settings plumbing shared by both services (stdlib + pydantic-settings only).

Both the bot and the admin read secrets either from ``NAME`` or from a file named by
``NAME_FILE`` (Docker and Kubernetes secrets), and both report bad settings as one readable
line per problem instead of a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

POSTGRES_SCHEMES = {"postgres", "postgresql", "postgresql+psycopg"}
REDIS_SCHEMES = {"redis", "rediss", "unix"}


def _check_postgres_url(value: SecretStr) -> SecretStr:
    parts = urlsplit(value.get_secret_value())
    if parts.scheme not in POSTGRES_SCHEMES:
        raise ValueError("must be a postgresql:// URL (postgresql://user:password@host:5432/db)")
    if not parts.path.strip("/"):
        raise ValueError("must name a database (postgresql://user:password@host:5432/db)")
    try:
        parts.port  # noqa: B018 - raises on a non-numeric port
    except ValueError as exc:
        raise ValueError(f"has an invalid port: {exc}") from exc
    if not parts.hostname and "host=" not in parts.query:
        raise ValueError("must name a host (postgresql://user:password@host:5432/db)")
    return value


def _check_redis_url(value: SecretStr) -> SecretStr:
    parts = urlsplit(value.get_secret_value())
    if parts.scheme not in REDIS_SCHEMES:
        raise ValueError("must be a redis:// URL (redis://host:6379/0)")
    return value


def _check_language(value: str) -> str:
    from tgbot.texts_defaults import SUPPORTED_LANGUAGES

    if value not in SUPPORTED_LANGUAGES:
        raise ValueError(f"must be one of {', '.join(SUPPORTED_LANGUAGES)}")
    return value


PostgresUrl = Annotated[SecretStr, AfterValidator(_check_postgres_url)]
# A language the bot speaks (tgbot.texts_defaults.LANGUAGES, the one list of them).
Language = Annotated[str, AfterValidator(_check_language)]
RedisUrl = Annotated[SecretStr, AfterValidator(_check_redis_url)]


class FileSecretError(ValueError):
    """A ``NAME_FILE`` variable points at a file that cannot be read."""


class EnvFileSecretsSource(PydanticBaseSettingsSource):
    """Reads ``<NAME>_FILE`` for every field: the file's content (stripped) is the value."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        prefix = self.settings_cls.model_config.get("env_prefix", "")
        env_name = f"{prefix}{field.alias or field_name}".upper() + "_FILE"
        path = os.environ.get(env_name)
        if not path:
            return None, field_name, False
        try:
            return Path(path).read_text(encoding="utf-8").strip(), field_name, False
        except OSError as exc:
            raise FileSecretError(f"{env_name}: cannot read {path}: {exc.strerror}") from exc

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, field in self.settings_cls.model_fields.items():
            value, key, _ = self.get_field_value(field, name)
            if value is not None:
                values[key] = value
        return values


class EnvSettings(BaseSettings):
    """Settings read from environment variables named like the fields, upper-cased.

    The one ``model_config`` of every settings class of the bot, the sandbox and the admin
    (subclasses add to it, e.g. an ``env_prefix``): unknown variables are ignored, an empty one
    counts as unset, and a rejected value is never echoed (it may be a secret).
    """

    model_config = SettingsConfigDict(
        case_sensitive=False, extra="ignore", env_ignore_empty=True, hide_input_in_errors=True
    )


class LoggingSettings(EnvSettings):
    """``LOG_LEVEL`` and ``LOG_FORMAT``, the same in every service (``tgbot.observability``)."""

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Minimum log level."
    )
    log_format: Literal["json", "console"] = Field(
        default="json",
        description="`json`: one JSON object per line on stdout, the same shape in every "
        "service; `console`: for humans.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class ErrorReportingSettings(EnvSettings):
    """``SENTRY_DSN`` (off when unset) and ``SENTRY_ENVIRONMENT`` (``tgbot.observability``)."""

    sentry_dsn: SecretStr | None = Field(
        default=None,
        description="Sentry DSN: report unhandled errors and error log lines there, with message "
        "text, tokens and secret headers scrubbed. Unset: no error reporting. Secret.",
    )
    sentry_environment: str | None = Field(
        default=None,
        max_length=64,
        description="Environment name on the reports (production, staging...); Sentry's default "
        "when unset.",
    )

    @field_validator("sentry_dsn")
    @classmethod
    def _dsn_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parts = urlsplit(value.get_secret_value())
            if parts.scheme not in {"http", "https"} or not parts.username or not parts.hostname:
                raise ValueError("is not a Sentry DSN (https://<key>@<host>/<project id>)")
            if not parts.path.strip("/"):
                raise ValueError("names no project (https://<key>@<host>/<project id>)")
        return value


class FileSecretsSettings(EnvSettings):
    """Settings whose every field may also come from ``<NAME>_FILE``.

    Source order: explicit keyword arguments, ``NAME_FILE``, then ``NAME``.
    """

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, EnvFileSecretsSource(settings_cls), env_settings, dotenv_settings)


def describe_errors(exc: ValidationError | FileSecretError, prefix: str = "") -> list[str]:
    """One readable line per problem, naming the environment variable."""
    if isinstance(exc, FileSecretError):
        return [f"config error: {exc}"]
    lines = []
    for err in exc.errors():
        name = (prefix + ".".join(str(p) for p in err["loc"])).upper()
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            message = "is required but not set"
        # A check across fields names its variables itself ("WEBHOOK_URL: is required when ...").
        lines.append(f"config error: {name}: {message}" if name else f"config error: {message}")
    return lines


class ConfigError(Exception):
    """Settings are missing or invalid; ``lines`` holds one readable line per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def load_settings_of(settings_cls: type[SettingsT], **overrides: Any) -> SettingsT:
    """Read ``settings_cls``, turning validation errors into :class:`ConfigError`."""
    try:
        return settings_cls(**overrides)
    except (ValidationError, FileSecretError) as exc:
        raise ConfigError(describe_errors(exc)) from None
