"""``tgbot set-webhook``: register the webhook and the command menu, idempotently."""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlsplit, urlunsplit

import structlog
from aiogram import Bot, Dispatcher
from aiogram.types import BotCommandScopeDefault

from tgbot.bot.factory import COMMANDS
from tgbot.config import Settings, require

log = structlog.get_logger(__name__)

# Query parameter of the registered URL carrying a fingerprint of the webhook secret.
FINGERPRINT_PARAM = "secret_fingerprint"


def registered_url(settings: Settings) -> str:
    """WEBHOOK_URL as registered with Telegram: with ``?secret_fingerprint=<16 hex>``.

    getWebhookInfo never returns the secret token but does return the URL, so the fingerprint in
    the URL tells whether Telegram has the current secret: a rotated WEBHOOK_SECRET is a changed
    URL and is registered again, with nothing stored anywhere. The fingerprint is an HMAC keyed
    with the bot token, so whoever sees the URL (ingress logs) learns nothing about the secret.
    The bot's route matches the path only; the query string does not matter to it.
    """
    assert settings.webhook_url is not None
    assert settings.webhook_secret is not None
    assert settings.telegram_bot_token is not None
    mark = hmac.new(
        settings.telegram_bot_token.get_secret_value().encode(),
        b"webhook-secret:" + settings.webhook_secret.get_secret_value().encode(),
        hashlib.sha256,
    ).hexdigest()[:16]
    parts = urlsplit(str(settings.webhook_url))
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
    bot: Bot, dispatcher: Dispatcher, settings: Settings, *, force: bool = False
) -> bool:
    """Set the webhook unless Telegram already has it, with the current secret (see
    :func:`registered_url`). Returns whether setWebhook was called."""
    require(settings, "webhook_url", "webhook_secret", "telegram_bot_token")
    assert settings.webhook_secret is not None
    url = registered_url(settings)
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
    # Same address, other fingerprint: the secret was rotated (never logged, nor its mark).
    secret_changed = (
        bool(info.url) and info.url != url and _without_mark(info.url) == _without_mark(url)
    )
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
        "webhook.set",
        allowed_updates=allowed,
        max_connections=settings.webhook_max_connections,
        secret_changed=secret_changed,
    )
    return True
