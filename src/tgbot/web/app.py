"""Assembles the aiohttp application of ``tgbot serve``."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
from collections.abc import AsyncIterator

import structlog
import uvloop
from aiohttp import web

from tgbot.bot.webhook_registration import register_webhook
from tgbot.config import ServeSettings
from tgbot.db.migrate import head_revisions, known_revisions
from tgbot.db.queries.updates import prune_processed_updates
from tgbot.runtime import BotRuntime
from tgbot.web.drain import Drain
from tgbot.web.health import Metrics, Readiness, healthz
from tgbot.web.webhook import WebhookHandler

log = structlog.get_logger(__name__)
RUNTIME = web.AppKey("runtime", BotRuntime)
SETTINGS = web.AppKey("settings", ServeSettings)
DRAIN = web.AppKey("drain", Drain)
PRUNE_EVERY_SECONDS = 3600.0


def create_app(runtime: BotRuntime, settings: ServeSettings) -> web.Application:
    app = web.Application(client_max_size=settings.webhook_max_body_bytes)
    app[RUNTIME] = runtime
    app[SETTINGS] = settings
    app[DRAIN] = drain = Drain()
    app.on_response_prepare.append(drain.on_response_prepare)
    secret = settings.webhook_secret.get_secret_value()
    webhook = WebhookHandler(
        bot=runtime.bot,
        dispatcher=runtime.dispatcher,
        admission=runtime.admission,
        dedup=runtime.dedup,
        secret=secret,
        max_body_bytes=settings.webhook_max_body_bytes,
        timeout=settings.handler_timeout,
    )
    app.router.add_post(settings.webhook_path, webhook.handle)
    app.router.add_get("/healthz", healthz)
    readiness = Readiness(
        engine=runtime.engine,
        redis=runtime.redis,
        expected_heads=head_revisions(),
        known_revisions=known_revisions(),
        drain=drain,
    )
    app.router.add_get("/readyz", readiness)
    app.router.add_get("/metrics", Metrics(readiness))
    app.on_startup.append(_on_startup)
    app.cleanup_ctx.append(_prune_processed_updates)
    app.cleanup_ctx.append(_outbox_dispatcher)  # RUN_DISPATCHER_IN_SERVE
    app.on_cleanup.append(_on_cleanup)
    return app


async def _on_startup(app: web.Application) -> None:
    runtime, settings = app[RUNTIME], app[SETTINGS]
    await runtime.start()
    if settings.webhook_register_on_start:
        url = settings.webhook_url
        assert url is not None  # ServeSettings requires it with WEBHOOK_REGISTER_ON_START
        await register_webhook(runtime.bot, runtime.dispatcher, settings, url)
    log.info("serve.started", webhook_path=settings.webhook_path)


async def _prune_processed_updates(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    retention = dt.timedelta(hours=runtime.settings.processed_updates_retention_hours)

    async def loop() -> None:
        while True:
            try:
                async with runtime.engine.begin() as conn:
                    removed = await prune_processed_updates(conn, older_than=retention)
                log.info("processed_updates.pruned", removed=removed)
            except Exception as exc:
                log.warning("processed_updates.prune_failed", error=type(exc).__name__)
            await asyncio.sleep(PRUNE_EVERY_SECONDS)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def _outbox_dispatcher(app: web.Application) -> AsyncIterator[None]:
    async with app[RUNTIME].outbox_alongside():
        yield


async def _on_cleanup(app: web.Application) -> None:
    # Never deleteWebhook here: other replicas keep serving the same webhook.
    await app[RUNTIME].close()
    log.info("serve.stopped")


def run_server(settings: ServeSettings) -> None:
    app = create_app(BotRuntime.build(settings), settings)
    uvloop.run(_serve(app, settings))


async def _serve(app: web.Application, settings: ServeSettings) -> None:
    """Serve until SIGTERM or SIGINT, then drain (tgbot.web.drain) and clean up."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):  # a signal during start-up drains right after it
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=settings.shutdown_grace_seconds)
    await runner.setup()
    try:
        listener = app[DRAIN].listener(settings.http_host, settings.http_port)
        await web.SockSite(runner, listener).start()
        await stop.wait()
        await app[DRAIN].run(runner, within=settings.shutdown_drain_seconds)
    finally:
        await runner.cleanup()
