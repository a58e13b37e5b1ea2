"""Bot texts edited in the admin."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tgbot.db.models import BotText


async def all_text_overrides(session: AsyncSession) -> dict[tuple[str, str], str]:
    rows = await session.execute(select(BotText.key, BotText.language, BotText.body))
    return {(key, language): body for key, language, body in rows.tuples()}
