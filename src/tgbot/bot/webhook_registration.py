"""``tgbot set-webhook``: register the webhook and the command menu, idempotently."""

from __future__ import annotations

import structlog
from aiogram import Bot, Dispatcher
from aiogram.types import BotCommand, BotCommandScopeDefault
from pydantic import AnyHttpUrl

from tgbot.config import WebhookSettings
from tgbot.texts_defaults import COMMAND_MENU, SUPPORTED_LANGUAGES

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
    for language in SUPPORTED_LANGUAGES:
        await bot.set_my_commands(
            command_menu(language),
            scope=BotCommandScopeDefault(),
            # The first language's menu is the default, for users of any other language.
            language_code=None if language == SUPPORTED_LANGUAGES[0] else language,
        )
    log.info(
        "webhook.set", allowed_updates=allowed, max_connections=settings.webhook_max_connections
    )
    return True


def command_menu(language: str) -> list[BotCommand]:
    """The command menu in ``language`` (``texts_defaults.COMMAND_MENU``)."""
    return [
        BotCommand(command=command, description=descriptions[language])
        for command, descriptions in COMMAND_MENU.items()
    ]
