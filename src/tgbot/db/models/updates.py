"""Processed Telegram updates: the dedup fallback when Redis is unavailable."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func
from sqlalchemy.orm import Mapped, mapped_column

from tgbot.db.models.base import Base


class ProcessedUpdate(Base):
    __tablename__ = "processed_updates"

    update_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    processed_at: Mapped[dt.datetime] = mapped_column(server_default=func.now(), index=True)
