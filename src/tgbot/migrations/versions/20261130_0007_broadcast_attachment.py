"""broadcasts: one attachment (a photo or a file), sent once and then by file_id

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 05:45:00+00:00

``upload_id`` points at the file (``outbox_uploads``, the inbox's media path); ``method`` is the
Bot API method each recipient's row uses (sendMessage, or sendPhoto / sendDocument with the
text as the caption). Every recipient's outbox row shares the upload: the dispatcher uploads it
once and sends the rest by Telegram's file_id.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "broadcasts",
        sa.Column(
            "method",
            sa.String(32),
            server_default="sendMessage",
            nullable=False,
            comment="sendMessage, or sendPhoto / sendDocument with the text as the caption",
        ),
    )
    op.add_column(
        "broadcasts",
        sa.Column(
            "upload_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "outbox_uploads.id",
                ondelete="SET NULL",
                name=op.f("fk_broadcasts_upload_id_outbox_uploads"),
            ),
            nullable=True,
            comment="The attached file (outbox_uploads), uploaded once for every recipient",
        ),
    )
    op.execute(
        "ALTER TABLE broadcasts ADD CONSTRAINT ck_broadcasts_method"
        " CHECK (method IN ('sendMessage', 'sendPhoto', 'sendDocument'))"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE broadcasts DROP CONSTRAINT ck_broadcasts_method")
    op.drop_column("broadcasts", "upload_id")
    op.drop_column("broadcasts", "method")
