"""``tgbot set-webhook``: register the webhook and the command menu, idempotently."""

from __future__ import annotations

import structlog
from aiogram import Bot, Dispatcher
from aiogram.types import BotCommandScopeDefault
from pydantic import AnyHttpUrl

from tgbot.bot.factory import COMMANDS
from tgbot.config import WebhookSettings

log = structlog.get_logger(__name__)


async def register_webhook(
    bot: Bot,
    dispatcher: Dispatcher,
    settings: WebhookSettings,
    url: AnyHttpUrl,
    *,
    force: bool = False,
) -> bool:
    """Set the webhook at ``url`` unless Telegram already has it. Returns whether setWebhook was
    called.

    The secret cannot be read back from Telegram: after rotating WEBHOOK_SECRET use ``force``.
    """
    allowed = sorted(dispatcher.resolve_used_update_types())
    info = await bot.get_webhook_info()
    same = (
        info.url == str(url)
        and sorted(info.allowed_updates or []) == allowed
        and info.max_connections == settings.webhook_max_connections
    )
    if same and not force:
        log.info("webhook.unchanged", allowed_updates=allowed)
        return False
    await bot.set_webhook(
        str(url),
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
