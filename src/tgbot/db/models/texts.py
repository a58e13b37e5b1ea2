"""Bot texts editable in the admin, per key and language."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from tgbot.db.models.base import Base


class BotText(Base):
    __tablename__ = "bot_texts"
    __table_args__ = (
        UniqueConstraint("key", "language"),
        # Telegram's limit (migration 0003; the panel checks it exactly, in UTF-16 units).
        CheckConstraint("char_length(body) <= 4096", name="body_length"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), onupdate=func.now())
