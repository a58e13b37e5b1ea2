"""Builds the aiogram Bot and Dispatcher with the project's routers and middlewares."""

from __future__ import annotations

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage

from tgbot.bot.fsm import StateOnDemandMiddleware, reads_state
from tgbot.bot.handler_name import HandlerNameMiddleware
from tgbot.bot.routers import all_routers
from tgbot.config import TelegramSettings
from tgbot.delivery.session import BotAPISession
from tgbot.services.texts import TextService
from tgbot.updates.replies import ReplySender
from tgbot.updates.store import UpdateStore
from tgbot.updates.throttle import Throttle
from tgbot.updates.throttling import ThrottlingMiddleware
from tgbot.updates.unit_of_work import UnitOfWorkMiddleware


def create_bot(settings: TelegramSettings) -> Bot:
    session = BotAPISession(
        api=TelegramAPIServer.from_base(str(settings.telegram_api_base).rstrip("/")),
        timeout=settings.telegram_request_timeout,
    )
    return Bot(
        settings.telegram_bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(),
    )


def create_dispatcher(
    *,
    storage: BaseStorage,
    store: UpdateStore,
    replies: ReplySender,
    texts: TextService,
    throttle: Throttle,
    staff_chat_id: int | None = None,
) -> Dispatcher:
    # staff_chat_id (STAFF_CHAT_ID) reaches the handlers by name: the staff router answers that
    # chat alone, and users' messages are copied into it.
    dp = Dispatcher(storage=storage, disable_fsm=True, texts=texts, staff_chat_id=staff_chat_id)
    dp.include_routers(*all_routers())
    # Outer, in order: the FSM context, then the unit of work (the handler stages; the claim,
    # the person and the effects commit after it, then the replies go out).
    dp.update.outer_middleware(StateOnDemandMiddleware(storage, read_state=reads_state(dp)))
    dp.update.outer_middleware(UnitOfWorkMiddleware(store, replies))
    dp.message.outer_middleware(ThrottlingMiddleware(throttle))
    handler_name = HandlerNameMiddleware()
    dp.message.middleware(handler_name)
    dp.callback_query.middleware(handler_name)
    dp.my_chat_member.middleware(handler_name)
    return dp
