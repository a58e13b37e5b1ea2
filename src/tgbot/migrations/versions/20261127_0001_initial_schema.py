"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 00:03:41.518143+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_audit_log",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("admin_user_id", sa.Integer(), nullable=True),
        sa.Column("admin_username", sa.String(length=150), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=64), nullable=False),
        sa.Column("object_id", sa.String(length=64), nullable=False),
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_audit_log")),
    )
    op.create_index(
        "ix_admin_audit_log_created_at", "admin_audit_log", ["created_at"], unique=False
    )
    op.create_index(
        "ix_admin_audit_log_object", "admin_audit_log", ["object_type", "object_id"], unique=False
    )
    op.create_table(
        "bot_texts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_texts")),
        sa.UniqueConstraint("key", "language", name=op.f("uq_bot_texts_key_language")),
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "audience_language",
            sa.String(length=8),
            nullable=True,
            comment="Only users with this language; NULL means everyone subscribed",
        ),
        sa.Column("status", sa.String(length=16), server_default="draft", nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "expansion_cursor",
            sa.BigInteger(),
            nullable=True,
            comment="Last tg_users.telegram_id expanded into outbox rows; NULL before expansion",
        ),
        sa.Column(
            "expanded_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When the audience was fully expanded into outbox rows",
        ),
        sa.Column("total_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sent_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("failed_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("blocked_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("created_by_admin_id", sa.Integer(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'scheduled', 'running', 'paused', 'done', 'cancelled')",
            name=op.f("ck_broadcasts_status"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_index("ix_broadcasts_created_at", "broadcasts", ["created_at"], unique=False)
    op.create_index(
        "ix_broadcasts_status_scheduled_at", "broadcasts", ["status", "scheduled_at"], unique=False
    )
    op.create_table(
        "processed_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column(
            "processed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_processed_updates")),
    )
    op.create_index(
        op.f("ix_processed_updates_processed_at"),
        "processed_updates",
        ["processed_at"],
        unique=False,
    )
    op.create_table(
        "tg_users",
        sa.Column("telegram_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("first_name", sa.String(length=256), server_default="", nullable=False),
        sa.Column("last_name", sa.String(length=256), nullable=True),
        sa.Column(
            "language_code",
            sa.String(length=16),
            nullable=True,
            comment="Language Telegram reported for the user",
        ),
        sa.Column(
            "language",
            sa.String(length=8),
            server_default="en",
            nullable=False,
            comment="Language the bot speaks to the user",
        ),
        sa.Column("is_subscribed", sa.Boolean(), server_default="false", nullable=False),
        sa.Column(
            "is_blocked",
            sa.Boolean(),
            server_default="false",
            nullable=False,
            comment="The user blocked the bot",
        ),
        sa.Column(
            "is_banned",
            sa.Boolean(),
            server_default="false",
            nullable=False,
            comment="An admin banned the user",
        ),
        sa.Column("start_payload", sa.String(length=64), nullable=True),
        sa.Column(
            "first_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_seen_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("telegram_id", name=op.f("pk_tg_users")),
    )
    op.create_index(
        "ix_tg_users_audience",
        "tg_users",
        ["language", "telegram_id"],
        unique=False,
        postgresql_where=sa.text("is_subscribed AND NOT is_blocked AND NOT is_banned"),
    )
    op.create_index("ix_tg_users_last_seen_at", "tg_users", ["last_seen_at"], unique=False)
    op.create_index(
        "ix_tg_users_username_lower",
        "tg_users",
        [sa.literal_column("lower(username)")],
        unique=False,
    )
    op.create_table(
        "conversations",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="open", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "last_activity_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_conversations_status")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["tg_users.telegram_id"],
            name=op.f("fk_conversations_user_id_tg_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_index(
        "ix_conversations_last_activity", "conversations", ["last_activity_at"], unique=False
    )
    op.create_index(
        "ix_conversations_status_last_activity",
        "conversations",
        ["status", "last_activity_at"],
        unique=False,
    )
    op.create_index(op.f("ix_conversations_user_id"), "conversations", ["user_id"], unique=False)
    op.create_index(
        "uq_conversations_user_open",
        "conversations",
        ["user_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column(
            "content_type",
            sa.String(length=32),
            server_default="text",
            nullable=False,
            comment="text, photo, document, sticker, ...",
        ),
        sa.Column("text", sa.Text(), nullable=True, comment="Text or caption"),
        sa.Column(
            "file_id", sa.String(length=256), nullable=True, comment="Telegram file_id of media"
        ),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "author_admin_id",
            sa.Integer(),
            nullable=True,
            comment="Django auth_user.id of the replying admin",
        ),
        sa.Column("author_admin_username", sa.String(length=150), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("direction IN ('in', 'out')", name=op.f("ck_messages_direction")),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_messages_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    op.create_index(
        "ix_messages_conversation_created",
        "messages",
        ["conversation_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=32), server_default="sendMessage", nullable=False),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=sa.Text()),
            nullable=False,
            comment="Bot API method parameters",
        ),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("max_attempts", sa.Integer(), server_default="8", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("leased_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_code", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=False),
        sa.Column("broadcast_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "message_id",
            sa.BigInteger(),
            nullable=True,
            comment="The support message this row delivers (admin replies)",
        ),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'dead', 'cancelled')",
            name=op.f("ck_outbox_status"),
        ),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_outbox_broadcast_id_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_outbox_message_id_messages"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_outbox_idempotency_key")),
    )
    op.create_index(
        "ix_outbox_broadcast_status", "outbox", ["broadcast_id", "status"], unique=False
    )
    op.create_index(
        "ix_outbox_due",
        "outbox",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_outbox_leased",
        "outbox",
        ["leased_until"],
        unique=False,
        postgresql_where=sa.text("status = 'sending'"),
    )
    op.create_index("ix_outbox_message_id", "outbox", ["message_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_message_id", table_name="outbox")
    op.drop_index(
        "ix_outbox_leased", table_name="outbox", postgresql_where=sa.text("status = 'sending'")
    )
    op.drop_index(
        "ix_outbox_due", table_name="outbox", postgresql_where=sa.text("status = 'pending'")
    )
    op.drop_index("ix_outbox_broadcast_status", table_name="outbox")
    op.drop_table("outbox")
    op.drop_index("ix_messages_conversation_created", table_name="messages")
    op.drop_table("messages")
    op.drop_index(
        "uq_conversations_user_open",
        table_name="conversations",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index(op.f("ix_conversations_user_id"), table_name="conversations")
    op.drop_index("ix_conversations_status_last_activity", table_name="conversations")
    op.drop_index("ix_conversations_last_activity", table_name="conversations")
    op.drop_table("conversations")
    op.drop_index("ix_tg_users_username_lower", table_name="tg_users")
    op.drop_index("ix_tg_users_last_seen_at", table_name="tg_users")
    op.drop_index(
        "ix_tg_users_audience",
        table_name="tg_users",
        postgresql_where=sa.text("is_subscribed AND NOT is_blocked AND NOT is_banned"),
    )
    op.drop_table("tg_users")
    op.drop_index(op.f("ix_processed_updates_processed_at"), table_name="processed_updates")
    op.drop_table("processed_updates")
    op.drop_index("ix_broadcasts_status_scheduled_at", table_name="broadcasts")
    op.drop_index("ix_broadcasts_created_at", table_name="broadcasts")
    op.drop_table("broadcasts")
    op.drop_table("bot_texts")
    op.drop_index("ix_admin_audit_log_object", table_name="admin_audit_log")
    op.drop_index("ix_admin_audit_log_created_at", table_name="admin_audit_log")
    op.drop_table("admin_audit_log")
