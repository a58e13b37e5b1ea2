"""gunicorn settings: ``gunicorn -c python:tgadmin.gunicorn_conf tgadmin.asgi:application``.

Reads PORT and WEB_CONCURRENCY, and checks the panel's settings before any worker starts:
a bad or missing setting prints ``config error: NAME: ...`` lines and exits with status 2.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from gunicorn.glogging import Logger
from pydantic import ValidationError

from tgadmin.config import ConfigError, ServerSettings, settings_from_environment


def _load() -> ServerSettings:
    try:
        panel = settings_from_environment()
        if not panel.debug and not panel.allowed_hosts:
            raise ConfigError(
                [
                    "config error: ALLOWED_HOSTS: is required to serve unless DEBUG "
                    "(comma-separated host names, e.g. admin.example.com)"
                ]
            )
        return ServerSettings()
    except ConfigError as exc:
        lines = exc.lines
    except ValidationError as exc:
        from tgbot.config.sources import describe_errors

        lines = describe_errors(exc)
    for line in lines:
        print(line, file=sys.stderr)
    raise SystemExit(2)


_server = _load()


class WithoutQueryStrings(logging.Filter):
    """Access log lines name the path, never the query string: the panel's searches and filters
    put user names, usernames and message text there (``?q=...``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        # uvicorn's access record: (client, method, path with query, http version, status).
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) >= 3:
            path = str(args[2])
            if "?" in path:
                record.args = (*args[:2], path.split("?", 1)[0] + "?...", *args[3:])
        return True


class JsonLogger(Logger):  # type: ignore[misc]  # gunicorn ships no type hints
    """gunicorn's error and access logs (and uvicorn's, which reuse their handlers) as JSON
    lines in the shape every service writes (``tgbot.observability``)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        from tgbot.observability import configure_logging

        panel = settings_from_environment()
        configure_logging(panel.log_level, panel.log_format, service="tgadmin")
        formatter = logging.getLogger().handlers[0].formatter
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                handler.setFormatter(formatter)
        for handler in self.access_log.handlers:  # uvicorn's worker logs access through these
            handler.addFilter(WithoutQueryStrings())


bind = [f"0.0.0.0:{_server.port}"]
workers = _server.web_concurrency
worker_class = "uvicorn_worker.UvicornWorker"
forwarded_allow_ips = _server.forwarded_allow_ips
accesslog = "-"
errorlog = "-"
logger_class = JsonLogger
graceful_timeout = 20
timeout = 60
# No `gunicornc` control socket: the panel is managed by its container (and the image's root
# file system is read-only, so the socket could not be made anyway).
control_socket_disable = True


def on_starting(server: Any) -> None:
    """An empty prometheus-client multiprocess directory before the workers start: files left by
    an earlier run would add dead workers' counts to /metrics."""
    directory = settings_from_environment().prometheus_multiproc_dir
    if directory:
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's samples from prometheus-client's multiprocess directory."""
    if settings_from_environment().prometheus_multiproc_dir:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]
