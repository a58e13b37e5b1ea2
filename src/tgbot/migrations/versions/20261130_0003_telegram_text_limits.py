"""texts the bot sends are within Telegram's limits: bot_texts.body, operator replies, broadcasts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 05:00:00+00:00

Telegram refuses a message text over 4096 characters (UTF-16 code units); the panel checks that
exactly when a text is saved. These CHECKs are the database's backstop, in code points (what
PostgreSQL counts, never more than UTF-16 units): no writer can store a text no recipient could
get. Users' own messages (direction 'in') are whatever Telegram delivered and are not limited.

Each constraint is added NOT VALID (no table scan under the ACCESS EXCLUSIVE lock, so writers
are held back only for a moment), then validated (a scan that lets writes go on).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MAX_TEXT = 4096
CHECKS = [
    ("bot_texts", "ck_bot_texts_body_length", f"char_length(body) <= {MAX_TEXT}"),
    (
        "messages",
        "ck_messages_out_text_length",
        f"direction = 'in' OR text IS NULL OR char_length(text) <= {MAX_TEXT}",
    ),
    ("broadcasts", "ck_broadcasts_text_length", f"char_length(text) <= {MAX_TEXT}"),
]


def upgrade() -> None:
    for table, name, condition in CHECKS:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({condition}) NOT VALID")
        op.execute(f"ALTER TABLE {table} VALIDATE CONSTRAINT {name}")


def downgrade() -> None:
    for table, name, _condition in reversed(CHECKS):
        op.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
