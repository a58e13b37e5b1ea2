"""The sandbox's own settings: it must start without the bot's DATABASE_URL or token."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from tgbot.config.sources import LoggingSettings, load_settings_of


class SandboxConfig(LoggingSettings):
    """Settings of ``tgbot sandbox``. Names are the environment variables, upper-cased."""

    sandbox_host: str = Field(default="127.0.0.1", description="Address `tgbot sandbox` binds.")
    sandbox_port: int = Field(
        default=8081, ge=0, le=65535, description="Port `tgbot sandbox` binds (0: any free port)."
    )
    sandbox_bot_username: str = Field(
        default="sandbox_bot", description="Username getMe reports for the emulated bot."
    )
    sandbox_bot_first_name: str = Field(
        default="Sandbox Bot", description="First name getMe reports for the emulated bot."
    )
    sandbox_bot_id: int = Field(
        default=1,
        ge=1,
        description="Bot user id until the bot's first call; then the digits of its token.",
    )
    sandbox_webhook_attempts: int = Field(
        default=5, ge=1, description="Webhook delivery attempts per update before it is dropped."
    )
    sandbox_webhook_retry_delay: float = Field(
        default=1.0, ge=0, description="Seconds before the first webhook retry; doubles each time."
    )
    sandbox_webhook_max_delay: float = Field(
        default=30.0, ge=0, description="Upper bound of one webhook retry delay, in seconds."
    )
    sandbox_webhook_timeout: float = Field(
        default=10.0, gt=0, description="Seconds to wait for the bot's webhook to answer."
    )
    sandbox_webhook_ca_file: str | None = Field(
        default=None,
        description=(
            "PEM file of extra CA certificates trusted for https:// webhooks (e.g. a test ACME "
            "server's root), besides the system's."
        ),
    )
    sandbox_rate_limit: bool = Field(
        default=False, description="Enforce Telegram's send rate limits (429) from the start."
    )
    sandbox_global_rate: float = Field(
        default=30.0, gt=0, description="Messages per second allowed overall when rate limiting."
    )
    sandbox_per_chat_rate: float = Field(
        default=1.0, gt=0, description="Messages per second allowed per chat when rate limiting."
    )
    sandbox_max_recorded_calls: int = Field(
        default=100_000, ge=1, description="Bot API calls kept for /sandbox/sent (oldest dropped)."
    )

    @field_validator("sandbox_webhook_ca_file")
    @classmethod
    def _readable(cls, value: str | None) -> str | None:
        if value and not Path(value).is_file():
            raise ValueError(f"no such file: {value}")
        return value


def load_sandbox_config(**overrides: Any) -> SandboxConfig:
    """Read the sandbox settings, turning validation errors into :class:`ConfigError`."""
    return load_settings_of(SandboxConfig, **overrides)
