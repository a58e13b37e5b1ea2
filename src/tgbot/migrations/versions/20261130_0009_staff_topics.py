"""staff topics: a conversation's forum topic in the staff supergroup, staff authors, topic rows

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 09:00:00+00:00

- ``conversations.staff_chat_id``: the staff supergroup the conversation is mirrored into
  (``STAFF_CHAT_ID`` when its user last wrote; NULL: not mirrored). ``staff_topic_id``: the
  forum topic's ``message_thread_id`` there, stored by the dispatcher when it created the topic.
  One conversation per topic (``uq_conversations_staff_topic``): a staff member's message in a
  topic finds its conversation by it.
- ``messages.author_tg_id`` / ``author_tg_name``: who wrote an ``out`` message in the topic.
- ``conversation_notes.author_tg_id``: a note written with ``/note`` in the topic.
- ``outbox.topic_conversation_id``: the row posts into that conversation's topic. The dispatcher
  fills in ``message_thread_id`` (creating the topic first when there is none) and sends a
  conversation's topic rows one at a time, in id order (``ix_outbox_topic_open`` finds an
  earlier unfinished one).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "conversations",
        sa.Column(
            "staff_chat_id",
            sa.BigInteger(),
            nullable=True,
            comment="The staff supergroup it is mirrored into (STAFF_CHAT_ID), NULL: not mirrored",
        ),
    )
    op.add_column(
        "conversations",
        sa.Column(
            "staff_topic_id",
            sa.BigInteger(),
            nullable=True,
            comment="message_thread_id of its forum topic in the staff supergroup",
        ),
    )
    op.create_index(
        "uq_conversations_staff_topic",
        "conversations",
        ["staff_chat_id", "staff_topic_id"],
        unique=True,
        postgresql_where=sa.text("staff_topic_id IS NOT NULL"),
    )
    op.add_column(
        "messages",
        sa.Column(
            "author_tg_id",
            sa.BigInteger(),
            nullable=True,
            comment="Telegram user id of the staff member who wrote it in the staff topic",
        ),
    )
    op.add_column("messages", sa.Column("author_tg_name", sa.String(length=150), nullable=True))
    op.add_column(
        "conversation_notes",
        sa.Column(
            "author_tg_id",
            sa.BigInteger(),
            nullable=True,
            comment="Telegram user id of the staff member who wrote it with /note",
        ),
    )
    op.add_column(
        "outbox",
        sa.Column(
            "topic_conversation_id",
            sa.BigInteger(),
            nullable=True,
            comment="Posts into this conversation's staff topic (one at a time, in id order)",
        ),
    )
    op.create_foreign_key(
        "fk_outbox_topic_conversation_id_conversations",
        "outbox",
        "conversations",
        ["topic_conversation_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_index(
        "ix_outbox_topic_open",
        "outbox",
        ["topic_conversation_id", "id"],
        postgresql_where=sa.text(
            "topic_conversation_id IS NOT NULL AND status IN ('pending', 'sending')"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_topic_open", table_name="outbox")
    op.drop_constraint(
        "fk_outbox_topic_conversation_id_conversations", "outbox", type_="foreignkey"
    )
    op.drop_column("outbox", "topic_conversation_id")
    op.drop_column("conversation_notes", "author_tg_id")
    op.drop_column("messages", "author_tg_name")
    op.drop_column("messages", "author_tg_id")
    op.drop_index("uq_conversations_staff_topic", table_name="conversations")
    op.drop_column("conversations", "staff_topic_id")
    op.drop_column("conversations", "staff_chat_id")
