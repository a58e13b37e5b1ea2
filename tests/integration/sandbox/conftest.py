from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from tests.support.sandbox import SandboxHandle, sandbox

__all__ = ["bot", "http", "sandbox"]


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    """A plain HTTP client for raw requests."""
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def bot(sandbox: SandboxHandle) -> AsyncIterator[Bot]:
    """A real aiogram Bot whose session talks to the sandbox."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(sandbox.base_url))
    async with Bot(token=sandbox.token, session=session) as bot:
        yield bot
