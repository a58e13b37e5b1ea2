"""The dispatcher process's tiny HTTP server: ``GET /healthz`` and ``GET /metrics``."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tgbot.version import VERSION


def build_app(healthy: Callable[[], bool]) -> web.Application:
    async def healthz(_: web.Request) -> web.Response:
        if healthy():
            return web.json_response({"status": "ok", "version": VERSION})
        return web.json_response({"status": "unhealthy", "version": VERSION}, status=503)

    async def metrics(_: web.Request) -> web.Response:
        response = web.Response(body=generate_latest())
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        response.charset = "utf-8"
        return response

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics)
    return app


async def start_server(app: web.Application, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    return runner
