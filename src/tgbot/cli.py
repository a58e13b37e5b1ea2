"""``tgbot`` command line: the process edge. Reads settings, sets up logging, runs one command."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from tgbot.config import (
    COMMANDS,
    CommandSettings,
    ConfigError,
    DispatchSettings,
    MigrateSettings,
    PollSettings,
    ServeSettings,
    SetWebhookSettings,
    load_settings,
)
from tgbot.config.settings import SettingsT
from tgbot.observability import configure_error_reporting, configure_logging
from tgbot.version import VERSION

EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 3


def _settings_and_logging(args: argparse.Namespace, settings_cls: type[SettingsT]) -> SettingsT:
    """The command's own settings (one line per missing or bad one), then logging."""
    settings = load_settings(settings_cls)
    # "tgbot-serve", "tgbot-dispatch", "tgbot-migrate"...: the `service` field of every line.
    configure_logging(settings.log_level, settings.log_format, service=f"tgbot-{args.command}")
    _error_reporting(settings, service=f"tgbot-{args.command}")
    return settings


def _error_reporting(settings: CommandSettings, *, service: str) -> None:
    """Sentry when SENTRY_DSN is set, told every secret this process holds to cut them out."""
    if settings.sentry_dsn is None:
        return
    from urllib.parse import urlsplit

    from pydantic import SecretStr
    from sentry_sdk.integrations.aiohttp import AioHttpIntegration

    secrets: list[str] = []
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if not isinstance(value, SecretStr) or name == "sentry_dsn":
            continue
        raw = value.get_secret_value()
        # A URL's secret is its password (postgresql://user:password@host/db).
        secret = urlsplit(raw).password if name.endswith("_url") else raw
        if secret:
            secrets.append(secret)
    configure_error_reporting(
        settings.sentry_dsn.get_secret_value(),
        environment=settings.sentry_environment,
        service=service,
        release=VERSION,
        integrations=[AioHttpIntegration()],
        secrets=secrets,
    )


def _bot_settings(args: argparse.Namespace, settings_cls: type[SettingsT]) -> SettingsT:
    """Settings and logging of a command that talks to Telegram; aiogram imported the fast way."""
    settings = _settings_and_logging(args, settings_cls)
    from tgbot.aiogram_types import import_aiogram

    import_aiogram()
    return settings


def cmd_check_config(args: argparse.Namespace) -> int:
    settings: CommandSettings = load_settings(COMMANDS[args.for_command])
    for name, value in settings.effective().items():
        print(f"{name}={'' if value is None else value}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from tgbot.db.migrate import (
        DatabaseUnavailable,
        RolesRefused,
        SchemaNotReady,
        grant_roles,
        migrate,
        wait_for_schema,
    )

    settings = _settings_and_logging(args, MigrateSettings)
    if args.no_upgrade:
        try:
            wait_for_schema(
                settings.direct_database_url,
                wait_seconds=args.wait,
                connect_timeout=settings.database_connect_timeout,
            )
        except SchemaNotReady as exc:
            print(f"tgbot migrate --no-upgrade: {exc}", file=sys.stderr)
            return EXIT_UNAVAILABLE
        return 0
    try:
        migrate(
            settings.direct_database_url,
            wait_seconds=args.wait,
            connect_timeout=settings.database_connect_timeout,
        )
        if args.roles:
            logins = {
                group: url.get_secret_value()
                for group, url in (
                    ("tgbot_app", settings.app_database_url),
                    ("tgbot_panel", settings.panel_database_url),
                    ("tgbot_readonly", settings.readonly_database_url),
                )
                if url is not None
            }
            grant_roles(settings.direct_database_url, logins=logins)
    except DatabaseUnavailable as exc:
        print(f"tgbot migrate: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except RolesRefused as exc:
        print(f"tgbot migrate: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _bot_settings(args, ServeSettings)
    from tgbot.web.app import run_server

    run_server(settings)
    return 0


def cmd_poll(args: argparse.Namespace) -> int:
    settings = _bot_settings(args, PollSettings)
    import uvloop

    from tgbot.runtime import BotRuntime

    runtime = BotRuntime.build(settings)

    async def poll() -> None:
        try:
            async with runtime.outbox_alongside():
                # Polling and a webhook exclude each other; this is for development only.
                await runtime.start()
                await runtime.bot.delete_webhook(drop_pending_updates=False)
                await runtime.dispatcher.start_polling(
                    runtime.bot,
                    allowed_updates=runtime.dispatcher.resolve_used_update_types(),
                    handle_signals=True,
                    close_bot_session=False,
                )
        finally:
            await runtime.close()

    uvloop.run(poll())
    return 0


def cmd_set_webhook(args: argparse.Namespace) -> int:
    import uvloop

    settings = _bot_settings(args, SetWebhookSettings)
    from aiogram import Dispatcher

    from tgbot.bot.factory import create_bot
    from tgbot.bot.routers import all_routers
    from tgbot.bot.webhook_registration import register_webhook

    bot = create_bot(settings)
    routes = Dispatcher()  # only for the update types the routers use
    routes.include_routers(*all_routers())

    async def register() -> None:
        try:
            await register_webhook(bot, routes, settings, settings.webhook_url, force=args.force)
        finally:
            await bot.session.close()

    uvloop.run(register())
    return 0


def cmd_alembic(args: argparse.Namespace) -> int:
    from alembic.config import CommandLine

    from tgbot.db.migrate import alembic_ini_path

    load_settings(MigrateSettings)  # fail early and readably when DATABASE_URL is missing or bad
    CommandLine(prog="tgbot alembic").main(["-c", str(alembic_ini_path()), *args.alembic_args])
    return 0


def cmd_dispatch(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    settings = _bot_settings(args, DispatchSettings)
    import uvloop

    from tgbot.delivery.dispatcher import run_dispatcher
    from tgbot.runtime import Connections

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        connections = Connections.open(settings)
        try:
            await run_dispatcher(settings, stop, engine=connections.engine, redis=connections.redis)
        finally:
            await connections.close()

    uvloop.run(run())
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    from tgbot.sandbox.config import load_sandbox_config
    from tgbot.sandbox.server import run

    config = load_sandbox_config()  # a ConfigError is reported by main() like any other
    configure_logging(config.log_level, config.log_format, service="tgbot-sandbox")
    run(args.host or config.sandbox_host, args.port or config.sandbox_port, config)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tgbot", description="Support-and-broadcast Telegram bot service."
    )
    parser.add_argument("--version", action="version", version=f"tgbot {VERSION}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(
        name: str, func: Callable[[argparse.Namespace], int], help_: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(func=func)
        return p

    check = add(
        "check-config",
        cmd_check_config,
        "Validate one command's settings and print them, secrets masked.",
    )
    check.add_argument(
        "--for",
        dest="for_command",
        choices=sorted(COMMANDS),
        default="serve",
        help="the command whose settings to check (default: serve)",
    )
    migrate = add(
        "migrate",
        cmd_migrate,
        "Upgrade the database schema to head (advisory-locked; safe to run concurrently).",
    )
    migrate.add_argument(
        "--wait",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="keep retrying the first connection this long (default: 0, fail at once)",
    )
    mode = migrate.add_mutually_exclusive_group()
    mode.add_argument(
        "--roles",
        action="store_true",
        help="then create the least-privilege group roles and grant them (docs/security.md)",
    )
    mode.add_argument(
        "--no-upgrade",
        action="store_true",
        help="do not migrate: wait up to --wait seconds until the schema is at this code's head "
        "(a user without DDL rights, e.g. the bot's init container, while the release Job "
        "migrates); exit 3 if it is not",
    )
    add("serve", cmd_serve, "Serve the webhook, /healthz, /readyz and /metrics (production).")
    add("poll", cmd_poll, "Long-poll for updates with the same handlers (development).")
    set_webhook = add(
        "set-webhook", cmd_set_webhook, "Register the webhook and command menu (idempotent)."
    )
    set_webhook.add_argument(
        "--force", action="store_true", help="call setWebhook even if it looks unchanged"
    )
    add(
        "dispatch",
        cmd_dispatch,
        "Run the outbox dispatcher: send queued messages and broadcasts under the rate limits.",
    )
    sandbox = add(
        "sandbox",
        cmd_sandbox,
        "Run the local Telegram Bot API sandbox with its web chat (development, tests).",
    )
    sandbox.add_argument("--host", help="address to bind (default: SANDBOX_HOST)")
    sandbox.add_argument("--port", type=int, help="port to bind (default: SANDBOX_PORT)")
    alembic = add("alembic", cmd_alembic, "Run an alembic command (developers: revision, history).")
    alembic.add_argument("alembic_args", nargs=argparse.REMAINDER)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except ConfigError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
