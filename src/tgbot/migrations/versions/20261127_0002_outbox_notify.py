"""outbox notify triggers, direct-message claim index, broadcast skipped counter

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 00:30:00+00:00

Writers (the bot, the admin panel) only INSERT outbox rows and UPDATE broadcasts.status; these
triggers wake every dispatcher that LISTENs on channel ``outbox``:

- ``insert``: after any statement that inserted outbox rows (statement-level: one NOTIFY per
  broadcast expansion batch, not one per row);
- ``broadcast:<id>:<status>``: after a broadcast is created or its status changes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "broadcasts",
        sa.Column(
            "skipped_count",
            sa.Integer(),
            server_default="0",
            nullable=False,
            comment="Rows skipped because the user unsubscribed, blocked or was banned first",
        ),
    )
    op.create_index(
        "ix_outbox_due_direct",
        "outbox",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status = 'pending' AND broadcast_id IS NULL"),
    )
    op.execute(
        """
        CREATE FUNCTION outbox_notify_insert() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('outbox', 'insert');
            RETURN NULL;
        END $$;
        """
    )
    op.execute(
        """
        CREATE TRIGGER outbox_notify_insert AFTER INSERT ON outbox
        FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify_insert();
        """
    )
    op.execute(
        """
        CREATE FUNCTION broadcasts_notify_status() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('outbox', 'broadcast:' || NEW.id || ':' || NEW.status);
            RETURN NULL;
        END $$;
        """
    )
    op.execute(
        """
        CREATE TRIGGER broadcasts_notify_status AFTER UPDATE OF status ON broadcasts
        FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
        EXECUTE FUNCTION broadcasts_notify_status();
        """
    )
    op.execute(
        """
        CREATE TRIGGER broadcasts_notify_insert AFTER INSERT ON broadcasts
        FOR EACH ROW EXECUTE FUNCTION broadcasts_notify_status();
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS broadcasts_notify_insert ON broadcasts")
    op.execute("DROP TRIGGER IF EXISTS broadcasts_notify_status ON broadcasts")
    op.execute("DROP FUNCTION IF EXISTS broadcasts_notify_status()")
    op.execute("DROP TRIGGER IF EXISTS outbox_notify_insert ON outbox")
    op.execute("DROP FUNCTION IF EXISTS outbox_notify_insert()")
    op.drop_index(
        "ix_outbox_due_direct",
        table_name="outbox",
        postgresql_where=sa.text("status = 'pending' AND broadcast_id IS NULL"),
    )
    op.drop_column("broadcasts", "skipped_count")
