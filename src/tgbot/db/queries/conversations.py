"""Support conversations: a user's messages land in their one open thread.

Plain SQL on this path: it runs for every user message, and SQLAlchemy never caches a
PostgreSQL ON CONFLICT construct. The partial index's predicate is written literally
(``status = 'open'``): as a bound parameter it cannot be matched to the index once PostgreSQL
uses the generic plan of the prepared statement. The messages are any objects with the fields
of :class:`IncomingMessage` (``queries.effects.FileMessage``), filed a batch at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import text


class IncomingMessage(Protocol):
    """What filing a user's message needs to know of it."""

    @property
    def user_id(self) -> int: ...
    @property
    def content_type(self) -> str: ...
    @property
    def text(self) -> str | None: ...
    @property
    def file_id(self) -> str | None: ...
    @property
    def telegram_message_id(self) -> int: ...
    @property
    def staff_chat_id(self) -> int | None: ...


# Every message of the batch into its user's open conversation, opened when there is none; the
# open ones are marked active. When another transaction opens the user's conversation at the
# same moment, the insert waits for it and takes its row (DO UPDATE returns the row it
# conflicted with; DO NOTHING would return nothing and lose the message). Only users without
# an open conversation are inserted: each attempt takes a conversation id from the sequence.
# The partial index's predicate is literal, see queries.conversations. {only_claimed} narrows
# the messages to the updates claimed by CLAIM_CTES in the same statement. (PostgreSQL runs
# every data-modifying CTE, whether the final SELECT reads it or not.)
#
# With a staff supergroup (STAFF_CHAT_ID, the message's staff_chat_id) the conversation is
# marked as mirrored there (a different group than before forgets the old topic) and each
# message gets an outbox row copying it into the conversation's topic, in the messages' order
# (the dispatcher creates the topic and fills in message_thread_id: delivery.staff_topics).
FILE_CTES = """
    message_input AS (
        SELECT * FROM unnest(
            CAST(:message_update_ids AS bigint[]), CAST(:user_ids AS bigint[]),
            CAST(:content_types AS varchar[]), CAST(:texts AS text[]),
            CAST(:file_ids AS varchar[]), CAST(:telegram_message_ids AS bigint[]),
            CAST(:staff_chat_ids AS bigint[])
        ) WITH ORDINALITY
        AS t(update_id, user_id, content_type, body, file_id, telegram_message_id, staff_chat_id,
             position)
        {only_claimed}
    ), message_users AS (
        SELECT user_id, max(staff_chat_id) AS staff_chat_id FROM message_input GROUP BY user_id
    ), found AS (
        SELECT c.id, c.user_id FROM conversations c JOIN message_users USING (user_id)
        WHERE c.status = 'open'
    ), opened AS (
        INSERT INTO conversations (user_id, status, staff_chat_id)
        SELECT user_id, 'open', staff_chat_id FROM message_users
        WHERE user_id NOT IN (SELECT user_id FROM found)
        ORDER BY user_id
        ON CONFLICT (user_id) WHERE status = 'open' DO UPDATE SET last_activity_at = now()
        RETURNING id, user_id
    ), touched AS (
        UPDATE conversations c SET last_activity_at = now(),
            staff_chat_id = mu.staff_chat_id,
            staff_topic_id = CASE WHEN c.staff_chat_id IS NOT DISTINCT FROM mu.staff_chat_id
                                  THEN c.staff_topic_id END
        FROM message_users mu
        WHERE c.id IN (SELECT id FROM found) AND mu.user_id = c.user_id
    ), conversation AS (
        SELECT id, user_id FROM found UNION ALL SELECT id, user_id FROM opened
    ), stored AS (
        INSERT INTO messages
            (conversation_id, direction, content_type, text, file_id, telegram_message_id)
        SELECT conversation.id, 'in', message_input.content_type, message_input.body,
            message_input.file_id, message_input.telegram_message_id
        FROM message_input JOIN conversation USING (user_id)
        ORDER BY message_input.position
        RETURNING id, conversation_id, telegram_message_id
    ), relayed AS (
        INSERT INTO outbox
            (chat_id, method, payload, idempotency_key, topic_conversation_id)
        SELECT message_input.staff_chat_id, 'copyMessage',
            jsonb_build_object('from_chat_id', conversation.user_id,
                               'message_id', stored.telegram_message_id),
            'staff-copy:' || stored.id, stored.conversation_id
        FROM stored JOIN conversation ON conversation.id = stored.conversation_id
        JOIN message_input ON message_input.user_id = conversation.user_id
            AND message_input.telegram_message_id = stored.telegram_message_id
        WHERE message_input.staff_chat_id IS NOT NULL
        ORDER BY stored.id
    )
"""
FILE_MESSAGES = text(
    f"WITH {FILE_CTES.format(only_claimed='')} SELECT count(*) FROM stored"  # noqa: S608 - constants
)


def message_parameters(
    messages: Sequence[tuple[int | None, IncomingMessage]],
) -> dict[str, list[Any]]:
    return {
        "message_update_ids": [update_id for update_id, _ in messages],
        "user_ids": [m.user_id for _, m in messages],
        "content_types": [m.content_type for _, m in messages],
        "texts": [m.text for _, m in messages],
        "file_ids": [m.file_id for _, m in messages],
        "telegram_message_ids": [m.telegram_message_id for _, m in messages],
        "staff_chat_ids": [m.staff_chat_id for _, m in messages],
    }
