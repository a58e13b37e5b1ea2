from __future__ import annotations

import pytest

from tests.support.waiting import async_wait_until
from tgbot.sandbox.state import PollConflict, UpdateQueue
from tgbot.sandbox.updates import chat_key, command_entities, is_allowed, make_user, user_message


def test_commands_get_a_bot_command_entity_in_utf16_units() -> None:
    assert command_entities("/start payload") == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert command_entities("hello /start") == []
    assert command_entities("/") == []
    assert command_entities("/\U0001f600 x")[0]["length"] == 3  # an emoji is 2 UTF-16 units


def test_user_message_shape() -> None:
    user = make_user(5, first_name="Ann", language_code="en")

    message = user_message(message_id=3, user=user, text="/help", date=1)

    assert message["chat"] == {"id": 5, "type": "private", "first_name": "Ann"}
    assert message["from"]["language_code"] == "en"
    assert message["entities"][0]["type"] == "bot_command"


def test_chat_key_and_default_allowed_types() -> None:
    assert chat_key({"update_id": 1, "message": {"chat": {"id": 7}}}) == 7
    assert chat_key({"update_id": 1, "callback_query": {"from": {"id": 8}}}) == 8
    assert chat_key({"update_id": 1, "weird": 1}) == ""
    assert is_allowed({"update_id": 1, "message": {}}, None)
    assert not is_allowed({"update_id": 1, "chat_member": {}}, None)
    assert is_allowed({"update_id": 1, "chat_member": {}}, ["chat_member"])


def updates(*ids: int) -> list[dict[str, object]]:
    return [{"update_id": i, "message": {}} for i in ids]


async def test_queue_offset_semantics() -> None:
    queue = UpdateQueue()
    for update in updates(1, 2, 3, 4):
        await queue.push(update)

    got = await queue.get(offset=0, limit=2, wait=0, allowed=None)
    assert [u["update_id"] for u in got] == [1, 2]
    got = await queue.get(offset=3, limit=100, wait=0, allowed=None)
    assert [u["update_id"] for u in got] == [3, 4]
    got = await queue.get(offset=-1, limit=100, wait=0, allowed=None)
    assert [u["update_id"] for u in got] == [4]
    assert await queue.get(offset=5, limit=100, wait=0, allowed=None) == []


async def test_a_newer_poll_ends_an_older_one() -> None:
    import asyncio

    queue = UpdateQueue()
    old = asyncio.create_task(queue.get(offset=0, limit=100, wait=30, allowed=None))

    async def parked() -> bool:
        return queue.waiting == 1

    await async_wait_until(parked, timeout=5, interval=0.001, what="the old poll waits")

    assert await queue.get(offset=0, limit=100, wait=0, allowed=None) == []
    with pytest.raises(PollConflict):
        await asyncio.wait_for(old, 5)
