"""Other ways to run the bot: `serve` with the outbox dispatcher inside, `poll`, `set-webhook`."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.integration.bot.conftest import (
    WEBHOOK_SECRET,
    Bot,
    SandboxClient,
    SandboxProcess,
    bot_env,
    start_bot,
    wait_for_text,
)
from tests.support.processes import ServiceProcess, free_port, run_tgbot
from tests.support.services import psycopg_url
from tests.support.waiting import wait_until


def enqueue_text(db_url: str, chat_id: int, text: str, key: str) -> None:
    """What an admin's reply becomes: an outbox row (the outbox is the only sender)."""
    with psycopg.connect(psycopg_url(db_url)) as conn:
        conn.execute(
            "INSERT INTO outbox (chat_id, method, payload, idempotency_key) "
            "VALUES (%s, 'sendMessage', %s, %s)",
            (chat_id, json.dumps({"text": text}), key),
        )


def outbox_status(db_url: str, key: str) -> str:
    with psycopg.connect(psycopg_url(db_url)) as conn:
        row = conn.execute(
            "SELECT status FROM outbox WHERE idempotency_key = %s", (key,)
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_serve_runs_the_outbox_dispatcher_when_told(
    migrated_db_url: str, redis_url: str, sandbox: SandboxProcess, tmp_path: Path
) -> None:
    client = SandboxClient(sandbox.base_url)
    bot = start_bot(tmp_path, migrated_db_url, redis_url, sandbox, RUN_DISPATCHER_IN_SERVE="true")
    try:
        client.message(7101, "/start", wait=True)  # the chat exists on the Telegram side
        enqueue_text(migrated_db_url, 7101, "queued while serving", "run-modes:serve")

        wait_for_text(client, 7101, "queued while serving")
        wait_until(
            lambda: outbox_status(migrated_db_url, "run-modes:serve") == "sent",
            timeout=10,
            what="the outbox row marked sent",
        )
        # The dispatcher's metrics are on the web app's own /metrics.
        exposition = httpx.get(f"{bot.url}/metrics", timeout=5).text
        assert 'tgbot_outbox_sends_total{code="200"} 1.0' in exposition
        assert "tgbot_updates_total" in exposition
    finally:
        assert bot.process.stop() == 0, bot.process.log()
    log = bot.process.log()
    assert '"event": "dispatcher.stopped"' in log
    assert "queued while serving" not in log  # message text is never logged


def test_serve_leaves_the_outbox_alone_by_default(bot: Bot, user_side: SandboxClient) -> None:
    user_side.message(7102, "/start", wait=True)
    enqueue_text(bot.db_url, 7102, "nobody dispatches me", "run-modes:default")
    # The session bot answers a later update, so it had every chance to send the row.
    user_side.message(7102, "/help", wait=True)
    assert outbox_status(bot.db_url, "run-modes:default") == "pending"
    assert all("nobody dispatches me" not in t for t in user_side.texts_to(7102))
    bot.execute("DELETE FROM outbox WHERE idempotency_key = 'run-modes:default'")


def test_poll_answers_users_without_a_webhook(
    migrated_db_url: str,
    redis_url: str,
    sandbox: SandboxProcess,
    tmp_path: Path,
) -> None:
    client = SandboxClient(sandbox.base_url)
    env = bot_env(
        migrated_db_url,
        redis_url,
        sandbox.base_url,
        sandbox.token,
        free_port(),
        RUN_DISPATCHER_IN_SERVE="true",
    )
    poller = ServiceProcess(["poll"], env, tmp_path / "poll.log").start()
    try:
        wait_until(
            lambda: (
                httpx.get(f"{sandbox.base_url}/sandbox/webhook", timeout=5).json().get("url") == ""
            ),
            timeout=30,
            what="poll to delete the webhook",
        )
        client.message(7103, "/start")
        wait_for_text(client, 7103, "/help", timeout=30)  # the greeting points at /help

        enqueue_text(migrated_db_url, 7103, "sent by the dispatcher in poll", "run-modes:poll")
        wait_for_text(client, 7103, "sent by the dispatcher in poll", timeout=30)

        poller.signal(signal.SIGTERM)
        assert poller.proc is not None
        assert poller.proc.wait(timeout=30) == 0, poller.log()
    finally:
        poller.stop()


def test_set_webhook_is_idempotent_and_complete(
    migrated_db_url: str, redis_url: str, sandbox: SandboxProcess
) -> None:
    port = free_port()
    env = bot_env(
        migrated_db_url,
        redis_url,
        sandbox.base_url,
        sandbox.token,
        port,
        WEBHOOK_MAX_CONNECTIONS="17",
    )
    httpx.post(f"{sandbox.base_url}/bot{sandbox.token}/deleteWebhook", timeout=5)

    first = run_tgbot("set-webhook", env=env)
    assert first.returncode == 0, first.stderr
    assert '"event": "webhook.set"' in first.stdout + first.stderr

    info = httpx.get(f"{sandbox.base_url}/bot{sandbox.token}/getWebhookInfo", timeout=5).json()
    result = info["result"]
    # The URL carries a fingerprint of the secret (an HMAC, 16 hex digits), never the secret.
    base, _, fingerprint = result["url"].partition("?secret_fingerprint=")
    assert base == f"http://127.0.0.1:{port}/telegram/webhook"
    assert len(fingerprint) == 16
    assert WEBHOOK_SECRET not in result["url"]
    assert result["max_connections"] == 17
    assert {"message", "callback_query", "my_chat_member"} <= set(result["allowed_updates"])

    again = run_tgbot("set-webhook", env=env)
    assert again.returncode == 0, again.stderr
    assert '"event": "webhook.unchanged"' in again.stdout + again.stderr

    forced = run_tgbot("set-webhook", "--force", env=env)
    assert '"event": "webhook.set"' in forced.stdout + forced.stderr

    # A rotated secret is registered again without --force: Telegram gets the new one.
    rotated = run_tgbot("set-webhook", env={**env, "WEBHOOK_SECRET": "rotated-secret-2"})
    assert rotated.returncode == 0, rotated.stderr
    assert '"secret_changed": true' in rotated.stdout + rotated.stderr
    info = httpx.get(f"{sandbox.base_url}/bot{sandbox.token}/getWebhookInfo", timeout=5).json()
    assert info["result"]["url"].startswith(base + "?secret_fingerprint=")
    assert info["result"]["url"] != result["url"]
    output = "".join(r.stdout + r.stderr for r in (first, again, forced, rotated))
    assert sandbox.token not in output
    assert WEBHOOK_SECRET not in output
    assert "rotated-secret-2" not in output


@pytest.mark.parametrize("missing", ["WEBHOOK_URL", "WEBHOOK_SECRET"])
def test_set_webhook_without_its_settings_is_one_readable_line(
    migrated_db_url: str, redis_url: str, sandbox: SandboxProcess, missing: str
) -> None:
    env = bot_env(migrated_db_url, redis_url, sandbox.base_url, sandbox.token, free_port())
    del env[missing]
    result = run_tgbot("set-webhook", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]
