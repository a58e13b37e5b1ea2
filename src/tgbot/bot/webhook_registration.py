"""``tgbot set-webhook``: register the webhook and the command menu, idempotently."""

from __future__ import annotations

import structlog
from aiogram import Bot, Dispatcher
from aiogram.types import BotCommandScopeDefault

from tgbot.bot.factory import COMMANDS
from tgbot.config import Settings, require

log = structlog.get_logger(__name__)


async def register_webhook(
    bot: Bot, dispatcher: Dispatcher, settings: Settings, *, force: bool = False
) -> bool:
    """Set the webhook unless Telegram already has it. Returns whether setWebhook was called.

    The secret cannot be read back from Telegram: after rotating WEBHOOK_SECRET use ``force``.
    """
    require(settings, "webhook_url", "webhook_secret")
    assert settings.webhook_url is not None
    assert settings.webhook_secret is not None
    url = str(settings.webhook_url)
    allowed = sorted(dispatcher.resolve_used_update_types())
    info = await bot.get_webhook_info()
    same = (
        info.url == url
        and sorted(info.allowed_updates or []) == allowed
        and info.max_connections == settings.webhook_max_connections
    )
    if same and not force:
        log.info("webhook.unchanged", allowed_updates=allowed)
        return False
    await bot.set_webhook(
        url,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=allowed,
        max_connections=settings.webhook_max_connections,
        drop_pending_updates=False,
    )
    for language, commands in COMMANDS.items():
        await bot.set_my_commands(
            commands,
            scope=BotCommandScopeDefault(),
            language_code=None if language == "en" else language,
        )
    log.info(
        "webhook.set", allowed_updates=allowed, max_connections=settings.webhook_max_connections
    )
    return True
