"""The database refuses texts no Telegram recipient could get (migration 0003), whoever writes."""

from __future__ import annotations

import psycopg
import pytest

LONG = "x" * 4097
FITS = "x" * 4096


def run(url: str, sql: str, *params: object) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql, params)


@pytest.fixture
def conversation(fresh_migrated_db_url: str) -> int:
    run(
        fresh_migrated_db_url,
        "INSERT INTO tg_users (telegram_id, first_name) VALUES (7, 'A')",
    )
    with psycopg.connect(fresh_migrated_db_url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO conversations (user_id, status) VALUES (7, 'open') RETURNING id"
        ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize(
    ("sql", "name"),
    [
        ("INSERT INTO bot_texts (key, language, body) VALUES ('help', 'en', %s)", "body_length"),
        ("INSERT INTO broadcasts (title, text) VALUES ('t', %s)", "text_length"),
    ],
)
def test_over_long_texts_are_refused(fresh_migrated_db_url: str, sql: str, name: str) -> None:
    run(fresh_migrated_db_url, sql, FITS)
    with pytest.raises(psycopg.errors.CheckViolation) as info:
        run(fresh_migrated_db_url, sql.replace("'help'", "'start'"), LONG)
    assert name in str(info.value)


def test_replies_are_limited_and_users_messages_are_not(
    fresh_migrated_db_url: str, conversation: int
) -> None:
    insert = (
        "INSERT INTO messages (conversation_id, direction, content_type, text)"
        " VALUES (%s, %s, 'text', %s)"
    )
    run(fresh_migrated_db_url, insert, conversation, "out", FITS)
    run(fresh_migrated_db_url, insert, conversation, "in", LONG)  # what Telegram delivered
    with pytest.raises(psycopg.errors.CheckViolation) as info:
        run(fresh_migrated_db_url, insert, conversation, "out", LONG)
    assert "out_text_length" in str(info.value)
