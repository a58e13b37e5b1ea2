"""Settings: read once per process, at the edge (``tgbot.cli``), one class per command.

``sources`` is the plumbing shared with the sandbox and the admin panel (``NAME_FILE`` secrets,
readable errors, logging settings); ``settings`` the bot's groups and commands.
"""

from tgbot.config.settings import (
    COMMANDS,
    CommandSettings,
    DatabaseSettings,
    DispatchSettings,
    MigrateSettings,
    PollSettings,
    RedisSettings,
    ServeSettings,
    SetWebhookSettings,
    TelegramSettings,
    WebhookSettings,
    async_postgres_url,
    load_settings,
    mask_url,
    postgres_url_for,
)
from tgbot.config.sources import ConfigError

__all__ = [
    "COMMANDS",
    "CommandSettings",
    "ConfigError",
    "DatabaseSettings",
    "DispatchSettings",
    "MigrateSettings",
    "PollSettings",
    "RedisSettings",
    "ServeSettings",
    "SetWebhookSettings",
    "TelegramSettings",
    "WebhookSettings",
    "async_postgres_url",
    "load_settings",
    "mask_url",
    "postgres_url_for",
]
