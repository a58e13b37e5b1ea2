"""messages: trigram search over the text, an index for retention; broadcasts: video and animation

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 08:00:00+00:00

- ``ix_messages_text_trgm``: the inbox searches message text with ``UPPER(text) LIKE UPPER(%q%)``
  (Django's ``icontains``); a trigram GIN index over ``upper(text)`` answers it without reading
  every message. ``pg_trgm`` is a trusted extension (PostgreSQL 13+), so the database owner can
  create it on managed databases too.
- ``ix_tg_users_names_trgm``, ``ix_tg_users_username_upper``: the same for the user's first and
  last name, and the exact ``@username`` (Django's ``iexact`` compares ``UPPER``).
- ``ix_messages_created_at``: ``tgadmin purge-messages`` deletes the oldest messages in batches.
- The indexes are built ``CONCURRENTLY``: on a large table a plain build would
  block the bot's inserts for minutes.
- ``broadcasts.method`` also allows sendVideo and sendAnimation.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

METHODS_BEFORE = "'sendMessage', 'sendPhoto', 'sendDocument'"
METHODS_AFTER = "'sendMessage', 'sendPhoto', 'sendDocument', 'sendVideo', 'sendAnimation'"


def _method_check(methods: str) -> None:
    op.execute("ALTER TABLE broadcasts DROP CONSTRAINT ck_broadcasts_method")
    op.execute(
        f"ALTER TABLE broadcasts ADD CONSTRAINT ck_broadcasts_method CHECK (method IN ({methods}))"
    )


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    _method_check(METHODS_AFTER)
    with op.get_context().autocommit_block():
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_messages_text_trgm"
            " ON messages USING gin (upper(text) gin_trgm_ops)"
        )
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_messages_created_at ON messages (created_at)"
        )
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_tg_users_names_trgm ON tg_users"
            " USING gin (upper(first_name) gin_trgm_ops, upper(last_name) gin_trgm_ops)"
        )
        op.execute(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_tg_users_username_upper"
            " ON tg_users (upper(username))"
        )


def downgrade() -> None:
    with op.get_context().autocommit_block():
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_tg_users_username_upper")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_tg_users_names_trgm")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_messages_created_at")
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_messages_text_trgm")
    _method_check(METHODS_BEFORE)
