"""The staff supergroup's router: what a staff member's message in a topic stages."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram.types import Chat, ForumTopicCreated, Message, PhotoSize, User

from tests.unit.bot.test_routers import NOW, PRIVATE, USER, Bench
from tgbot.db.queries.effects import FileMessage
from tgbot.db.queries.staff import StaffCommand, StaffMessage, StaffReply

STAFF = Chat(id=-1001234567890, type="supergroup", is_forum=True)
OTHER_GROUP = Chat(id=-1009999999999, type="supergroup", is_forum=True)
AGENT = User(id=7001, is_bot=False, first_name="Olga", last_name="Petrova")


@pytest.fixture
async def bench() -> Any:
    bench = Bench(staff_chat_id=STAFF.id)
    yield bench
    await bench.bot.session.close()


def in_topic(bench: Bench, chat: Chat = STAFF, thread: int | None = 42, **fields: Any) -> Message:
    return Message(
        message_id=next(bench._ids),
        date=NOW,
        chat=chat,
        from_user=AGENT,
        message_thread_id=thread,
        is_topic_message=thread is not None,
        **fields,
    )


async def test_a_staff_text_in_a_topic_is_a_reply_by_that_staff_member(bench: Bench) -> None:
    message = in_topic(bench, text="Your parcel left today")
    work = await bench.handled(message=message)
    assert work.effects == [
        StaffReply(
            source=StaffMessage(STAFF.id, 42, message.message_id, AGENT.id, "Olga Petrova"),
            content_type="text",
            text="Your parcel left today",
            file_id=None,
        )
    ]
    assert work.replies == []


async def test_a_staff_photo_is_a_reply_with_its_caption(bench: Bench) -> None:
    photo = [PhotoSize(file_id="p-big", file_unique_id="u", width=800, height=600)]
    work = await bench.handled(message=in_topic(bench, photo=photo, caption="label"))
    (reply,) = work.effects
    assert isinstance(reply, StaffReply)
    assert (reply.content_type, reply.text, reply.file_id) == ("photo", "label", "p-big")


@pytest.mark.parametrize(
    ("text", "command", "argument"),
    [
        ("/close", "close", ""),
        ("/ban confirm", "ban", "confirm"),
        ("/note called them, will retry", "note", "called them, will retry"),
        ("/Reopen@SupportBot", "reopen", ""),
    ],
)
async def test_commands_are_staged_not_relayed(
    bench: Bench, text: str, command: str, argument: str
) -> None:
    work = await bench.handled(message=in_topic(bench, text=text))
    (effect,) = work.effects
    assert isinstance(effect, StaffCommand)
    assert (effect.command, effect.argument) == (command, argument)


async def test_the_general_topic_and_service_messages_are_left_alone(bench: Bench) -> None:
    assert (await bench.handled(message=in_topic(bench, thread=None, text="hi all"))).effects == []
    created = ForumTopicCreated(name="x", icon_color=0)
    service = in_topic(bench, forum_topic_created=created)
    assert (await bench.handled(message=service)).effects == []


async def test_another_group_is_never_relayed(bench: Bench) -> None:
    work = await bench.feed(message=in_topic(bench, chat=OTHER_GROUP, text="psst"))
    assert work is None or not any(isinstance(e, StaffReply | StaffCommand) for e in work.effects)


async def test_a_users_message_is_filed_for_the_staff_chat(bench: Bench) -> None:
    message = Message(message_id=5, date=NOW, chat=PRIVATE, from_user=USER, text="help")
    (filed,) = (await bench.handled(message=message)).effects
    assert isinstance(filed, FileMessage)
    assert filed.staff_chat_id == STAFF.id
