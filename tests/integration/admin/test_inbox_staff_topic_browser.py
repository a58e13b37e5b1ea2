"""The panel and the staff topic over the real stack, in headless Chromium: a user writes
(sandbox → `tgbot serve` with STAFF_CHAT_ID), `tgbot dispatch` opens the conversation's topic in
the sandbox's staff supergroup; the operator sees the topic's link on the conversation page and
answers there (real gunicorn + uvicorn); the reply reaches the user and shows in the topic as
"Answered in the panel by …"; a staff reply written in the topic shows in the panel.

Screenshot: ``test-artifacts/inbox-staff-topic.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.admin.conftest import prepared_panel_env
from tests.integration.admin.panel_server import running_panel
from tests.integration.admin.test_browser import ARTIFACTS, CHROMIUM
from tests.integration.admin.test_inbox_browser import PASSWORD, Stack, browser, logged_in_page
from tests.integration.bot.conftest import SandboxClient, start_bot
from tests.integration.delivery.harness import Launcher
from tests.support.sandbox import (
    SandboxHandle,
    sandbox,  # noqa: F401 - the shared sandbox fixture
)
from tests.support.waiting import wait_until

STAFF_CHAT = -1001234567890
AGENT = 9101
CAROL = 8911

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"
)
_ = browser  # the Chromium fixture


@pytest.fixture
def staff_stack(
    fresh_db_url: str,
    clean_redis: str,
    sandbox: SandboxHandle,  # noqa: F811
    static_root: str,
    tmp_path: Path,
) -> Iterator[Stack]:
    control(
        sandbox.base_url,
        "/groups",
        chat_id=STAFF_CHAT,
        title="Support",
        members=[{"user_id": AGENT, "first_name": "Olga", "status": "administrator"}],
    )
    env = prepared_panel_env(fresh_db_url, static_root, username="lead", password=PASSWORD)
    env.update(TELEGRAM_BOT_TOKEN=sandbox.token, TELEGRAM_API_BASE=sandbox.base_url)
    bot = start_bot(tmp_path, fresh_db_url, clean_redis, sandbox, STAFF_CHAT_ID=str(STAFF_CHAT))
    dispatchers = Launcher(fresh_db_url, clean_redis, sandbox.base_url, sandbox.token, tmp_path)
    dispatchers(OUTBOX_GLOBAL_RATE=100, OUTBOX_GROUP_RATE_PER_MINUTE=600)
    try:
        with running_panel(env, tmp_path / "gunicorn.log") as url:
            client = SandboxClient(sandbox.base_url)
            yield Stack(url, client, fresh_db_url, sandbox.base_url)
    finally:
        dispatchers.stop_all()
        bot.process.stop()


def control(base_url: str, path: str, **body: Any) -> Any:
    response = httpx.post(f"{base_url}/sandbox{path}", json=body, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def topic_texts(base_url: str, thread: int) -> list[str]:
    response = httpx.get(
        f"{base_url}/sandbox/chats/{STAFF_CHAT}/messages",
        params={"message_thread_id": thread},
        timeout=30,
    )
    response.raise_for_status()
    return [m.get("text") or "" for m in response.json()["messages"]]


def test_a_panel_reply_shows_in_the_topic_and_a_topic_reply_in_the_panel(
    staff_stack: Stack, browser: Any
) -> None:
    from playwright.sync_api import expect

    stack = staff_stack
    api = stack.sandbox_url
    stack.user.message(CAROL, "Where is my order 1042?", first_name="Carol", wait=True)
    row = wait_until(
        lambda: stack.query(
            "SELECT id, staff_topic_id FROM conversations WHERE user_id = %s"
            " AND staff_topic_id IS NOT NULL",
            CAROL,
        ),
        timeout=30,
        what="the conversation's topic",
    )
    conversation_id, thread = int(row[0][0]), int(row[0][1])  # type: ignore[call-overload]
    wait_until(
        lambda: "Where is my order 1042?" in topic_texts(api, thread),
        timeout=30,
        what="the user's message in the topic",
    )

    page = logged_in_page(browser, stack)
    page.goto(f"{stack.url}/admin/inbox/{conversation_id}/")
    link = page.locator("a.conversation-topic")
    expect(link).to_have_attribute("href", f"https://t.me/c/1234567890/{thread}")
    page.fill("#reply-text", "It ships tomorrow.")
    page.press("#reply-text", "Enter")
    expect(page.locator(".bubble.outgoing")).to_have_count(1)

    wait_until(
        lambda: "Answered in the panel by lead:\nIt ships tomorrow." in topic_texts(api, thread),
        timeout=30,
        what="the panel reply in the topic",
    )
    wait_until(
        lambda: [
            c
            for c in stack.user.sent(CAROL, "sendMessage")
            if c["ok"] and c["params"].get("text") == "It ships tomorrow."
        ],
        timeout=30,
        what="the reply to reach the user",
    )

    # Olga answers in the topic: the panel shows it, with her name, without a reload.
    staff_reply = {"user_id": AGENT, "text": "Tracking: ZX123", "message_thread_id": thread}
    control(api, f"/groups/{STAFF_CHAT}/messages", **staff_reply)
    expect(page.locator(".bubble.outgoing")).to_have_count(2, timeout=10_000)
    expect(page.locator(".bubble.outgoing").last).to_contain_text("Tracking: ZX123")
    expect(page.locator(".bubble.outgoing").last).to_contain_text("Olga (Telegram)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "inbox-staff-topic.png"), full_page=True)
