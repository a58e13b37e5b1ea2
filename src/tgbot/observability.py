"""Logging, metrics and error reporting set-up, done once at the process edge (the CLI, the
admin's Django settings)."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import Any

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
        _report_errors,  # before the exception is rendered: it needs exc_info
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


# --- error reporting (Sentry, optional) ------------------------------------------------------
# Off unless SENTRY_DSN is set; sentry_sdk is imported only then. Every event passes
# scrub_event before it leaves the process: no message text, no token, no secret header.

FILTERED = "[Filtered]"
# A bot token anywhere in a string: URLs of Bot API calls (/bot<token>/sendMessage), reprs.
BOT_TOKEN_RE = re.compile(r"\d{3,20}:[A-Za-z0-9_-]{30,200}")
# Keys whose values are user-written text (Telegram's message fields, the panel's reply forms).
TEXT_KEYS = frozenset({"text", "caption", "reply", "quote", "query", "body", "message_text"})
# The only request headers kept: all others may carry credentials (the webhook's secret token,
# cookies, authorization).
SAFE_HEADERS = frozenset({"content-type", "content-length", "user-agent", "accept", "host"})

_reporting = False


def configure_error_reporting(
    dsn: str | None,
    *,
    environment: str | None,
    service: str,
    release: str,
    integrations: Iterable[Any] = (),
    secrets: Iterable[str | None] = (),
) -> bool:
    """Send unhandled errors and error log lines to Sentry when ``dsn`` is set.

    ``secrets`` (the bot token, the webhook secret, ...) are cut out of every string of every
    event, besides the generic scrubbing of :func:`scrub_event`. Returns whether it is on.
    """
    global _reporting
    if not dsn:
        return False
    import sentry_sdk

    known = sorted({value for value in secrets if value and len(value) >= 8}, key=len, reverse=True)

    def before_send(event: Any, hint: Any) -> Any:
        return scrub_event(event, known)

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=release,
        server_name=service,
        integrations=list(integrations),
        include_local_variables=False,  # frame locals hold updates and user text
        max_request_body_size="never",
        trace_propagation_targets=[],  # no tracing headers on Bot API calls
        traces_sample_rate=None,
        before_send=before_send,
        before_send_transaction=before_send,
    )
    sentry_sdk.set_tag("service", service)
    _reporting = True
    return True


def scrub_event(event: dict[str, Any], secrets: Iterable[str] = ()) -> dict[str, Any]:
    """The event without message text, tokens or credentials (Sentry's ``before_send``)."""
    request = event.get("request")
    if isinstance(request, dict):
        for key in ("data", "cookies", "query_string", "env"):
            request.pop(key, None)
        if isinstance(request.get("url"), str):
            request["url"] = request["url"].split("?", 1)[0]
        headers = request.get("headers")
        if isinstance(headers, dict):
            request["headers"] = {
                name: value for name, value in headers.items() if name.lower() in SAFE_HEADERS
            }
    secrets = list(secrets)

    def clean_string(value: str) -> str:
        for secret in secrets:
            value = value.replace(secret, FILTERED)
        return BOT_TOKEN_RE.sub(FILTERED, value)

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return clean_string(value)
        if isinstance(value, dict):
            return {
                key: FILTERED
                if isinstance(key, str) and key.lower() in TEXT_KEYS and value[key]
                else clean(value[key])
                for key in value
            }
        if isinstance(value, list | tuple):
            return [clean(item) for item in value]
        return value

    cleaned: dict[str, Any] = clean(event)
    return cleaned


def _report_errors(
    _: object, method: str, event: structlog.types.EventDict
) -> structlog.types.EventDict:
    """Our own error lines (structlog writes them past stdlib logging, where Sentry's logging
    integration listens) reach Sentry too: the event name, its fields, the exception."""
    # Other libraries' records ("_record": they pass here on their way to the formatter) are
    # Sentry's logging integration's to report; reporting them here too would send them twice.
    if _reporting and method in {"error", "critical", "exception"} and "_record" not in event:
        _capture(event)
    return event


def _capture(event: structlog.types.EventDict) -> None:
    import sentry_sdk

    exc_info: Any = event.get("exc_info")
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    fields = {
        key: value
        for key, value in event.items()
        if key not in {"event", "exc_info"} and isinstance(value, str | int | float | bool)
    }
    with sentry_sdk.new_scope() as scope:
        scope.set_context("log", fields)
        scope.set_tag("log_event", str(event.get("event")))
        if exc_info and exc_info[0] is not None:
            sentry_sdk.capture_exception(exc_info)
        else:
            sentry_sdk.capture_message(str(event.get("event")), level="error")


def reset_error_reporting() -> None:
    """Off again (tests)."""
    global _reporting
    if _reporting:
        import sentry_sdk

        sentry_sdk.get_client().close(timeout=2.0)
        sentry_sdk.init()
    _reporting = False
