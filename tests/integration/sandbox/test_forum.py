"""Forum supergroups over real HTTP: a real aiogram Bot manages topics and writes into them."""

from __future__ import annotations

from typing import Any

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import ChatMemberAdministrator, ChatMemberMember, ForumTopic

from tests.support.sandbox import SandboxHandle

STAFF_CHAT = -1001000000001
ANNA = 5001  # an administrator of the staff group
BORIS = 5002  # a plain member
OUTSIDER = 5003


async def staff_group(sandbox: SandboxHandle, **fields: Any) -> dict[str, Any]:
    return await sandbox.create_group(
        chat_id=STAFF_CHAT,
        title="Support staff",
        members=[
            {"user_id": ANNA, "first_name": "Anna", "status": "administrator"},
            {"user_id": BORIS, "first_name": "Boris"},
        ],
        **fields,
    )


async def test_a_created_group_is_a_forum_with_the_bot_as_topic_admin(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    created = await staff_group(sandbox)

    chat = await bot.get_chat(STAFF_CHAT)
    me = await bot.get_chat_member(STAFF_CHAT, bot.id)
    boris = await bot.get_chat_member(STAFF_CHAT, BORIS)
    admins = await bot.get_chat_administrators(STAFF_CHAT)

    assert created["chat"] == {
        "id": STAFF_CHAT,
        "type": "supergroup",
        "title": "Support staff",
        "is_forum": True,
    }
    assert (chat.type, chat.title, chat.is_forum) == ("supergroup", "Support staff", True)
    assert isinstance(me, ChatMemberAdministrator)
    assert me.can_manage_topics
    assert isinstance(boris, ChatMemberMember)
    assert boris.user.first_name == "Boris"
    assert sorted(a.user.id for a in admins) == sorted([ANNA, bot.id])


async def test_a_group_without_an_id_gets_a_supergroup_id(sandbox: SandboxHandle) -> None:
    first = await sandbox.create_group(title="A")
    second = await sandbox.create_group(title="B")

    ids = [first["chat"]["id"], second["chat"]["id"]]
    assert all(str(i).startswith("-100") and len(str(i)) == 14 for i in ids)
    assert ids[0] != ids[1]


async def test_create_forum_topic_returns_the_topic_and_posts_its_service_message(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    await staff_group(sandbox)

    topic = await bot.create_forum_topic(STAFF_CHAT, "Anna Smirnova · @anna_s · #1042")
    other = await bot.create_forum_topic(STAFF_CHAT, "Second", icon_color=0xFB6F5F)

    assert isinstance(topic, ForumTopic)
    assert topic.name == "Anna Smirnova · @anna_s · #1042"
    assert topic.icon_color in (0x6FB9F0, 0xFFD67E, 0xCB86DB, 0x8EEE98, 0xFF93B2, 0xFB6F5F)
    assert other.icon_color == 0xFB6F5F
    assert other.message_thread_id != topic.message_thread_id
    [created] = await sandbox.topic_messages(STAFF_CHAT, topic.message_thread_id)
    assert created["message_id"] == topic.message_thread_id
    assert created["forum_topic_created"]["name"] == topic.name
    assert created["from"]["id"] == bot.id
    group = await sandbox.group(STAFF_CHAT)
    assert [t["name"] for t in group["topics"]] == [topic.name, "Second"]


async def test_topic_creation_is_refused_as_telegram_refuses_it(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    await staff_group(sandbox)
    plain = await sandbox.create_group(title="No topics", is_forum=False)
    powerless = await sandbox.create_group(title="No rights", bot_can_manage_topics=False)
    left = await sandbox.create_group(title="Left", bot_status="left")

    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(plain["chat"]["id"], "x")
    with pytest.raises(TelegramBadRequest, match="not enough rights to create a topic"):
        await bot.create_forum_topic(powerless["chat"]["id"], "x")
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the supergroup"):
        await bot.create_forum_topic(left["chat"]["id"], "x")
    with pytest.raises(TelegramBadRequest, match="name is empty"):
        await bot.create_forum_topic(STAFF_CHAT, "")
    with pytest.raises(TelegramBadRequest, match="TOPIC_TITLE_INVALID"):
        await bot.create_forum_topic(STAFF_CHAT, "x" * 129)
    with pytest.raises(TelegramBadRequest, match="TOPIC_ICON_COLOR_INVALID"):
        await bot.create_forum_topic(STAFF_CHAT, "x", icon_color=0x123456)
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(ANNA, "a private chat")


async def test_edit_close_reopen_post_service_messages_and_refuse_no_ops(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    await staff_group(sandbox)
    topic = await bot.create_forum_topic(STAFF_CHAT, "Before")
    thread = topic.message_thread_id

    assert await bot.edit_forum_topic(STAFF_CHAT, thread, name="After")
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.edit_forum_topic(STAFF_CHAT, thread, name="After")
    assert await bot.close_forum_topic(STAFF_CHAT, thread)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(STAFF_CHAT, thread)
    assert await bot.reopen_forum_topic(STAFF_CHAT, thread)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.reopen_forum_topic(STAFF_CHAT, thread)
    with pytest.raises(TelegramBadRequest, match="TOPIC_ID_INVALID"):
        await bot.close_forum_topic(STAFF_CHAT, 9999)

    in_topic = await sandbox.topic_messages(STAFF_CHAT, thread)
    kinds = [next(k for k in m if k.startswith("forum_topic_")) for m in in_topic]
    assert kinds == [
        "forum_topic_created",
        "forum_topic_edited",
        "forum_topic_closed",
        "forum_topic_reopened",
    ]
    assert in_topic[1]["forum_topic_edited"] == {"name": "After"}
    [listed] = (await sandbox.group(STAFF_CHAT))["topics"]
    assert (listed["name"], listed["is_closed"]) == ("After", False)


async def test_the_bot_manages_its_own_topics_without_the_right_but_not_others(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    await staff_group(sandbox)
    mine = await bot.create_forum_topic(STAFF_CHAT, "Mine")
    theirs = await sandbox.request(
        "POST", f"/sandbox/groups/{STAFF_CHAT}/topics", json={"name": "Theirs", "user_id": ANNA}
    )
    await staff_group(sandbox, bot_can_manage_topics=False)

    assert await bot.close_forum_topic(STAFF_CHAT, mine.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="CHAT_ADMIN_REQUIRED"):
        await bot.close_forum_topic(STAFF_CHAT, theirs[1]["topic"]["message_thread_id"])


async def test_messages_sent_into_a_topic_carry_its_thread(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    await staff_group(sandbox)
    topic = await bot.create_forum_topic(STAFF_CHAT, "Ticket")

    sent = await bot.send_message(
        STAFF_CHAT, "hello staff", message_thread_id=topic.message_thread_id
    )
    general = await bot.send_message(STAFF_CHAT, "to the General topic")

    assert sent.message_thread_id == topic.message_thread_id
    assert sent.is_topic_message
    assert sent.chat.is_forum
    assert sent.reply_to_message is not None
    assert sent.reply_to_message.forum_topic_created is not None
    assert general.message_thread_id is None
    texts = [
        m.get("text") for m in await sandbox.topic_messages(STAFF_CHAT, topic.message_thread_id)
    ]
    assert texts == [None, "hello staff"]  # the service message, then the text
    calls = await sandbox.sent(chat_id=STAFF_CHAT, message_thread_id=topic.message_thread_id)
    assert [c["method"] for c in calls] == ["sendMessage"]
    assert calls[0]["message_thread_id"] == topic.message_thread_id


async def test_a_deleted_topic_is_gone_for_sends_copies_and_management(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    await staff_group(sandbox)
    topic = await bot.create_forum_topic(STAFF_CHAT, "Doomed")
    thread = topic.message_thread_id
    kept = await bot.send_message(STAFF_CHAT, "in the topic", message_thread_id=thread)

    assert await bot.delete_forum_topic(STAFF_CHAT, thread)

    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(STAFF_CHAT, "again", message_thread_id=thread)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_photo(STAFF_CHAT, "sbx_photo", message_thread_id=thread)
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(ANNA, STAFF_CHAT, kept.message_id)
    with pytest.raises(TelegramBadRequest, match="TOPIC_ID_INVALID"):
        await bot.delete_forum_topic(STAFF_CHAT, thread)
    assert await sandbox.topic_messages(STAFF_CHAT, thread) == []
    [listed] = (await sandbox.group(STAFF_CHAT))["topics"]
    assert listed["is_deleted"]
    failed = await sandbox.sent(chat_id=STAFF_CHAT, method="sendMessage")
    assert [c["error_code"] for c in failed] == [None, 400]


async def test_a_thread_that_never_existed_is_not_found_anywhere(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    await staff_group(sandbox)

    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(STAFF_CHAT, "x", message_thread_id=424242)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(ANNA, "x", message_thread_id=7)


async def test_deleting_a_topic_needs_the_delete_right(bot: Bot, sandbox: SandboxHandle) -> None:
    await staff_group(sandbox, bot_can_delete_messages=False)
    topic = await bot.create_forum_topic(STAFF_CHAT, "Stays")

    with pytest.raises(TelegramBadRequest, match="CHAT_ADMIN_REQUIRED"):
        await bot.delete_forum_topic(STAFF_CHAT, topic.message_thread_id)


async def test_the_bot_as_admin_writes_into_a_closed_topic_a_member_cannot(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    await staff_group(sandbox)
    topic = await bot.create_forum_topic(STAFF_CHAT, "Closed")
    await bot.close_forum_topic(STAFF_CHAT, topic.message_thread_id)

    sent = await bot.send_message(
        STAFF_CHAT, "still here", message_thread_id=topic.message_thread_id
    )
    status, member = await sandbox.request(
        "POST",
        f"/sandbox/groups/{STAFF_CHAT}/messages",
        json={"user_id": BORIS, "text": "me too", "message_thread_id": topic.message_thread_id},
    )
    admin = await sandbox.staff_message(
        STAFF_CHAT, ANNA, "admins may", message_thread_id=topic.message_thread_id
    )

    assert sent.message_thread_id == topic.message_thread_id
    assert (status, member) == (400, {"error": "TOPIC_CLOSED"})
    assert admin["message_id"] > sent.message_id


async def test_a_bot_without_the_right_cannot_write_into_a_closed_topic(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    await staff_group(sandbox)
    topic = await bot.create_forum_topic(STAFF_CHAT, "Closed")
    await bot.close_forum_topic(STAFF_CHAT, topic.message_thread_id)
    await staff_group(sandbox, bot_status="member")

    with pytest.raises(TelegramBadRequest, match="TOPIC_CLOSED"):
        await bot.send_message(STAFF_CHAT, "x", message_thread_id=topic.message_thread_id)
