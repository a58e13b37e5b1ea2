"""The whole support and broadcast loop across real processes, nothing simulated in SQL.

A user writes through the sandbox → `tgbot serve` files it in a conversation → an admin logged in
to the real panel (gunicorn) replies and starts a broadcast → `tgbot dispatch` sends through the
sandbox → the panel shows what happened, including Telegram's reason when a send failed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from django.urls import reverse

from tests.integration.admin.conftest import prepared_panel_env
from tests.integration.admin.factories import form_data
from tests.integration.admin.panel_server import running_panel
from tests.integration.bot.conftest import SandboxClient, start_bot, wait_for_text
from tests.integration.delivery.harness import Launcher
from tests.support.sandbox import (
    SandboxHandle,
    sandbox,  # noqa: F401 - the shared sandbox fixture
)
from tests.support.services import psycopg_url
from tests.support.waiting import wait_until

PASSWORD = "round-Trip-pw-7"
ALICE = 8801  # talks to the bot
GHOST = 8802  # known to the database, but Telegram says the chat does not exist


@dataclass
class Stack:
    panel: httpx.Client
    user: SandboxClient
    db_url: str

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with psycopg.connect(psycopg_url(self.db_url)) as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]

    def submit(self, path: str, **fields: str) -> httpx.Response:
        """Post the form on ``path`` as a browser does: its hidden inputs (CSRF) and ``fields``."""
        page = self.panel.get(path)
        assert page.status_code == 200, page.text[:500]
        response = self.panel.post(path, data={**form_data(page.text), **fields})
        assert response.status_code == 302, response.text[:2000]
        return response

    def delivery_column(self, conversation_id: int) -> list[str]:
        page = self.panel.get(reverse("admin:panel_conversation_change", args=[conversation_id]))
        return re.findall(r'field-delivery">\s*<p>([^<]*)</p>', page.text)


@pytest.fixture
def stack(
    fresh_db_url: str,
    clean_redis: str,
    sandbox: SandboxHandle,  # noqa: F811
    static_root: str,
    tmp_path: Path,
) -> Iterator[Stack]:
    env = prepared_panel_env(fresh_db_url, static_root, username="lead", password=PASSWORD)
    bot = start_bot(tmp_path, fresh_db_url, clean_redis, sandbox)
    dispatchers = Launcher(fresh_db_url, clean_redis, sandbox.base_url, sandbox.token, tmp_path)
    dispatchers(OUTBOX_GLOBAL_RATE=100)
    try:
        with (
            running_panel(env, tmp_path / "gunicorn.log") as url,
            httpx.Client(base_url=url, timeout=15) as panel,
        ):
            stack = Stack(panel, SandboxClient(sandbox.base_url), fresh_db_url)
            stack.submit("/admin/login/", username="lead", password=PASSWORD)
            yield stack
    finally:
        dispatchers.stop_all()
        bot.process.stop()


def test_user_question_admin_reply_and_failure_reason(stack: Stack) -> None:
    stack.user.message(ALICE, "My parcel is late", first_name="Alice", wait=True)
    conversation_id = int(
        wait_until(
            lambda: stack.query("SELECT id FROM conversations WHERE user_id = %s", ALICE),
            timeout=10,
            what="the bot to open a conversation",
        )[0][0]
    )

    change = reverse("admin:panel_conversation_change", args=[conversation_id])
    stack.submit(change, reply="Sorry! It arrives tomorrow.", _continue="1")

    wait_for_text(stack.user, ALICE, "Sorry! It arrives tomorrow.", timeout=30)
    wait_until(
        lambda: stack.delivery_column(conversation_id)[-1] == "sent",
        timeout=30,
        what="the panel to show the reply as sent",
    )
    assert stack.delivery_column(conversation_id)[0] == "—"  # the user's own message

    # A conversation whose chat Telegram does not know: the panel says why it failed.
    stack.query(
        "INSERT INTO tg_users (telegram_id, first_name, language) VALUES (%s, 'Ghost', 'en') "
        "RETURNING telegram_id",
        GHOST,
    )
    ghost_conversation = int(
        stack.query("INSERT INTO conversations (user_id) VALUES (%s) RETURNING id", GHOST)[0][0]
    )
    ghost_change = reverse("admin:panel_conversation_change", args=[ghost_conversation])
    stack.user.faults(unknown_chats=[GHOST])
    try:
        stack.submit(ghost_change, reply="Anyone there?", _continue="1")
        settled = wait_until(
            lambda: [
                c
                for c in stack.delivery_column(ghost_conversation)
                if c not in {"pending", "sending"}
            ],
            timeout=30,
            what="the reply to the unknown chat to settle",
        )
    finally:
        stack.user.faults(unknown_chats=[])
    assert settled == ["failed (400): Bad Request: chat not found"]


def test_broadcast_from_the_panel_reaches_subscribers(stack: Stack) -> None:
    subscribers = [8811, 8812, 8813]
    for user_id in [*subscribers, 8814]:
        stack.user.message(user_id, "/start", wait=True)
    for user_id in subscribers:
        stack.user.message(user_id, "/subscribe", wait=True)
    wait_until(
        lambda: stack.query("SELECT count(*) FROM tg_users WHERE is_subscribed")[0][0] == 3,
        timeout=10,
        what="three subscribers",
    )

    stack.submit(
        reverse("admin:panel_broadcast_add"),
        title="Spring news",
        text="Our <b>spring sale</b> starts today",
        buttons_text="Shop https://shop.example.com",
        audience_language="",
        scheduled_at_0="",
        scheduled_at_1="",
    )
    broadcast_id = int(stack.query("SELECT id FROM broadcasts WHERE title = 'Spring news'")[0][0])
    change = reverse("admin:panel_broadcast_change", args=[broadcast_id])

    # A test to the admin's own Telegram id (8814, not a subscriber) before anyone else gets it.
    test_send = reverse("admin:panel_broadcast_test_send", args=[broadcast_id])
    sent = stack.panel.post(
        test_send, data={**form_data(stack.panel.get(change).text), "chat_id": "8814"}
    )
    assert sent.status_code == 302, sent.text[:2000]
    # The sandbox keeps the text as sent, with its formatting (parse_mode HTML, checked there).
    wait_for_text(stack.user, 8814, "Our <b>spring sale</b> starts today", timeout=30)
    assert all(
        "spring sale" not in t for user_id in subscribers for t in stack.user.texts_to(user_id)
    )
    start = reverse("admin:panel_broadcast_transition", args=[broadcast_id, "start"])
    page = stack.panel.get(change)
    response = stack.panel.post(start, data=form_data(page.text))
    assert response.status_code == 302, response.text[:2000]

    for user_id in subscribers:
        wait_for_text(stack.user, user_id, "Our <b>spring sale</b> starts today", timeout=30)
    progress_url = reverse("admin:panel_broadcast_progress", args=[broadcast_id])
    progress = wait_until(
        lambda: (p := stack.panel.get(progress_url).json())["status"] == "done" and p,
        timeout=30,
        what="the broadcast to be done",
    )
    assert progress["sent"] == 3
    assert progress["pending"] == 0
    # The test was the admin's only copy: the broadcast itself went to subscribers alone.
    assert [t for t in stack.user.texts_to(8814) if "spring sale" in t] == [
        "Our <b>spring sale</b> starts today"
    ]
