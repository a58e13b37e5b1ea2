"""broadcast segments: last active, start payload, subscribed since, user tags

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 05:20:00+00:00

- ``tg_users.subscribed_at``: when the user last turned the subscription on (NULL for those who
  subscribed before this revision: they are in no "subscribed since" segment).
- ``user_tags``: tags operators put on users in the panel; a tag is a segment.
- ``broadcasts.audience_*``: the segment a broadcast goes to, besides its language. Every
  condition narrows the audience; NULL means "any".
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "tg_users",
        sa.Column(
            "subscribed_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="When the subscription was last turned on (NULL: before this was recorded)",
        ),
    )
    op.create_table(
        "user_tags",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "telegram_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "tg_users.telegram_id", ondelete="CASCADE", name="fk_user_tags_telegram_id_tg_users"
            ),
            nullable=False,
        ),
        sa.Column("tag", sa.String(32), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("telegram_id", "tag", name="uq_user_tags_telegram_id"),
        sa.CheckConstraint("tag ~ '^[a-z0-9_-]{1,32}$'", name="tag"),  # ck_user_tags_tag
        comment="Tags operators put on users; a tag is a broadcast segment",
    )
    op.create_index("ix_user_tags_tag", "user_tags", ["tag", "telegram_id"])
    for column in (
        sa.Column(
            "audience_active_days",
            sa.Integer(),
            nullable=True,
            comment="Only users active within this many days",
        ),
        sa.Column(
            "audience_start_payload",
            sa.String(64),
            nullable=True,
            comment="Only users who came through this /start payload (deep link)",
        ),
        sa.Column(
            "audience_subscribed_since",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Only users who subscribed at or after this time",
        ),
        sa.Column("audience_tag", sa.String(32), nullable=True, comment="Only users with this tag"),
    ):
        op.add_column("broadcasts", column)
    op.execute(
        "ALTER TABLE broadcasts ADD CONSTRAINT ck_broadcasts_audience_active_days"
        " CHECK (audience_active_days > 0)"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE broadcasts DROP CONSTRAINT ck_broadcasts_audience_active_days")
    for name in (
        "audience_tag",
        "audience_subscribed_since",
        "audience_start_payload",
        "audience_active_days",
    ):
        op.drop_column("broadcasts", name)
    op.drop_index("ix_user_tags_tag", table_name="user_tags")
    op.drop_table("user_tags")
    op.drop_column("tg_users", "subscribed_at")
