"""SIGTERM behind a proxy (tgbot.web.drain): new connections are refused at once, the open ones
(and those the kernel had queued) keep being served, each answer says ``Connection: close``, and
the process exits as soon as its clients closed them, not at the end of SHUTDOWN_DRAIN_SECONDS."""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path
from typing import Any

import httpx

from tests.integration.bot.conftest import WEBHOOK_SECRET, SandboxProcess, start_bot
from tests.support.waiting import wait_until

USER = 880_000_000 + os.getpid() % 100_000  # also the update's id: new in each session


def text_update(update_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id % 1_000_000,
            "date": int(time.time()),
            "chat": {"id": USER, "type": "private", "first_name": "Drain"},
            "from": {"id": USER, "is_bot": False, "first_name": "Drain"},
            "text": text,
        },
    }


def read_head(sock: socket.socket) -> str:
    """The status line and headers of one HTTP response (the socket has a timeout)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0].decode()


def refuses_new_connections(url: str) -> bool:
    try:
        httpx.get(f"{url}/healthz", timeout=2)
    except httpx.ConnectError:
        return True
    return False


def test_sigterm_serves_open_connections_with_connection_close_and_refuses_new_ones(
    migrated_db_url: str, redis_url: str, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    bot = start_bot(tmp_path, migrated_db_url, redis_url, sandbox, SHUTDOWN_DRAIN_SECONDS="120")
    port = int(bot.url.rsplit(":", 1)[1])
    # Three keep-alive connections, as a proxy's pool holds them; each one opened by a request.
    webhook, readiness, idle = httpx.Client(), httpx.Client(), httpx.Client()
    try:
        for client in (webhook, readiness, idle):
            opened = client.get(f"{bot.url}/healthz", timeout=10)
            assert opened.status_code == 200
            assert opened.headers.get("connection") != "close"

        # A connection the kernel accepted while the process could not (stopped), its request
        # already sent when SIGTERM arrives: it is served, not reset with the listener.
        bot.process.signal(signal.SIGSTOP)
        queued = socket.create_connection(("127.0.0.1", port), timeout=30)
        queued.sendall(f"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        bot.process.signal(signal.SIGTERM)
        bot.process.signal(signal.SIGCONT)
        # (Whether the loop accepts it before or after the signal is the event loop's choice.)
        head = read_head(queued)
        assert head.startswith("HTTP/1.1 200"), head
        queued.close()

        wait_until(
            lambda: refuses_new_connections(bot.url), timeout=10, what="new connections refused"
        )

        # Requests on the open connections (the only way in now) are still served.
        update = text_update(USER, "sent while the bot was stopping")
        answer = webhook.post(
            bot.webhook_url,
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        assert answer.headers["connection"] == "close"
        ready = readiness.get(f"{bot.url}/readyz", timeout=10)
        assert (ready.status_code, ready.json()) == (503, {"status": "draining"})
        assert ready.headers["connection"] == "close"
        # The idle connection was left open for its client to use or close.
        late = idle.get(f"{bot.url}/healthz", timeout=10)
        assert late.status_code == 200
        assert late.headers["connection"] == "close"

        # Every connection closed with its answer: the process ends long before the 120 s.
        assert bot.process.proc is not None
        assert bot.process.proc.wait(timeout=60) == 0, bot.process.log()
    finally:
        for client in (webhook, readiness, idle):
            client.close()
        bot.process.stop()
    stored = bot.query(
        "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.user_id = %s AND m.direction = 'in'",
        USER,
    )
    assert stored == [(1,)]
    assert '"left_open": 0' in bot.process.log()
