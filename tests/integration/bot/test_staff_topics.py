"""The staff supergroup across real processes: two `tgbot serve` replicas, `tgbot dispatch`,
`tgbot sandbox` (with its forum supergroups), PostgreSQL and Redis.

Users write to the bot through the sandbox; staff write in the sandbox's staff supergroup
(its control API acts as a member); what reaches whom is read back from the sandbox's chats
and recorded calls, and from the database.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiogram import Bot as AiogramBot
from aiogram.client.telegram import TelegramAPIServer

from tests.integration.bot.conftest import (
    Bot,
    SandboxProcess,
    flush_redis,
    point_webhook_at,
    start_bot,
    start_sandbox_process,
)
from tests.support import services
from tests.support.processes import ServiceProcess, base_env, free_port
from tests.support.waiting import wait_until
from tgbot.bot.staff_chat import check_staff_chat
from tgbot.db.migrate import migrate
from tgbot.delivery.session import BotAPISession

STAFF_CHAT = -1001234567890
OTHER_CHAT = -1009876543210
AGENT = 9001  # a member (admin) of the staff group
OUTSIDER = 9002  # a member of another group only
GROUP_RATE = 300  # per minute, in the sandbox and the dispatcher alike (the burst test)


def control(base_url: str, verb: str, path: str, **body: Any) -> Any:
    """The sandbox's control API (docs/sandbox.md)."""
    response = httpx.request(verb, f"{base_url}/sandbox{path}", json=body or None, timeout=30)
    assert response.status_code < 300, response.text
    return response.json()


@dataclass
class Stack:
    sandbox: SandboxProcess
    replicas: list[Bot]
    dispatcher: ServiceProcess

    @property
    def api(self) -> str:
        return f"{self.sandbox.base_url}/bot{self.sandbox.token}"

    def control(self, verb: str, path: str, **body: Any) -> Any:
        return control(self.sandbox.base_url, verb, path, **body)

    def user_writes(self, user_id: int, text: str = "", **fields: Any) -> dict[str, Any]:
        body = {"text": text, "first_name": f"Anna{user_id}", "username": f"anna_{user_id}"}
        return dict(self.control("POST", f"/users/{user_id}/messages", **body, **fields))

    def staff_writes(
        self,
        thread: int | None,
        text: str = "",
        chat: int = STAFF_CHAT,
        user: int = AGENT,
        **f: Any,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"user_id": user, "text": text, **f}
        if thread is not None:
            body["message_thread_id"] = thread
        return dict(self.control("POST", f"/groups/{chat}/messages", **body))

    def calls(self, **params: Any) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.sandbox.base_url}/sandbox/sent", params=params, timeout=30)
        response.raise_for_status()
        return list(response.json()["calls"])

    def topic_messages(self, thread: int) -> list[dict[str, Any]]:
        data = self.control("GET", f"/chats/{STAFF_CHAT}/messages?message_thread_id={thread}")
        return list(data["messages"])

    def chat(self, chat_id: int) -> list[dict[str, Any]]:
        return list(self.control("GET", f"/chats/{chat_id}/messages")["messages"])

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self.replicas[0].query(sql, *params)

    def topic_of(self, user_id: int, timeout: float = 30) -> int:
        found = wait_until(
            lambda: next(
                iter(
                    self.query(
                        "SELECT staff_topic_id FROM conversations WHERE user_id = %s "
                        "AND status = 'open' AND staff_topic_id IS NOT NULL",
                        user_id,
                    )
                ),
                None,
            ),
            timeout=timeout,
        )
        return int(found[0])


@pytest.fixture(scope="module")
def stack(
    pg_server: services.PostgresServer, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    tmp: Path = tmp_path_factory.mktemp("staff")
    # A database and a Redis database of this module's own: its sandbox numbers updates from 1,
    # which the session's processed_updates and dedup keys would take for duplicates (and its
    # dedup keys would make the session bot drop the session sandbox's next updates).
    migrated_db_url = pg_server.create_database()
    migrate(migrated_db_url)
    redis_url = redis_url.rsplit("/", 1)[0] + "/7"
    flush_redis(redis_url)
    sandbox = start_sandbox_process(tmp, SANDBOX_PER_CHAT_RATE="100")
    # The groups exist before the replicas start: each checks the staff group at start.
    members = [{"user_id": AGENT, "first_name": "Olga", "status": "administrator"}]
    control(
        sandbox.base_url, "POST", "/groups", chat_id=STAFF_CHAT, title="Support", members=members
    )
    outsiders = [{"user_id": OUTSIDER, "first_name": "Eve", "status": "administrator"}]
    control(
        sandbox.base_url, "POST", "/groups", chat_id=OTHER_CHAT, title="Other", members=outsiders
    )
    staff = {"STAFF_CHAT_ID": str(STAFF_CHAT)}
    replicas = [start_bot(tmp, migrated_db_url, redis_url, sandbox, **staff) for _ in range(2)]
    env = base_env(
        DATABASE_URL=migrated_db_url,
        REDIS_URL=redis_url,
        TELEGRAM_BOT_TOKEN=sandbox.token,
        TELEGRAM_API_BASE=sandbox.base_url,
        TELEGRAM_API_ALLOW_HTTP="true",
        OUTBOX_GROUP_RATE_PER_MINUTE=str(GROUP_RATE),
        OUTBOX_POLL_SECONDS="0.2",
        PANEL_PUBLIC_URL="https://admin.example.com/admin/",
        DISPATCHER_METRICS_PORT=str(free_port()),
        LOG_FORMAT="json",
    )
    dispatcher = ServiceProcess(["dispatch"], env, tmp / "dispatch.log").start()
    stack = Stack(sandbox, replicas, dispatcher)
    point_webhook_at(sandbox, replicas[0])
    yield stack
    dispatcher.stop()
    for replica in replicas:
        replica.process.stop()
    sandbox.process.stop()
    pg_server.drop_database(migrated_db_url)
    flush_redis(redis_url)


def in_topic(stack: Stack, thread: int, minimum: int, timeout: float = 30) -> list[dict[str, Any]]:
    """The topic's messages once it holds ``minimum`` besides its forum_topic_created one."""

    def enough() -> list[dict[str, Any]] | None:
        found = [x for x in stack.topic_messages(thread) if "forum_topic_created" not in x]
        return found if len(found) >= minimum else None

    return wait_until(enough, timeout=timeout)


def test_each_replica_found_the_staff_group_ready_at_start(stack: Stack) -> None:
    for replica in stack.replicas:
        assert '"event": "staff_chat.ready"' in replica.process.log()
        assert "staff_chat.not_ready" not in replica.process.log()


def test_first_messages_racing_on_two_replicas_make_one_topic(stack: Stack) -> None:
    user = 5001
    # Two messages of a new user, each update handled by a different replica at the same time.
    httpx.post(f"{stack.api}/deleteWebhook", timeout=10).raise_for_status()
    stack.user_writes(user, "first", wait=False)
    stack.user_writes(user, "second", wait=False)
    updates = httpx.post(f"{stack.api}/getUpdates", json={"timeout": 0}, timeout=10).json()
    mine = [u for u in updates["result"] if u["message"]["from"]["id"] == user]
    assert len(mine) == 2
    httpx.post(f"{stack.api}/getUpdates", json={"offset": mine[-1]["update_id"] + 1}, timeout=10)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        answers = list(
            pool.map(
                lambda pair: pair[0].post_update(pair[1]), zip(stack.replicas, mine, strict=True)
            )
        )
    assert [a.status_code for a in answers] == [200, 200]
    point_webhook_at(stack.sandbox, stack.replicas[0])

    thread = stack.topic_of(user)
    messages = in_topic(stack, thread, minimum=3)  # the header, then both copies
    # Handled at the same moment, either may be filed first: the topic shows them as filed.
    filed = stack.query(
        "SELECT m.text FROM messages m JOIN conversations c ON c.id = m.conversation_id "
        "WHERE c.user_id = %s ORDER BY m.id",
        user,
    )
    assert sorted(filed) == [("first",), ("second",)]
    assert [(m.get("text"),) for m in messages[1:]] == filed
    assert "Conversation #" in messages[0]["text"]
    assert "Language:" in messages[0]["text"]
    created = [c for c in stack.calls(chat_id=STAFF_CHAT, method="createForumTopic") if c["ok"]]
    names = [c["params"]["name"] for c in created if f"@anna_{user}" in c["params"]["name"]]
    assert len(names) == 1
    (conversation_id,) = stack.query("SELECT id FROM conversations WHERE user_id = %s", user)[0]
    assert names[0] == f"Anna{user} · @anna_{user} · #{conversation_id}"


def test_a_users_text_photo_voice_and_document_arrive_in_the_topic(stack: Stack) -> None:
    user = 5002
    stack.user_writes(user, "hello")
    stack.user_writes(user, "the box", media="photo")
    stack.user_writes(user, "", media="voice")
    stack.user_writes(user, "invoice", media="document")
    thread = stack.topic_of(user)
    copies = in_topic(stack, thread, minimum=5)[1:]
    assert copies[0]["text"] == "hello"
    assert "photo" in copies[1]
    assert copies[1]["caption"] == "the box"
    assert "voice" in copies[2]
    assert "document" in copies[3]
    assert copies[3]["caption"] == "invoice"


def test_a_staff_reply_with_and_without_media_reaches_the_user_once(stack: Stack) -> None:
    user = 5003
    stack.user_writes(user, "is anyone there?")
    thread = stack.topic_of(user)
    in_topic(stack, thread, minimum=2)
    stack.staff_writes(thread, "Yes, Olga here")
    stack.staff_writes(thread, "your label", media="photo")

    def answers() -> list[dict[str, Any]] | None:
        got = [m for m in stack.chat(user) if m.get("from", {}).get("is_bot")]
        got = [m for m in got if m.get("text") == "Yes, Olga here" or "photo" in m]
        return got if len(got) >= 2 else None

    received = wait_until(answers, timeout=30)
    assert [m.get("text") for m in received] == ["Yes, Olga here", None]
    assert received[1]["caption"] == "your label"
    copies = [c for c in stack.calls(chat_id=user, method="copyMessage") if c["ok"]]
    assert len(copies) == 2  # once each
    stored = stack.query(
        "SELECT m.direction, m.content_type, m.author_tg_id FROM messages m "
        "JOIN conversations c ON c.id = m.conversation_id WHERE c.user_id = %s ORDER BY m.id",
        user,
    )
    assert stored[-2:] == [("out", "text", AGENT), ("out", "photo", AGENT)]


def test_close_note_and_ban_from_the_topic(stack: Stack) -> None:
    user = 5004
    stack.user_writes(user, "refund please")
    thread = stack.topic_of(user)
    in_topic(stack, thread, minimum=2)
    stack.staff_writes(thread, "/note paid by card, check the bank")
    stack.staff_writes(thread, "/ban")
    stack.staff_writes(thread, "/ban confirm")
    stack.staff_writes(thread, "/close")
    wait_until(
        lambda: stack.query(
            "SELECT 1 FROM conversations WHERE user_id = %s AND status = 'closed'", user
        ),
        timeout=30,
    )
    notes = stack.query(
        "SELECT n.body, n.author_tg_id FROM conversation_notes n "
        "JOIN conversations c ON c.id = n.conversation_id WHERE c.user_id = %s",
        user,
    )
    assert notes == [("paid by card, check the bank", AGENT)]
    assert stack.query("SELECT is_banned FROM tg_users WHERE telegram_id = %s", user) == [(True,)]
    wait_until(
        lambda: [
            c
            for c in stack.calls(chat_id=STAFF_CHAT, method="closeForumTopic")
            if c["ok"] and c["params"].get("message_thread_id") == thread
        ],
        timeout=30,
    )
    said = [m.get("text", "") for m in in_topic(stack, thread, minimum=5)]
    assert any("Send /ban confirm" in t for t in said)
    assert any(t.startswith("Closed by Olga") for t in said)
    # Nothing of it reached the user.
    assert not [m for m in stack.chat(user) if "check the bank" in (m.get("text") or "")]


def test_a_deleted_topic_is_recreated_on_the_next_message(stack: Stack) -> None:
    user = 5005
    stack.user_writes(user, "one")
    first = stack.topic_of(user)
    in_topic(stack, first, minimum=2)
    stack.control("POST", f"/groups/{STAFF_CHAT}/topics/{first}/delete", user_id=AGENT)
    stack.user_writes(user, "two")
    second = wait_until(lambda: next(iter({stack.topic_of(user)} - {first}), None), timeout=30)
    messages = in_topic(stack, second, minimum=2)
    assert "Conversation #" in messages[0]["text"]
    assert messages[-1]["text"] == "two"


def test_a_member_of_another_chat_is_ignored(stack: Stack) -> None:
    user = 5006
    stack.user_writes(user, "hi")
    thread = stack.topic_of(user)
    # Another forum group where the bot is an admin too, and a topic there.
    topic = stack.control("POST", f"/groups/{OTHER_CHAT}/topics", user_id=OUTSIDER, name="x")
    other_thread = topic["topic"]["message_thread_id"]
    stack.staff_writes(other_thread, "/ban confirm", chat=OTHER_CHAT, user=OUTSIDER)
    stack.staff_writes(other_thread, "give me their data", chat=OTHER_CHAT, user=OUTSIDER)
    stack.staff_writes(thread, "marker from staff")  # handled after the outsider's messages
    wait_until(
        lambda: [m for m in stack.chat(user) if m.get("text") == "marker from staff"], timeout=30
    )
    assert not [m for m in stack.chat(user) if m.get("text") == "give me their data"]
    assert stack.query("SELECT is_banned FROM tg_users WHERE telegram_id = %s", user) == [(False,)]
    assert not stack.query("SELECT 1 FROM messages WHERE text = 'give me their data'")


def test_a_burst_of_100_users_is_relayed_in_order_with_no_429(stack: Stack) -> None:
    httpx.post(
        f"{stack.sandbox.base_url}/sandbox/faults",
        # The group's window is the limit under test. The replicas' own "message received"
        # replies to 100 users at once are answered in hand, outside the dispatcher's limiter:
        # the global rate is raised so that they do not use up the group's share of it.
        json={
            "rate_limit": True,
            "group_per_minute": GROUP_RATE,
            "per_chat_rate": 100,
            "global_rate": 1000,
        },
        timeout=10,
    ).raise_for_status()
    users = list(range(6000, 6100))
    try:
        with concurrent.futures.ThreadPoolExecutor(20) as pool:
            list(pool.map(lambda u: stack.user_writes(u, f"burst {u}", wait=False), users))

        def relayed() -> list[dict[str, Any]] | None:
            copies = [
                c
                for c in stack.calls(chat_id=STAFF_CHAT, method="copyMessage")
                if c["params"].get("from_chat_id") in users
            ]
            return copies if len([c for c in copies if c["ok"]]) >= len(users) else None

        copies = wait_until(relayed, timeout=240)
    finally:
        httpx.post(
            f"{stack.sandbox.base_url}/sandbox/faults", json={"rate_limit": False}, timeout=10
        )
    refused = [c for c in stack.calls(chat_id=STAFF_CHAT) if c.get("error_code") == 429]
    assert refused == []
    sent = [(c["params"]["from_chat_id"], c["params"]["message_id"]) for c in copies if c["ok"]]
    assert len(sent) == len(set(sent)) == len(users)  # none twice
    for u in users:
        thread = stack.topic_of(u)
        texts = [m.get("text") for m in in_topic(stack, thread, minimum=2)]
        assert "Conversation #" in texts[0]
        assert texts[1:] == [f"burst {u}"]
    topics = stack.query(
        "SELECT count(DISTINCT staff_topic_id) FROM conversations "
        "WHERE user_id BETWEEN 6000 AND 6099"
    )
    assert topics == [(100,)]


async def test_a_staff_group_the_bot_cannot_use_is_reported(stack: Stack) -> None:
    plain, member = -1005550000001, -1005550000002
    control(stack.sandbox.base_url, "POST", "/groups", chat_id=plain, title="Plain", is_forum=False)
    control(
        stack.sandbox.base_url,
        "POST",
        "/groups",
        chat_id=member,
        title="No rights",
        bot_status="member",
    )
    session = BotAPISession(api=TelegramAPIServer.from_base(stack.sandbox.base_url))
    bot = AiogramBot(stack.sandbox.token, session=session)
    try:
        assert await check_staff_chat(bot, STAFF_CHAT) == []
        assert await check_staff_chat(bot, plain) == [
            "the staff chat has no topics: turn Topics on in its settings"
        ]
        assert await check_staff_chat(bot, member) == [
            "the bot is not an administrator allowed to manage topics there"
        ]
        gone = -1005550000999  # Telegram answers "chat not found"
        control(stack.sandbox.base_url, "POST", "/faults", unknown_chats=[gone])
        (unreadable,) = await check_staff_chat(bot, gone)
        assert unreadable.startswith("the staff chat cannot be read")
    finally:
        control(stack.sandbox.base_url, "POST", "/faults", unknown_chats=[])
        await session.close()
