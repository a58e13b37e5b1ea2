"""A burst of updates larger than the connection pool, right after start (a deploy with
Telegram holding a backlog), is answered at once: no update waits for a connection that only
another waiting update could free."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.integration.bot.conftest import start_bot

BURST = 8
FIRST_USER = 400_000_001  # user ids of their own: the session database is shared


def test_burst_after_start_larger_than_the_pool_is_answered_without_retries(
    migrated_db_url: str, redis_url: str, sandbox: Any, tmp_path: Path
) -> None:
    bot = start_bot(
        tmp_path,
        migrated_db_url,
        redis_url,
        sandbox,
        DATABASE_POOL_SIZE="2",
        DATABASE_CONNECT_TIMEOUT="3",
        WEBHOOK_REGISTER_ON_START="false",
    )
    try:
        updates = [_first_message(FIRST_USER + n) for n in range(BURST)]
        with ThreadPoolExecutor(BURST) as pool:
            statuses = list(pool.map(lambda u: bot.post_update(u).status_code, updates))
        assert statuses == [200] * BURST
        filed = bot.query(
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
            " WHERE c.user_id BETWEEN %s AND %s",
            FIRST_USER,
            FIRST_USER + BURST - 1,
        )
        assert filed == [(BURST,)]
    finally:
        bot.process.stop()
    assert "texts.refresh_failed" not in bot.process.log()


def _first_message(user_id: int) -> dict[str, Any]:
    return {
        "update_id": 400_000_000 + user_id % 1_000_000,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Burst"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Burst"},
            "text": "hello after the deploy",
        },
    }
