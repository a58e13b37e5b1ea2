"""The conversation columns the operator inbox reads, kept by the database from message inserts
(trigger ``messages_track_conversation``, migration 0003), whoever inserts them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import psycopg
import pytest

from tests.support.services import psycopg_url


@pytest.fixture
def conn(fresh_migrated_db_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(psycopg_url(fresh_migrated_db_url), autocommit=True) as connection:
        connection.execute(
            "INSERT INTO tg_users (telegram_id, first_name) VALUES (7001, 'Ann'), (7002, 'Ben')"
        )
        yield connection


def conversation(conn: psycopg.Connection, user_id: int) -> int:
    row = conn.execute(
        "INSERT INTO conversations (user_id) VALUES (%s) RETURNING id", (user_id,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def insert(conn: psycopg.Connection, *rows: tuple[int, str, str, str | None, dt.datetime]) -> None:
    """One statement for all ``rows`` (conversation, direction, content type, text, at)."""
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO messages (conversation_id, direction, content_type, text, created_at) "
            "SELECT * FROM unnest(%s::bigint[], %s::varchar[], %s::varchar[], %s::text[], "
            "%s::timestamptz[])",
            [list(column) for column in zip(*rows, strict=True)],
        )


def state(conn: psycopg.Connection, conversation_id: int) -> tuple[object, ...]:
    row = conn.execute(
        "SELECT waiting_since, unread_count, last_message_direction, last_message_content_type,"
        " last_message_preview, last_message_at FROM conversations WHERE id = %s",
        (conversation_id,),
    ).fetchone()
    assert row is not None
    return tuple(row)


T0 = dt.datetime(2026, 11, 30, 9, 0, tzinfo=dt.UTC)


def at(minutes: int) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_user_messages_wait_from_the_first_and_count_unread(conn: psycopg.Connection) -> None:
    c = conversation(conn, 7001)
    insert(conn, (c, "in", "text", "hello", at(0)))
    insert(conn, (c, "in", "photo", "the receipt", at(3)), (c, "in", "text", "please?", at(5)))
    assert state(conn, c) == (at(0), 3, "in", "text", "please?", at(5))


def test_a_reply_answers_and_a_later_message_waits_again(conn: psycopg.Connection) -> None:
    c = conversation(conn, 7001)
    insert(conn, (c, "in", "text", "hello", at(0)))
    insert(conn, (c, "out", "text", "Hi Ann", at(2)))
    assert state(conn, c) == (None, 0, "out", "text", "Hi Ann", at(2))
    insert(conn, (c, "in", "document", None, at(9)))
    assert state(conn, c) == (at(9), 1, "in", "document", None, at(9))


def test_one_statement_with_a_reply_between_messages(conn: psycopg.Connection) -> None:
    c, d = conversation(conn, 7001), conversation(conn, 7002)
    insert(conn, (d, "in", "text", "first", at(1)))
    insert(
        conn,
        (c, "in", "text", "a", at(1)),
        (d, "in", "text", "second", at(2)),
        (c, "out", "text", "b", at(2)),
        (c, "in", "text", "c", at(4)),
        (c, "in", "text", "d", at(6)),
    )
    assert state(conn, c)[:2] == (at(4), 2)
    assert state(conn, d)[:2] == (at(1), 2)
    assert state(conn, d)[4] == "second"


def test_the_preview_is_the_start_of_a_long_text(conn: psycopg.Connection) -> None:
    c = conversation(conn, 7001)
    insert(conn, (c, "in", "text", "x" * 150 + "y" * 150, at(0)))
    preview = state(conn, c)[4]
    assert preview == "x" * 150 + "y" * 50
