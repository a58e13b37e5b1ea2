"""Bot texts edited in the admin."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from tgbot.db.models import BotText


async def all_text_overrides(conn: AsyncConnection) -> dict[tuple[str, str], str]:
    rows = await conn.execute(select(BotText.key, BotText.language, BotText.body))
    return {(key, language): body for key, language, body in rows.tuples()}
