"""The bot under faults: Redis down, PostgreSQL down and back, SIGTERM with work in flight."""

from __future__ import annotations

import itertools
import signal
import threading
from pathlib import Path
from typing import Any

import httpx

from tests.integration.bot.conftest import Bot, SandboxClient, start_bot, wait_for_text
from tests.support.waiting import wait_until

_ids = itertools.count(600_000_001)


def test_bot_keeps_answering_with_redis_stopped(
    migrated_db_url: str, sandbox: Any, own_redis: tuple[str, Any], tmp_path: Path
) -> None:
    redis_url, container = own_redis
    bot = start_bot(tmp_path, migrated_db_url, redis_url, sandbox)
    client = SandboxClient(sandbox.base_url)
    try:
        container.get_wrapped_container().stop(timeout=1)
        uid = next(_ids)
        for text in ("/start", "first question", "second question"):
            result = client.message(uid, text)
            assert result["status"] == 200, result
        wait_for_text(client, uid, "Hello")
        assert bot.query(
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            " WHERE c.user_id = %s",
            uid,
        ) == [(2,)]
        # Readiness reports the outage; the webhook does not.
        ready = httpx.get(f"{bot.url}/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["redis"].startswith("redis unreachable")

        # Without Redis the database still makes a duplicate a no-op.
        dup = bot.post_update(_update(uid, 42, "dup while redis is down"))
        again = bot.post_update(_update(uid, 42, "dup while redis is down"))
        assert (dup.status_code, again.status_code) == (200, 200)
        assert bot.query(
            "SELECT count(*) FROM messages WHERE text = 'dup while redis is down'"
        ) == [(1,)]
    finally:
        bot.process.stop()


def test_readiness_503_while_postgres_is_down_and_200_after(
    redis_url: str, sandbox: Any, own_postgres: tuple[str, Any], tmp_path: Path
) -> None:
    db_url, container = own_postgres
    bot = start_bot(tmp_path, db_url, redis_url, sandbox)
    try:
        container.get_wrapped_container().stop(timeout=5)
        wait_until(
            lambda: httpx.get(f"{bot.url}/readyz", timeout=5).status_code == 503,
            timeout=15,
            what="readiness 503 with PostgreSQL down",
        )
        body = httpx.get(f"{bot.url}/readyz", timeout=5).json()
        assert body["checks"]["database"].startswith("database unreachable")
        # An update now is not lost: the webhook asks Telegram to retry (503, not 200).
        uid = next(_ids)
        response = bot.post_update(_update(uid, 1, "while the database is down"))
        assert response.status_code == 503
        retry_later = [line for line in bot.process.log().splitlines() if "retry_later" in line]
        assert '"reason": "database_unreachable"' in retry_later[-1]
        assert httpx.get(f"{bot.url}/healthz").status_code == 200

        container.get_wrapped_container().start()
        wait_until(
            lambda: httpx.get(f"{bot.url}/readyz", timeout=5).status_code == 200,
            timeout=60,
            interval=0.5,
            what="readiness 200 after PostgreSQL is back",
        )
        # Telegram's retry of the same update is processed once now.
        retry = bot.post_update(_update(uid, 1, "while the database is down"))
        assert retry.status_code == 200
        assert bot.query(
            "SELECT count(*) FROM messages WHERE text = 'while the database is down'"
        ) == [(1,)]
    finally:
        bot.process.stop()


def test_sigterm_finishes_the_update_in_flight_before_exit(
    migrated_db_url: str, redis_url: str, sandbox: Any, tmp_path: Path
) -> None:
    bot: Bot = start_bot(tmp_path, migrated_db_url, redis_url, sandbox)
    client = SandboxClient(sandbox.base_url)
    uid = next(_ids)
    update = _update(uid, 7, "slow one")
    client.faults(latency_ms=2000)  # every Bot API call now takes 2 s: the handler is slow
    responses: list[httpx.Response] = []
    try:
        sender = threading.Thread(target=lambda: responses.append(bot.post_update(update)))
        sender.start()
        wait_until(
            lambda: "tgbot_updates_in_flight 1.0" in httpx.get(f"{bot.url}/metrics").text,
            what="the update to be in flight",
        )
        bot.process.signal(signal.SIGTERM)
        sender.join(timeout=30)
        assert bot.process.proc is not None
        exit_code = bot.process.proc.wait(timeout=30)
    finally:
        client.faults(latency_ms=0)
        bot.process.stop()
    assert responses[0].status_code == 200
    assert exit_code == 0
    assert bot.query("SELECT count(*) FROM messages WHERE text = 'slow one'") == [(1,)]
    assert client.texts_to(uid)  # the acknowledgement went out before the process exited
    # Shutdown never removes the webhook: other replicas still serve it.
    assert not client.sent(method="deleteWebhook")


def test_in_flight_marker_expires_within_one_handler_timeout(
    migrated_db_url: str, redis_url: str, sandbox: Any, tmp_path: Path
) -> None:
    """Should Redis fail when the handling is abandoned, the marker must not hold Telegram's
    retries back (409) for longer than one handling can take."""
    import redis

    bot = start_bot(tmp_path, migrated_db_url, redis_url, sandbox, HANDLER_TIMEOUT="3")
    client = SandboxClient(sandbox.base_url)
    update = _update(next(_ids), 9, "in flight")
    client.faults(latency_ms=2000)
    try:
        sender = threading.Thread(target=lambda: bot.post_update(update))
        sender.start()
        wait_until(
            lambda: "tgbot_updates_in_flight 1.0" in httpx.get(f"{bot.url}/metrics").text,
            what="the update to be in flight",
        )
        bot_id = sandbox.token.split(":")[0]
        ttl = redis.Redis.from_url(redis_url).ttl(f"tgbot:{bot_id}:update:{update['update_id']}")
        sender.join(timeout=30)
    finally:
        client.faults(latency_ms=0)
        bot.process.stop()
    assert 0 < ttl <= 3 + 5


def _update(user_id: int, n: int, text: str) -> dict[str, Any]:
    update_id = 500_000_000 + user_id % 1_000_000 * 100 + n
    return {
        "update_id": update_id,
        "message": {
            "message_id": n,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Out"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Out"},
            "text": text,
        },
    }
