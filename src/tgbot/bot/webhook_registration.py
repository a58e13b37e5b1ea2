"""``tgbot set-webhook``: register the webhook and the command menu, idempotently."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit, urlunsplit

import structlog
from aiogram import Bot, Dispatcher
from aiogram.types import BotCommand, BotCommandScopeDefault
from pydantic import AnyHttpUrl

from tgbot.config import WebhookSettings
from tgbot.texts_defaults import COMMAND_MENU, SUPPORTED_LANGUAGES

log = structlog.get_logger(__name__)

# Query parameter of the registered URL carrying a fingerprint of the webhook secret.
FINGERPRINT_PARAM = "secret_fingerprint"


def registered_url(url: str, secret: str, token: str) -> str:
    """WEBHOOK_URL as registered with Telegram: with ``?secret_fingerprint=<16 hex>``.

    getWebhookInfo never returns the secret token but does return the URL, so the fingerprint in
    the URL tells whether Telegram has the current secret: a rotated WEBHOOK_SECRET is a changed
    URL and is registered again, with nothing stored anywhere. The fingerprint is an HMAC keyed
    with the bot token, so whoever sees the URL (ingress logs) learns nothing about the secret.
    The bot's route matches the path only; the query string does not matter to it.
    """
    mark = hmac.new(
        token.encode(), b"webhook-secret:" + secret.encode(), hashlib.sha256
    ).hexdigest()[:16]
    parts = urlsplit(url)
    query = "&".join(
        [q for q in parts.query.split("&") if q and not q.startswith(f"{FINGERPRINT_PARAM}=")]
        + [f"{FINGERPRINT_PARAM}={mark}"]
    )
    return urlunsplit(parts._replace(query=query))


def _without_mark(url: str) -> str:
    parts = urlsplit(url)
    query = "&".join(q for q in parts.query.split("&") if not q.startswith(f"{FINGERPRINT_PARAM}="))
    return urlunsplit(parts._replace(query=query))


async def register_webhook(
    bot: Bot,
    dispatcher: Dispatcher,
    settings: WebhookSettings,
    url: AnyHttpUrl,
    *,
    force: bool = False,
) -> bool:
    """Set the webhook at ``url`` unless Telegram already has it, with the current secret (see
    :func:`registered_url`). Returns whether setWebhook was called."""
    address = registered_url(str(url), settings.webhook_secret.get_secret_value(), bot.token)
    allowed = sorted(dispatcher.resolve_used_update_types())
    info = await bot.get_webhook_info()
    same = (
        info.url == address
        and sorted(info.allowed_updates or []) == allowed
        and info.max_connections == settings.webhook_max_connections
    )
    if same and not force:
        log.info("webhook.unchanged", allowed_updates=allowed)
        return False
    # Same address, other fingerprint: the secret was rotated (never logged, nor its mark).
    secret_changed = (
        bool(info.url) and info.url != address and _without_mark(info.url) == _without_mark(address)
    )
    await bot.set_webhook(
        address,
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
        "webhook.set",
        allowed_updates=allowed,
        max_connections=settings.webhook_max_connections,
        secret_changed=secret_changed,
    )
    return True


def command_menu(language: str) -> list[BotCommand]:
    """The command menu in ``language`` (``texts_defaults.COMMAND_MENU``)."""
    return [
        BotCommand(command=command, description=descriptions[language])
        for command, descriptions in COMMAND_MENU.items()
    ]
