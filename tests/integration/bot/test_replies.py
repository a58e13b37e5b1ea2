"""Replies go out after the update's effects committed, and a reply Telegram could not take now
still reaches the user, through the outbox (real HTTP through the sandbox)."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.integration.bot.conftest import (
    Bot,
    SandboxClient,
    SandboxProcess,
    start_bot,
    wait_for_text,
)
from tests.support.waiting import wait_until
from tgbot.texts_defaults import DEFAULT_TEXTS

ACK = DEFAULT_TEXTS["message_received"]["en"]


def test_a_reply_the_bot_api_failed_reaches_the_user_through_the_outbox(
    migrated_db_url: str, redis_url: str, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    client = SandboxClient(sandbox.base_url)
    bot = start_bot(tmp_path, migrated_db_url, redis_url, sandbox, RUN_DISPATCHER_IN_SERVE="true")
    uid = 7301
    try:
        client.faults(fail_next={"count": 1, "status": 502, "method": "sendMessage"})
        delivery = client.message(uid, "my parcel is lost", language_code="en")
        assert delivery["status"] == 200  # the message is stored: the update is done

        wait_for_text(client, uid, ACK)
        calls = [c["ok"] for c in client.sent(uid, method="sendMessage")]
        assert calls == [False, True]  # refused once (502), then sent by the dispatcher
        stored = bot.query(
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            " WHERE c.user_id = %s AND m.text = 'my parcel is lost'",
            uid,
        )
        assert stored == [(1,)]
        deferred = (
            "SELECT status FROM outbox WHERE chat_id = %s AND idempotency_key LIKE 'reply:%%'"
        )
        wait_until(
            lambda: bot.query(deferred, uid) == [("sent",)],
            timeout=10,
            what="the deferred reply marked sent",
        )
    finally:
        bot.process.stop()


def test_a_redelivered_update_gets_no_second_reply(user_side: SandboxClient, bot: Bot) -> None:
    uid = 7302
    update = {
        "update_id": 880_007_302,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": uid, "type": "private"},
            "from": {"id": uid, "is_bot": False, "first_name": "Twice"},
            "text": "only once please",
        },
    }
    assert bot.post_update(update).status_code == 200
    assert bot.post_update(update).json() == {"ok": True, "duplicate": True}
    wait_for_text(user_side, uid, ACK)
    assert user_side.texts_to(uid) == [ACK]


def test_replies_outliving_the_deadline_do_not_fail_the_committed_update(
    migrated_db_url: str, redis_url: str, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    """Telegram slower than HANDLER_TIMEOUT after the commit: 200 at the deadline, no retry, and
    the reply still arrives."""
    client = SandboxClient(sandbox.base_url)
    bot = start_bot(tmp_path, migrated_db_url, redis_url, sandbox, HANDLER_TIMEOUT="0.5")
    uid = 7303
    try:
        client.faults(latency_ms=1500)  # every Bot API call takes 1.5 s
        before = webhook_posts(sandbox)
        delivery = client.message(uid, "a slow day at Telegram")
        assert delivery["status"] == 200
        assert webhook_posts(sandbox) == before + 1  # answered once: Telegram would not retry
        wait_for_text(client, uid, ACK)
        assert client.texts_to(uid) == [ACK]
        stored = bot.query(
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            " WHERE c.user_id = %s",
            uid,
        )
        assert stored == [(1,)]
    finally:
        client.faults(latency_ms=0)
        bot.process.stop()


def webhook_posts(sandbox: SandboxProcess) -> int:
    stats = httpx.get(f"{sandbox.base_url}/sandbox/stats", timeout=10).json()
    return int(stats["webhook"]["posts"])
