"""Staff in the group: what members write in topics reaches the bot as Telegram delivers it."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramRetryAfter

from tests.integration.sandbox.test_delivery import Receiver, receiver
from tests.support.sandbox import SandboxHandle

__all__ = ["receiver"]

STAFF_CHAT = -1001000000003
OTHER_CHAT = -1001000000004
ANNA = 7001  # administrator
BORIS = 7002  # member
MALLORY = 7003  # a member of the other chat only


async def two_groups(sandbox: SandboxHandle) -> None:
    await sandbox.create_group(
        chat_id=STAFF_CHAT,
        title="Staff",
        members=[
            {"user_id": ANNA, "first_name": "Anna", "status": "administrator"},
            {"user_id": BORIS, "first_name": "Boris", "username": "boris"},
        ],
    )
    await sandbox.create_group(
        chat_id=OTHER_CHAT, title="Elsewhere", members=[{"user_id": MALLORY}]
    )


async def test_a_staff_reply_in_a_topic_is_a_topic_message_from_the_member(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    await two_groups(sandbox)
    topic = await bot.create_forum_topic(STAFF_CHAT, "Ticket")

    written = await sandbox.staff_message(
        STAFF_CHAT, BORIS, "We are on it", message_thread_id=topic.message_thread_id
    )
    [update] = await bot.get_updates()

    assert written["queued"]
    message = update.message
    assert message is not None
    assert message.message_id == written["message_id"]
    assert message.chat.id == STAFF_CHAT
    assert message.chat.type == "supergroup"
    assert message.chat.is_forum
    assert message.message_thread_id == topic.message_thread_id
    assert message.is_topic_message
    assert message.from_user is not None
    assert (message.from_user.id, message.from_user.username) == (BORIS, "boris")
    assert message.text == "We are on it"
    assert message.reply_to_message is not None
    assert message.reply_to_message.message_id == topic.message_thread_id
    in_topic = await sandbox.topic_messages(STAFF_CHAT, topic.message_thread_id)
    assert [m.get("text") for m in in_topic] == [None, "We are on it"]


async def test_commands_media_and_replies_in_a_topic(bot: Bot, sandbox: SandboxHandle) -> None:
    await two_groups(sandbox)
    topic = await bot.create_forum_topic(STAFF_CHAT, "Ticket")
    thread = topic.message_thread_id
    user_copy = await bot.send_message(STAFF_CHAT, "the user's question", message_thread_id=thread)

    await sandbox.staff_message(STAFF_CHAT, ANNA, "/close", message_thread_id=thread)
    await sandbox.staff_message(STAFF_CHAT, ANNA, "/note called them", message_thread_id=thread)
    await sandbox.staff_message(
        STAFF_CHAT, BORIS, "see the photo", media="photo", message_thread_id=thread
    )
    await sandbox.staff_message(
        STAFF_CHAT,
        BORIS,
        "answering",
        message_thread_id=thread,
        reply_to_message_id=user_copy.message_id,
    )
    updates = await bot.get_updates()

    messages = [u.message for u in updates if u.message is not None]
    assert [m.text or m.caption for m in messages] == [
        "/close",
        "/note called them",
        "see the photo",
        "answering",
    ]
    assert messages[0].entities is not None
    assert messages[0].entities[0].type == "bot_command"
    assert messages[2].photo is not None
    assert messages[3].reply_to_message is not None
    assert messages[3].reply_to_message.message_id == user_copy.message_id
    assert all(m.message_thread_id == thread for m in messages)


async def test_members_of_another_chat_write_there_only(bot: Bot, sandbox: SandboxHandle) -> None:
    await two_groups(sandbox)

    status, refused = await sandbox.request(
        "POST", f"/sandbox/groups/{STAFF_CHAT}/messages", json={"user_id": MALLORY, "text": "hi"}
    )
    elsewhere = await sandbox.staff_message(OTHER_CHAT, MALLORY, "/close")
    [update] = await bot.get_updates()

    assert status == 403
    assert refused == {"error": f"user {MALLORY} is not a member of group {STAFF_CHAT}"}
    assert update.message is not None
    assert update.message.message_id == elsewhere["message_id"]
    assert update.message.chat.id == OTHER_CHAT
    assert update.message.message_thread_id is None


async def test_a_group_the_bot_left_sends_it_nothing(bot: Bot, sandbox: SandboxHandle) -> None:
    await sandbox.create_group(
        chat_id=OTHER_CHAT, members=[{"user_id": MALLORY}], bot_status="left"
    )

    written = await sandbox.staff_message(OTHER_CHAT, MALLORY, "anyone?")

    assert (written["delivered"], written["queued"], written["update_id"]) == (False, False, None)
    assert await bot.get_updates() == []


async def test_staff_close_reopen_and_delete_a_topic(bot: Bot, sandbox: SandboxHandle) -> None:
    await two_groups(sandbox)
    topic = await bot.create_forum_topic(STAFF_CHAT, "Ticket")
    thread = topic.message_thread_id

    await sandbox.topic_action(STAFF_CHAT, thread, "close", user_id=ANNA)
    await sandbox.topic_action(STAFF_CHAT, thread, "reopen")  # the first administrator acts
    status, refused = await sandbox.request(
        "POST", f"/sandbox/groups/{STAFF_CHAT}/topics/{thread}/delete", json={"user_id": BORIS}
    )
    await sandbox.topic_action(STAFF_CHAT, thread, "delete", user_id=ANNA)
    updates = await bot.get_updates()

    assert status == 403
    assert refused == {"error": f"user {BORIS} is not an administrator"}
    services = [u.message for u in updates if u.message is not None]
    assert [m.forum_topic_closed is not None for m in services] == [True, False]
    assert services[1].forum_topic_reopened is not None
    assert all(m.from_user is not None and m.from_user.id == ANNA for m in services)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(STAFF_CHAT, "next", message_thread_id=thread)
    status, gone = await sandbox.request(
        "POST",
        f"/sandbox/groups/{STAFF_CHAT}/messages",
        json={"user_id": ANNA, "text": "x", "message_thread_id": thread},
    )
    assert (status, gone) == (400, {"error": "message thread not found"})


async def test_a_staff_created_topic_reaches_the_bot(bot: Bot, sandbox: SandboxHandle) -> None:
    await two_groups(sandbox)

    created = await sandbox.request(
        "POST", f"/sandbox/groups/{STAFF_CHAT}/topics", json={"name": "By hand", "user_id": ANNA}
    )
    [update] = await bot.get_updates()

    assert created[0] == 200
    assert update.message is not None
    assert update.message.forum_topic_created is not None
    assert update.message.forum_topic_created.name == "By hand"
    assert update.message.message_thread_id == created[1]["topic"]["message_thread_id"]


async def test_a_staff_message_goes_to_the_webhook(
    bot: Bot, sandbox: SandboxHandle, receiver: Receiver
) -> None:
    await two_groups(sandbox)
    topic = await bot.create_forum_topic(STAFF_CHAT, "Ticket")
    await bot.set_webhook(receiver.url)

    written = await sandbox.staff_message(
        STAFF_CHAT, BORIS, "webhook", message_thread_id=topic.message_thread_id
    )

    assert written["delivered"]
    [(_, update)] = receiver.received
    assert update["message"]["chat"]["id"] == STAFF_CHAT
    assert update["message"]["message_thread_id"] == topic.message_thread_id
    assert update["message"]["is_topic_message"] is True


async def test_bad_group_input_is_refused_with_reasons(sandbox: SandboxHandle) -> None:
    await two_groups(sandbox)

    cases = [
        ("POST", "/sandbox/groups", {"chat_id": -5, "title": "x"}, 400),
        ("POST", "/sandbox/groups", {"title": ""}, 400),
        ("GET", "/sandbox/groups/-1009999999999", None, 404),
        ("POST", f"/sandbox/groups/{STAFF_CHAT}/messages", {"user_id": ANNA}, 400),
        (
            "POST",
            f"/sandbox/groups/{STAFF_CHAT}/messages",
            {"user_id": ANNA, "text": "x", "media": "hologram"},
            400,
        ),
        ("POST", f"/sandbox/groups/{STAFF_CHAT}/topics/77/close", {}, 404),
        ("GET", f"/sandbox/chats/{STAFF_CHAT}/messages?message_thread_id=x", None, 400),
    ]
    for verb, path, body, expected in cases:
        status, answer = await sandbox.request(verb, path, json=body)
        assert (status, "error" in answer) == (expected, True), (path, body, answer)


async def test_members_can_be_added_and_removed(sandbox: SandboxHandle) -> None:
    await two_groups(sandbox)

    await sandbox.add_member(STAFF_CHAT, MALLORY, first_name="Mallory")
    added = await sandbox.staff_message(STAFF_CHAT, MALLORY, "now I'm staff")
    status, after_removal = await sandbox.request(
        "DELETE", f"/sandbox/groups/{STAFF_CHAT}/members/{MALLORY}"
    )
    group = await sandbox.group(STAFF_CHAT)

    assert added["message_id"] > 0
    assert status == 200
    assert MALLORY not in [m["user"]["id"] for m in group["members"]]
    assert after_removal == group


async def test_twenty_messages_a_minute_into_one_group(bot: Bot, sandbox: SandboxHandle) -> None:
    await two_groups(sandbox)
    # Fast global and per-chat windows: only the group's minute window can refuse.
    await sandbox.set_faults(rate_limit=True, global_rate=1000, per_chat_rate=1000)
    topic = await bot.create_forum_topic(STAFF_CHAT, "Busy")  # a service message: counts

    for n in range(19):
        await bot.send_message(STAFF_CHAT, f"m{n}", message_thread_id=topic.message_thread_id)
    with pytest.raises(TelegramRetryAfter) as refused:
        await bot.send_message(STAFF_CHAT, "one too many")
    await bot.send_message(ANNA, "a private chat is not limited by the group")
    await bot.send_message(OTHER_CHAT, "another group has its own minute")

    assert 50 <= refused.value.retry_after <= 60
    stats = await sandbox.stats()
    assert stats["max_per_minute"]["by_group"][str(STAFF_CHAT)] == 20
    assert stats["sends_ok_by_group"][str(STAFF_CHAT)] == 20
    assert stats["rate_limited"] == 1


async def test_the_group_limit_is_a_fault_setting(bot: Bot, sandbox: SandboxHandle) -> None:
    await two_groups(sandbox)
    faults = await sandbox.set_faults(
        rate_limit=True, global_rate=1000, per_chat_rate=1000, group_per_minute=2
    )

    await bot.send_message(STAFF_CHAT, "1")
    await bot.send_message(STAFF_CHAT, "2")
    with pytest.raises(TelegramRetryAfter):
        await bot.send_message(STAFF_CHAT, "3")

    assert faults["group_per_minute"] == 2
    status, _ = await sandbox.request("POST", "/sandbox/faults", json={"group_per_minute": 0})
    assert status == 400


async def test_groups_list_their_topics_with_message_counts(
    bot: Bot, sandbox: SandboxHandle
) -> None:
    await two_groups(sandbox)
    topic = await bot.create_forum_topic(STAFF_CHAT, "Ticket")
    await bot.send_message(STAFF_CHAT, "x", message_thread_id=topic.message_thread_id)
    await bot.send_message(STAFF_CHAT, "to General")

    status, listing = await sandbox.request("GET", "/sandbox/groups")

    assert status == 200
    staff = next(g for g in listing["groups"] if g["chat"]["id"] == STAFF_CHAT)
    assert [(t["name"], t["message_count"]) for t in staff["topics"]] == [("Ticket", 2)]
    assert staff["message_count"] == 3
    assert staff["bot"] == {
        "status": "administrator",
        "can_manage_topics": True,
        "can_delete_messages": True,
    }
