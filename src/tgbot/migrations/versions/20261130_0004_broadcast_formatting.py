"""broadcasts: formatting (parse_mode) and URL buttons

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 05:10:00+00:00

``parse_mode`` is NULL for broadcasts written before this revision (plain text, as they were
sent), 'HTML' for the panel's new ones; ``buttons`` holds the inline keyboard's rows of
``{"text": ..., "url": ...}``. The outbox payload carries both (delivery.broadcasts).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "broadcasts",
        sa.Column(
            "parse_mode",
            sa.String(16),
            nullable=True,
            comment="NULL: plain text; HTML: Telegram's HTML formatting",
        ),
    )
    op.add_column(
        "broadcasts",
        sa.Column(
            "buttons",
            postgresql.JSONB(),
            nullable=True,
            comment='Inline keyboard rows: [[{"text": ..., "url": ...}, ...], ...]',
        ),
    )
    op.execute(
        "ALTER TABLE broadcasts ADD CONSTRAINT ck_broadcasts_parse_mode"
        " CHECK (parse_mode IS NULL OR parse_mode = 'HTML')"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE broadcasts DROP CONSTRAINT ck_broadcasts_parse_mode")
    op.drop_column("broadcasts", "buttons")
    op.drop_column("broadcasts", "parse_mode")
