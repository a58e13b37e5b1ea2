"""conversations: the list order (status, last activity, id) in one index

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 09:30:00+00:00

The panel lists conversations by ``last_activity_at DESC, id DESC`` within a status (the inbox's
*Closed* tab, the admin's conversation list). The index without ``id`` left ties to a sort: with
many conversations sharing a timestamp (an import, a bulk close) PostgreSQL sorted every closed
conversation for a page of 50 (0.9 s at 1,000,000). With ``id`` in it, a page is a backward index
read whatever the ties. It replaces the old index, which it covers; built ``CONCURRENTLY``.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_conversations_status_last_activity_id"
            " ON conversations (status, last_activity_at, id)"
        )
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_conversations_status_last_activity")


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_conversations_status_last_activity"
            " ON conversations (status, last_activity_at)"
        )
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_conversations_status_last_activity_id")
