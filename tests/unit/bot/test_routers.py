"""Each router's handlers on the real unit of work's staging (``UpdateWork``), with no database.

Handlers are pure: they stage effects and replies. Updates go through a dispatcher with the bot's
own routers (filters, command parsing, callback data); what the handler staged is read back from
the work, and its replies are rendered for a person as the commit would find them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiogram import BaseMiddleware, Bot, Dispatcher
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage, TelegramMethod
from aiogram.types import (
    CallbackQuery,
    Chat,
    ChatMemberBanned,
    ChatMemberMember,
    ChatMemberUpdated,
    Message,
    PhotoSize,
    TelegramObject,
    Update,
    User,
)
from sqlalchemy.ext.asyncio import create_async_engine

from tgbot.bot.routers import all_routers
from tgbot.db.queries.effects import (
    FileMessage,
    RememberStartPayload,
    SetBlocked,
    SetLanguage,
    SetSubscribed,
)
from tgbot.db.queries.users import SeenUser
from tgbot.services.texts import TextService
from tgbot.texts_defaults import DEFAULT_TEXTS
from tgbot.updates.work import UpdateWork

USER = User(id=501, is_bot=False, first_name="Anna", language_code="ru")
PRIVATE = Chat(id=501, type="private")
GROUP = Chat(id=-100777, type="supergroup")
NOW = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)


class Staging(BaseMiddleware):
    """The unit of work's first half: the handler stages on a fresh ``UpdateWork``."""

    def __init__(self, texts: TextService) -> None:
        self.texts = texts
        self.work: UpdateWork | None = None

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        self.work = data["work"] = UpdateWork(self.texts)
        return await handler(event, data)


class Bench:
    def __init__(self, staff_chat_id: int | None = None) -> None:
        # Port 1 refuses at once: the texts fall back to the built-in ones, as when the
        # database is down; no handler reads or writes it.
        engine = create_async_engine("postgresql+asyncpg://bot@127.0.0.1:1/bot")
        self.texts = TextService(engine, default_language="en", ttl_seconds=3600)
        self.staging = Staging(self.texts)
        self.dispatcher = Dispatcher(texts=self.texts, staff_chat_id=staff_chat_id)
        self.dispatcher.include_routers(*all_routers())
        self.dispatcher.update.outer_middleware(self.staging)
        self.bot = Bot("42:TEST")  # builds the calls; nothing is sent
        self._ids = iter(range(1, 10_000))

    async def feed(self, **event: TelegramObject) -> UpdateWork | None:
        self.staging.work = None
        update = Update(update_id=next(self._ids), **event)
        await self.dispatcher.feed_update(self.bot, update)
        return self.staging.work

    async def handled(self, **event: TelegramObject) -> UpdateWork:
        work = await self.feed(**event)
        assert work is not None
        return work

    def message(self, text: str | None = None, chat: Chat = PRIVATE, **fields: Any) -> Message:
        return Message(
            message_id=next(self._ids), date=NOW, chat=chat, from_user=USER, text=text, **fields
        )


@pytest.fixture
async def bench() -> Any:
    bench = Bench()
    yield bench
    await bench.bot.session.close()


def seen(*, language: str = "ru", subscribed: bool = False) -> SeenUser:
    return SeenUser(
        telegram_id=USER.id,
        language=language,
        is_banned=False,
        is_subscribed=subscribed,
        is_new=False,
    )


def texts_of(replies: list[TelegramMethod[Any]]) -> list[str]:
    assert all(isinstance(r, SendMessage) for r in replies)
    return [r.text for r in replies if isinstance(r, SendMessage)]


async def test_start_greets_by_name_and_remembers_the_payload(bench: Bench) -> None:
    work = await bench.handled(message=bench.message("/start spring_sale"))
    assert work.effects == [RememberStartPayload(telegram_id=USER.id, payload="spring_sale")]
    [greeting] = texts_of(await work.render(seen()))
    assert greeting == DEFAULT_TEXTS["start"]["ru"].format(name="Anna")


async def test_start_without_a_payload_writes_nothing(bench: Bench) -> None:
    work = await bench.handled(message=bench.message("/start"))
    assert work.effects == []
    assert texts_of(await work.render(seen(language="en"))) == [
        DEFAULT_TEXTS["start"]["en"].format(name="Anna")
    ]


async def test_help_answers_in_the_users_language(bench: Bench) -> None:
    work = await bench.handled(message=bench.message("/help"))
    assert work.effects == []
    assert texts_of(await work.render(seen(language="en"))) == [DEFAULT_TEXTS["help"]["en"]]


async def test_language_offers_a_keyboard_and_saves_the_choice(bench: Bench) -> None:
    asked = await bench.handled(message=bench.message("/language"))
    [prompt] = await asked.render(seen())
    assert isinstance(prompt, SendMessage)
    buttons = [b for row in prompt.reply_markup.inline_keyboard for b in row]  # type: ignore[union-attr]
    assert [b.text for b in buttons] == ["English", "Русский"]

    query = CallbackQuery(
        id="q1",
        from_user=USER,
        chat_instance="c",
        data=buttons[0].callback_data,
        message=bench.message("prompt"),
    )
    chosen = await bench.handled(callback_query=query)
    assert chosen.effects == [SetLanguage(telegram_id=USER.id, language="en")]
    answered, edited = await chosen.render(seen(language="ru"))
    # The confirmation is in the language chosen, not the one the user had.
    assert isinstance(answered, AnswerCallbackQuery)
    assert answered.text == DEFAULT_TEXTS["language_saved"]["en"]
    assert isinstance(edited, EditMessageText)
    assert edited.text == DEFAULT_TEXTS["language_saved"]["en"]


async def test_an_unknown_language_in_callback_data_is_not_handled(bench: Bench) -> None:
    query = CallbackQuery(id="q2", from_user=USER, chat_instance="c", data="lang:de")
    work = await bench.handled(callback_query=query)  # staged, but no handler ran
    assert work.effects == []
    assert work.replies == []


@pytest.mark.parametrize(
    ("command", "subscribed", "effect", "key"),
    [
        ("/subscribe", False, True, "subscribed"),
        ("/subscribe", True, True, "already_subscribed"),
        ("/unsubscribe", True, False, "unsubscribed"),
        ("/unsubscribe", False, False, "already_unsubscribed"),
    ],
)
async def test_subscription_answers_from_the_user_as_the_commit_found_them(
    bench: Bench, command: str, subscribed: bool, effect: bool, key: str
) -> None:
    work = await bench.handled(message=bench.message(command))
    assert work.effects == [SetSubscribed(telegram_id=USER.id, subscribed=effect)]
    assert texts_of(await work.render(seen(subscribed=subscribed))) == [DEFAULT_TEXTS[key]["ru"]]


async def test_a_message_is_filed_and_acknowledged(bench: Bench) -> None:
    message = bench.message("Where is my order?")
    work = await bench.handled(message=message)
    assert work.effects == [
        FileMessage(
            user_id=USER.id,
            content_type="text",
            text="Where is my order?",
            file_id=None,
            telegram_message_id=message.message_id,
        )
    ]
    assert texts_of(await work.render(seen())) == [DEFAULT_TEXTS["message_received"]["ru"]]


async def test_a_photo_is_filed_with_its_largest_size_and_caption(bench: Bench) -> None:
    sizes = [
        PhotoSize(file_id=f"photo-{w}", file_unique_id=f"u{w}", width=w, height=w)
        for w in (90, 320, 1280)
    ]
    message = bench.message(photo=sizes, caption="broken box")
    work = await bench.handled(message=message)
    [filed] = work.effects
    assert filed == FileMessage(
        user_id=USER.id,
        content_type="photo",
        text="broken box",
        file_id="photo-1280",
        telegram_message_id=message.message_id,
    )


async def test_an_unknown_command_is_a_support_message(bench: Bench) -> None:
    work = await bench.handled(message=bench.message("/refund 42"))
    [filed] = work.effects
    assert isinstance(filed, FileMessage)
    assert filed.text == "/refund 42"


async def test_group_messages_are_not_handled(bench: Bench) -> None:
    work = await bench.handled(message=bench.message("/start", chat=GROUP))
    assert work.effects == []
    assert work.replies == []


@pytest.mark.parametrize(
    ("member", "blocked"), [(ChatMemberBanned, True), (ChatMemberMember, False)]
)
async def test_blocking_and_unblocking_the_bot_is_recorded(
    bench: Bench, member: type[ChatMemberBanned | ChatMemberMember], blocked: bool
) -> None:
    bot_user = User(id=42, is_bot=True, first_name="Bot")
    before: Any = (
        ChatMemberMember(user=bot_user)
        if blocked
        else ChatMemberBanned(user=bot_user, until_date=NOW)
    )
    after: Any = (
        ChatMemberBanned(user=bot_user, until_date=NOW)
        if blocked
        else ChatMemberMember(user=bot_user)
    )
    assert isinstance(after, member)
    event = ChatMemberUpdated(
        chat=PRIVATE, from_user=USER, date=NOW, old_chat_member=before, new_chat_member=after
    )
    work = await bench.handled(my_chat_member=event)
    assert work.effects == [SetBlocked(telegram_id=USER.id, blocked=blocked)]
    assert work.replies == []
