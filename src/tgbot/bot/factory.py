"""Builds the aiogram Bot and Dispatcher with the project's routers and middlewares."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage
from aiogram.types import BotCommand
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tgbot.bot.middlewares.database import DatabaseMiddleware
from tgbot.bot.middlewares.reply_errors import ReplyErrorsMiddleware
from tgbot.bot.middlewares.throttling import ThrottlingMiddleware
from tgbot.bot.middlewares.users import UserMiddleware
from tgbot.bot.routers import all_routers
from tgbot.config import Settings
from tgbot.services.texts import TextService
from tgbot.services.throttle import Throttle

COMMANDS = {
    "en": [
        BotCommand(command="start", description="Start"),
        BotCommand(command="help", description="What the bot can do"),
        BotCommand(command="language", description="Choose the language"),
        BotCommand(command="subscribe", description="Receive news"),
        BotCommand(command="unsubscribe", description="Stop receiving news"),
    ],
    "ru": [
        BotCommand(command="start", description="Начать"),
        BotCommand(command="help", description="Что умеет бот"),
        BotCommand(command="language", description="Выбрать язык"),
        BotCommand(command="subscribe", description="Получать новости"),
        BotCommand(command="unsubscribe", description="Отписаться от новостей"),
    ],
}


def create_bot(settings: Settings) -> Bot:
    token = settings.telegram_bot_token
    assert token is not None, "require(settings, 'telegram_bot_token') first"
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(str(settings.telegram_api_base).rstrip("/")),
        timeout=settings.telegram_request_timeout,
    )
    return Bot(token.get_secret_value(), session=session, default=DefaultBotProperties())


def create_dispatcher(
    *,
    storage: BaseStorage,
    sessionmaker: async_sessionmaker[AsyncSession],
    texts: TextService,
    throttle: Throttle,
) -> Dispatcher:
    dp = Dispatcher(storage=storage, texts=texts)
    # Outer, in order: transaction + dedup record, then the user (bans stop here).
    dp.update.outer_middleware(DatabaseMiddleware(sessionmaker))
    dp.update.outer_middleware(UserMiddleware())
    dp.message.outer_middleware(ThrottlingMiddleware(throttle))
    reply_errors = ReplyErrorsMiddleware()
    dp.message.middleware(reply_errors)
    dp.callback_query.middleware(reply_errors)
    dp.my_chat_member.middleware(reply_errors)
    dp.include_routers(*all_routers())
    return dp
