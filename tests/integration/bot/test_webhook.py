"""The webhook's contract with Telegram: authentication, bad input, dedup, health."""

from __future__ import annotations

import itertools
import json
import time
from importlib.metadata import version
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.integration.bot.conftest import (
    SANDBOX_TOKEN,
    WEBHOOK_SECRET,
    Bot,
    SandboxClient,
    wait_for_text,
)
from tests.support.slow_client import SlowClient
from tests.support.waiting import wait_until

_ids = itertools.count(800_000_001)
_update_ids = itertools.count(900_000_000)


def text_update(user_id: int, text: str) -> dict[str, Any]:
    update_id = next(_update_ids)
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id % 1_000_000,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Dup"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Dup"},
            "text": text,
        },
    }


def test_duplicate_delivery_has_exactly_one_effect(user_side: SandboxClient, bot: Bot) -> None:
    uid = next(_ids)
    update = text_update(uid, "please help")
    first = bot.post_update(update)
    second = bot.post_update(update)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json().get("duplicate") is True
    assert bot.query(
        "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.user_id = %s",
        uid,
    ) == [(1,)]
    assert len(user_side.sent(uid, "sendMessage")) == 1


def test_duplicate_is_caught_by_database_when_redis_forgot(bot: Bot, redis_url: str) -> None:
    import redis

    uid = next(_ids)
    update = text_update(uid, "hello")
    assert bot.post_update(update).status_code == 200
    bot_id = SANDBOX_TOKEN.split(":")[0]
    forgotten = redis.Redis.from_url(redis_url).delete(
        f"tgbot:{bot_id}:update:{update['update_id']}"
    )
    assert forgotten == 1  # Redis did know it; now only the database does
    again = bot.post_update(update)
    assert again.status_code == 200
    assert bot.query(
        "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.user_id = %s",
        uid,
    ) == [(1,)]


def test_wrong_or_missing_secret_is_401(bot: Bot) -> None:
    update = text_update(next(_ids), "hi")
    assert bot.post_update(update, secret="wrong").status_code == 401
    assert bot.post_update(update, secret=None).status_code == 401
    # Nothing was processed: the same update is still new afterwards.
    assert bot.post_update(update).json() == {"ok": True}


def test_bad_input_is_4xx_never_5xx(bot: Bot) -> None:
    assert bot.post_update(b"{not json").status_code == 400
    assert bot.post_update(b"[1, 2, 3]").status_code == 400
    assert bot.post_update({"update_id": "seven"}).status_code == 400
    assert bot.post_update({"update_id": 1, "message": {"text": 5}}).status_code == 400
    assert bot.post_update(b"\xff\xfe\x00").status_code == 400
    too_big = b'{"update_id": 1, "pad": "' + b"x" * 2_000_000 + b'"}'
    assert bot.post_update(too_big).status_code == 413


def test_deeply_nested_json_is_400_not_500(bot: Bot) -> None:
    assert bot.post_update(b"[" * 100_000 + b"]" * 100_000).status_code == 400
    deep_object = b'{"update_id": 1, "x": ' + b'{"a": ' * 50_000 + b"1" + b"}" * 50_001
    assert bot.post_update(deep_object).status_code == 400


def test_a_body_that_arrives_slowly_is_read_whole(bot: Bot) -> None:
    uid = next(_ids)
    body = json.dumps(text_update(uid, "sent over a slow link")).encode()
    url = urlsplit(bot.webhook_url)
    assert url.hostname is not None
    assert url.port is not None
    client = SlowClient(url.hostname, url.port, url.path, body, 0.005, False, WEBHOOK_SECRET)
    client.start().join(timeout=60)
    assert (client.status, client.error) == (200, None)
    assert bot.query(
        "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.user_id = %s",
        uid,
    ) == [(1,)]


def test_a_message_with_no_person_behind_it_is_ignored_not_a_handler_error(bot: Bot) -> None:
    no_sender = text_update(next(_ids), "who wrote this?")
    del no_sender["message"]["from"]
    from_a_bot = text_update(next(_ids), "beep")
    from_a_bot["message"]["from"]["is_bot"] = True
    for update in (no_sender, from_a_bot):
        assert bot.post_update(update).json() == {"ok": True}
    metrics = httpx.get(f"{bot.url}/metrics").text
    assert 'tgbot_updates_total{kind="message",result="no_user"} 2.0' in metrics
    assert 'result="error"' not in metrics


def test_unknown_update_kind_is_acknowledged_and_ignored(bot: Bot) -> None:
    response = bot.post_update({"update_id": next(_update_ids), "brand_new_kind": {"x": 1}})
    assert response.status_code == 200
    assert response.json()["ignored"] == "unknown update kind"


def test_health_readiness_and_metrics(user_side: SandboxClient, bot: Bot) -> None:
    release = version("tgbot-platform")
    assert httpx.get(f"{bot.url}/healthz").json() == {"status": "ok", "version": release}
    ready = httpx.get(f"{bot.url}/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}

    uid = next(_ids)
    user_side.message(uid, "/help")
    wait_for_text(user_side, uid, "/language")
    metrics = httpx.get(f"{bot.url}/metrics").text
    assert 'tgbot_updates_total{kind="message",result="handled"}' in metrics
    assert "tgbot_update_handling_seconds_bucket" in metrics
    assert "tgbot_updates_in_flight" in metrics
    assert "tgbot_dedup_hits_total" in metrics
    assert f'tgbot_build_info{{version="{release}"}} 1.0' in metrics.splitlines()


def test_logs_carry_ids_but_never_message_text(user_side: SandboxClient, bot: Bot) -> None:
    uid = next(_ids)
    secret_text = f"my card number is 4111-{uid}"
    user_side.message(uid, secret_text)
    wait_until(lambda: f'"user_id": {uid}' in bot.process.log(), what="log line for the update")
    log = bot.process.log()
    assert secret_text not in log
    events = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert any(event.get("user_id") == uid for event in events)
