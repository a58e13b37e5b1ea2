"""Error reports (Sentry, optional) never carry message text, tokens or secret headers.

sentry-sdk's real HTTP transport sends to a local server run here; the test reads what arrived.
"""

from __future__ import annotations

import gzip
import http.server
import logging
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import sentry_sdk
import structlog

from tests.support.waiting import wait_until
from tgbot.config.sources import ErrorReportingSettings
from tgbot.observability import (
    configure_error_reporting,
    configure_logging,
    reset_error_reporting,
)

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw7"
WEBHOOK_SECRET = "whsec-Quokka-7f3a9c-Lantern"
MESSAGE_TEXT = "my card number is 4111 1111 1111 1111, zebra pancake"


@dataclass
class Collector:
    url: str
    envelopes: list[bytes] = field(default_factory=list)

    def text(self) -> str:
        return b"\n".join(self.envelopes).decode("utf-8", "replace")


def _decompress(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    if encoding == "br":
        import brotli  # type: ignore[import-not-found, unused-ignore]

        return bytes(brotli.decompress(body))
    return body


@pytest.fixture
def sentry_server() -> Iterator[Collector]:
    received: list[bytes] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.append(_decompress(body, self.headers.get("Content-Encoding", "")))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    collector = Collector(url=f"http://public@127.0.0.1:{server.server_address[1]}/42")
    collector.envelopes = received
    try:
        yield collector
    finally:
        reset_error_reporting()
        structlog.reset_defaults()
        server.shutdown()
        server.server_close()


def _arrived(collector: Collector, marker: str) -> str:
    sentry_sdk.flush(timeout=5)
    wait_until(lambda: marker in collector.text(), timeout=10, what=f"a report with {marker}")
    return collector.text()


def test_an_event_with_text_token_and_secret_header_arrives_without_them(
    sentry_server: Collector,
) -> None:
    assert configure_error_reporting(
        sentry_server.url, environment="test", service="tgbot-serve", release="9.9.9"
    )
    webhook_body = {"update_id": 7, "message": {"message_id": 1, "text": MESSAGE_TEXT}}
    sentry_sdk.capture_event(
        {
            "message": "ErrorMarkerOne: the handler failed",
            "level": "error",
            "request": {
                "method": "POST",
                "url": f"https://bot.example.com/telegram/webhook?token={TOKEN}",
                "headers": {
                    "Content-Type": "application/json",
                    "X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET,
                    "Cookie": f"sessionid={WEBHOOK_SECRET}",
                },
                "data": webhook_body,
            },
            "extra": {"update": webhook_body, "reply": {"caption": MESSAGE_TEXT}},
            "breadcrumbs": {
                "values": [
                    {
                        "category": "httplib",
                        "data": {"url": f"https://api.telegram.org/bot{TOKEN}/sendMessage"},
                    }
                ]
            },
        }
    )
    report = _arrived(sentry_server, "ErrorMarkerOne")
    assert '"environment":"test"' in report.replace(" ", "")
    assert "api.telegram.org/bot[Filtered]/sendMessage" in report
    for secret in (MESSAGE_TEXT, TOKEN, WEBHOOK_SECRET, "4111 1111"):
        assert secret not in report


def test_an_error_log_line_with_an_exception_arrives_scrubbed(sentry_server: Collector) -> None:
    configure_logging("INFO", "json", service="tgbot-dispatch")
    configure_error_reporting(
        sentry_server.url,
        environment=None,
        service="tgbot-dispatch",
        release="9.9.9",
        secrets=[WEBHOOK_SECRET],
    )

    class BotApiFailureMarker(Exception):
        pass

    def send(text: str) -> None:
        raise BotApiFailureMarker(
            f"POST https://api.telegram.org/bot{TOKEN}/sendMessage with {WEBHOOK_SECRET} failed"
        )

    try:
        send(MESSAGE_TEXT)
    except BotApiFailureMarker:
        structlog.get_logger("test").exception("outbox.send_failed", outbox_id=5)

    report = _arrived(sentry_server, "BotApiFailureMarker")
    assert "outbox.send_failed" in report
    assert "/bot[Filtered]/sendMessage with [Filtered] failed" in report
    for secret in (MESSAGE_TEXT, TOKEN, WEBHOOK_SECRET):
        assert secret not in report


def test_a_library_error_record_is_reported_once(sentry_server: Collector) -> None:
    configure_logging("INFO", "json", service="tgadmin")
    configure_error_reporting(sentry_server.url, environment=None, service="tgadmin", release="1")
    logging.getLogger("gunicorn.error").error("LibraryRecordMarker: worker failed")
    _arrived(sentry_server, "LibraryRecordMarker")
    sentry_sdk.flush(timeout=5)
    reports = [e for e in sentry_server.envelopes if b"LibraryRecordMarker" in e]
    assert len(reports) == 1, "reported by the logging integration and again by our processor"


def test_no_dsn_no_reporting_and_a_bad_dsn_is_a_config_error() -> None:
    assert configure_error_reporting(None, environment=None, service="x", release="1") is False
    assert ErrorReportingSettings().sentry_dsn is None
    with pytest.raises(ValueError, match="is not a Sentry DSN"):
        ErrorReportingSettings(sentry_dsn="not-a-dsn")
