"""The sandbox's aiohttp application and its blocking runner (``tgbot sandbox``)."""

from __future__ import annotations

from importlib import resources

import structlog
from aiohttp import web

from tgbot.sandbox.botapi import TOKEN, BotApi
from tgbot.sandbox.config import SandboxConfig
from tgbot.sandbox.control import ControlApi
from tgbot.sandbox.delivery import Delivery
from tgbot.sandbox.state import SandboxState

log = structlog.get_logger("tgbot.sandbox")

STATE_KEY = web.AppKey("state", SandboxState)
DELIVERY_KEY = web.AppKey("delivery", Delivery)


def _chat_page() -> str:
    return resources.files("tgbot.sandbox").joinpath("static/chat.html").read_text("utf-8")


def create_app(config: SandboxConfig) -> web.Application:
    """The Bot API emulator, the control API and the web chat page in one application."""
    state = SandboxState(config)
    bot_api: BotApi | None = None

    async def on_reply(reply: dict[str, object]) -> None:
        assert bot_api is not None
        await bot_api.run_webhook_reply(reply)

    delivery = Delivery(state, on_reply)
    bot_api = BotApi(state, delivery)
    control = ControlApi(state, delivery)
    page = _chat_page()

    async def index(request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def download(request: web.Request) -> web.Response:
        """Telegram's file server: ``/file/bot<token>/<file_path>`` from ``getFile``."""
        stored = state.files.by_path(request.match_info["path"])
        if not TOKEN.match(request.match_info["token"]) or stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=stored.data, content_type=stored.mime_type)

    async def healthz(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def close_delivery(app: web.Application) -> None:
        await delivery.close()

    app = web.Application(client_max_size=50 * 1024 * 1024)
    app[STATE_KEY] = state
    app[DELIVERY_KEY] = delivery
    app.add_routes(
        [
            web.get("/", index),
            web.get("/healthz", healthz),
            *control.routes(),
            web.get(r"/file/bot{token}/{path:.+}", download),
            web.route("*", r"/bot{token}/{method}", bot_api.handle),
        ]
    )
    app.on_cleanup.append(close_delivery)
    return app


def run(host: str, port: int, config: SandboxConfig) -> None:
    """Serve until interrupted (SIGINT/SIGTERM)."""
    # Its control API and recorded calls (which hold the bot's token and webhook secret) answer
    # anyone who can reach the port: development and tests only, never next to a real bot.
    log.warning(
        "sandbox_starting",
        host=host,
        port=port,
        notice="development only: the control API and the recorded calls (tokens, webhook "
        "secrets) are open to anyone who reaches this port",
    )
    web.run_app(create_app(config), host=host, port=port, print=None, access_log=None)
