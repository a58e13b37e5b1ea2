"""The ceiling for bench/webhook.py: a bare aiogram echo bot on the same aiohttp, no database.

It acknowledges each update only after its handler (one sendMessage) finished, like `tgbot serve`,
and runs on the same event loop (uvloop).
    python bench/echo_bot.py PORT API_BASE TOKEN
"""

from __future__ import annotations

import sys

import uvloop
from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message, Update
from aiohttp import web

router = Router()


@router.message()
async def echo(message: Message) -> None:
    await message.answer(message.text or "?")


def serve(port: int, api_base: str, token: str, router: Router) -> None:
    """A webhook app that acknowledges an update once ``router`` handled it."""
    bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(api_base)))
    dp = Dispatcher()
    dp.include_router(router)

    async def webhook(request: web.Request) -> web.Response:
        update = Update.model_validate(await request.json(), context={"bot": bot})
        await dp.feed_update(bot, update)
        return web.json_response({"ok": True})

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app = web.Application()
    app.router.add_post("/telegram/webhook", webhook)
    app.router.add_get("/readyz", healthz)
    web.run_app(
        app, loop=uvloop.new_event_loop(), host="127.0.0.1", port=port, print=None, access_log=None
    )


def main() -> None:
    serve(int(sys.argv[1]), sys.argv[2], sys.argv[3], router)


if __name__ == "__main__":
    main()
