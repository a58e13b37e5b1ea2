"""Logging set-up: JSON lines whose tracebacks never carry local variables (they hold user text)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from tgbot.observability import configure_logging


@pytest.fixture
def restored_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_exception_logs_have_the_traceback_but_not_the_locals(
    restored_logging: None, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("INFO", "json")

    def handler(text: str) -> None:
        raise ValueError("handler failed")

    secret = "my card number is 4111-1111"  # whole: a timestamp can hold "4111", not this
    try:
        handler(secret)
    except ValueError:
        structlog.get_logger("test").exception("update.handler_failed", update_id=7)

    line = capsys.readouterr().out.strip().splitlines()[-1]
    event = json.loads(line)
    assert event["update_id"] == 7
    assert event["exception"][0]["exc_type"] == "ValueError"
    assert any(frame["name"] == "handler" for frame in event["exception"][0]["frames"])
    assert secret not in line
