"""Logging and metrics set-up, done once at the process edge (the CLI)."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "INFO", fmt: str = "json", service: str = "tgbot") -> None:
    """JSON lines on stdout (or a console renderer for humans), shared by stdlib logging.

    Every line has the same shape in every service (bot, dispatcher, admin, sandbox, and the
    backup script's own lines): ``time`` (ISO 8601, UTC), ``level``, ``service``, ``event``, then
    the event's fields, ids among them (``update_id``, ``outbox_id``, ``broadcast_id``...).
    """
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="time"),
        # Tracebacks without the frames' local variables: their reprs hold updates and user text.
        structlog.processors.ExceptionRenderer(
            structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
        )
        if fmt == "json"
        else structlog.processors.format_exc_info,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    # Our own events are rendered by structlog and written straight to stdout: through stdlib
    # logging (a LogRecord, the handler's lock, a second processor chain) a line cost ~0.4 ms
    # of CPU, as much as a database round trip (docs/bot.md "Benchmark"). Other libraries'
    # records take the stdlib path below and come out in the same shape.
    structlog.configure(
        processors=[*shared, _add_service(service), renderer],
        logger_factory=structlog.WriteLoggerFactory(file=sys.stdout),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            _add_service(service),
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Python warnings would go to stderr as bare text: log them like everything else.
    logging.captureWarnings(True)
    # alembic narrates every connection at INFO; our migrate events say what matters.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))
    # aiogram logs every update with its text at INFO on its "aiogram.event" logger.
    logging.getLogger("aiogram.event").setLevel(max(logging.WARNING, logging.getLevelName(level)))


def _add_service(service: str) -> structlog.types.Processor:
    def add(_: object, __: str, event: structlog.types.EventDict) -> structlog.types.EventDict:
        event.setdefault("service", service)
        return event

    return add
