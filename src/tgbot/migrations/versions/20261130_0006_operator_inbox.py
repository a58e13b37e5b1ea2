"""operator inbox: waiting state, last message and unread count on conversations, assignment,
internal notes, canned answers, files operators attach to replies

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 04:45:00+00:00

The inbox reads its list from conversation columns, never from aggregates over messages. The
columns are kept by one statement-level trigger on ``messages`` (``messages_track_conversation``):
every writer — the bot filing a batch of user messages, the panel queueing a reply — gets them
right without knowing about them, at the cost of one UPDATE per inserting statement. Within a
statement, for each conversation: the last message becomes its preview; an ``out`` message answers
it (``waiting_since`` and ``unread_count`` start again from the ``in`` messages after the last
``out``); otherwise ``in`` messages add to ``unread_count`` and start ``waiting_since`` if unset.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "conversations",
        sa.Column(
            "waiting_since",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When the oldest user message not yet answered arrived; NULL when answered",
        ),
    )
    op.add_column(
        "conversations", sa.Column("last_message_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "conversations",
        sa.Column("last_message_direction", sa.String(length=3), nullable=True),
    )
    op.add_column(
        "conversations",
        sa.Column("last_message_content_type", sa.String(length=32), nullable=True),
    )
    op.add_column(
        "conversations",
        sa.Column(
            "last_message_preview",
            sa.String(length=200),
            nullable=True,
            comment="The start of the last message's text or caption",
        ),
    )
    op.add_column(
        "conversations",
        sa.Column(
            "unread_count",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="User messages since an operator last read it",
        ),
    )
    op.add_column(
        "conversations",
        sa.Column(
            "assigned_admin_id",
            sa.Integer(),
            nullable=True,
            comment="Django auth_user.id of the operator it is assigned to",
        ),
    )
    op.create_index(
        "ix_conversations_waiting",
        "conversations",
        ["waiting_since"],
        unique=False,
        postgresql_where=sa.text("status = 'open' AND waiting_since IS NOT NULL"),
    )
    op.create_index(
        "ix_conversations_open_last_message",
        "conversations",
        ["last_message_at"],
        unique=False,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index(
        "ix_conversations_assigned_open",
        "conversations",
        ["assigned_admin_id"],
        unique=False,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("conversation_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "author_admin_id",
            sa.Integer(),
            nullable=True,
            comment="Django auth_user.id of the author",
        ),
        sa.Column("author_admin_username", sa.String(length=150), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_notes_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_notes")),
    )
    op.create_index(
        "ix_conversation_notes_conversation_created",
        "conversation_notes",
        ["conversation_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "canned_answers",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("language IN ('en', 'ru')", name=op.f("ck_canned_answers_language")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_answers")),
        sa.UniqueConstraint("title", "language", name=op.f("uq_canned_answers_title_language")),
    )
    op.create_table(
        "outbox_uploads",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column(
            "data",
            sa.LargeBinary(),
            nullable=True,
            comment="The file until Telegram has it (then file_id is set and this is NULL)",
        ),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column(
            "file_id",
            sa.String(length=256),
            nullable=True,
            comment="Telegram's file_id after the first upload; later sends use it",
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_uploads")),
    )
    op.add_column(
        "outbox",
        sa.Column(
            "upload_id",
            sa.BigInteger(),
            nullable=True,
            comment="The file this row sends (sendPhoto/sendDocument), uploaded once",
        ),
    )
    op.create_foreign_key(
        op.f("fk_outbox_upload_id_outbox_uploads"),
        "outbox",
        "outbox_uploads",
        ["upload_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.execute(
        """
        CREATE FUNCTION messages_track_conversation() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE conversations c SET
                last_message_at = l.created_at,
                last_message_direction = l.direction,
                last_message_content_type = l.content_type,
                last_message_preview = left(l.text, 200),
                unread_count = CASE WHEN a.last_out_id IS NULL THEN c.unread_count ELSE 0 END
                    + a.in_after_out,
                waiting_since = CASE WHEN a.last_out_id IS NULL
                    THEN coalesce(c.waiting_since, a.first_in_after_out)
                    ELSE a.first_in_after_out END
            FROM (
                SELECT n.conversation_id, o.last_out_id, max(n.id) AS last_id,
                    count(*) FILTER (WHERE n.direction = 'in'
                        AND n.id > coalesce(o.last_out_id, 0)) AS in_after_out,
                    min(n.created_at) FILTER (WHERE n.direction = 'in'
                        AND n.id > coalesce(o.last_out_id, 0)) AS first_in_after_out
                FROM new_messages n JOIN (
                    SELECT conversation_id,
                        max(id) FILTER (WHERE direction = 'out') AS last_out_id
                    FROM new_messages GROUP BY conversation_id
                ) o USING (conversation_id)
                GROUP BY n.conversation_id, o.last_out_id
            ) a JOIN new_messages l ON l.id = a.last_id
            WHERE c.id = a.conversation_id;
            RETURN NULL;
        END $$;
        """
    )
    op.execute(
        """
        CREATE TRIGGER messages_track_conversation AFTER INSERT ON messages
        REFERENCING NEW TABLE AS new_messages
        FOR EACH STATEMENT EXECUTE FUNCTION messages_track_conversation();
        """
    )
    # The conversations that exist: their last message, and waiting since the first user
    # message after the last reply.
    op.execute(
        """
        UPDATE conversations c SET
            last_message_at = l.created_at,
            last_message_direction = l.direction,
            last_message_content_type = l.content_type,
            last_message_preview = left(l.text, 200)
        FROM (
            SELECT DISTINCT ON (conversation_id) conversation_id, created_at, direction,
                content_type, text
            FROM messages ORDER BY conversation_id, id DESC
        ) l
        WHERE c.id = l.conversation_id
        """
    )
    op.execute(
        """
        UPDATE conversations c SET waiting_since = w.first_at, unread_count = w.n
        FROM (
            SELECT m.conversation_id, min(m.created_at) AS first_at, count(*) AS n
            FROM messages m
            WHERE m.direction = 'in' AND m.id > coalesce((
                SELECT max(o.id) FROM messages o
                WHERE o.conversation_id = m.conversation_id AND o.direction = 'out'
            ), 0)
            GROUP BY m.conversation_id
        ) w
        WHERE c.id = w.conversation_id AND c.status = 'open'
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS messages_track_conversation ON messages")
    op.execute("DROP FUNCTION IF EXISTS messages_track_conversation()")
    op.drop_constraint(op.f("fk_outbox_upload_id_outbox_uploads"), "outbox", type_="foreignkey")
    op.drop_column("outbox", "upload_id")
    op.drop_table("outbox_uploads")
    op.drop_table("canned_answers")
    op.drop_index("ix_conversation_notes_conversation_created", table_name="conversation_notes")
    op.drop_table("conversation_notes")
    op.drop_index(
        "ix_conversations_assigned_open",
        table_name="conversations",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index(
        "ix_conversations_open_last_message",
        table_name="conversations",
        postgresql_where=sa.text("status = 'open'"),
    )
    op.drop_index(
        "ix_conversations_waiting",
        table_name="conversations",
        postgresql_where=sa.text("status = 'open' AND waiting_since IS NOT NULL"),
    )
    for column in (
        "assigned_admin_id",
        "unread_count",
        "last_message_preview",
        "last_message_content_type",
        "last_message_direction",
        "last_message_at",
        "waiting_since",
    ):
        op.drop_column("conversations", column)
