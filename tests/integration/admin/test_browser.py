"""A person in headless Chromium: logs in, answers a conversation, starts a broadcast.

Debian's ``chromium`` driven by Python playwright (``executable_path``); screenshots are kept in
``test-artifacts/`` (or ``$TEST_ARTIFACTS_DIR``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.integration.admin.conftest import prepared_panel_env
from tests.integration.admin.panel_server import running_panel
from tests.support.media import tiny_gif
from tests.support.services import psycopg_url
from tests.support.waiting import wait_until

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("TEST_ARTIFACTS_DIR", Path(__file__).parents[3] / "test-artifacts"))
PASSWORD = "browser-Test-pw-1"

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(),
    reason="needs a Chromium: apt-get install chromium, or set CHROMIUM_PATH",
)


@dataclass
class Panel:
    url: str
    db_url: str
    conversation_id: int


def seed(db_url: str) -> int:
    with psycopg.connect(psycopg_url(db_url)) as conn:
        conn.execute(
            """
            INSERT INTO tg_users (telegram_id, username, first_name, language, is_subscribed,
                                  is_blocked)
            VALUES (501, 'alice', 'Alice', 'en', true, false),
                   (502, 'bob', 'Bob', 'en', true, false),
                   (503, 'olga', 'Olga', 'ru', true, false),
                   (504, 'gone', 'Gone', 'en', true, true)
            """
        )
        row = conn.execute(
            "INSERT INTO conversations (user_id) VALUES (501) RETURNING id"
        ).fetchone()
        assert row is not None
        conn.execute(
            "INSERT INTO messages (conversation_id, direction, text) VALUES (%s, 'in', %s)",
            (row[0], "My parcel is late"),
        )
        return int(row[0])


@pytest.fixture
def panel(fresh_db_url: str, static_root: str, tmp_path: Path) -> Iterator[Panel]:
    env = prepared_panel_env(fresh_db_url, static_root, username="lead", password=PASSWORD)
    conversation_id = seed(fresh_db_url)
    with running_panel(env, tmp_path / "gunicorn.log") as url:
        yield Panel(url, fresh_db_url, conversation_id)


def query(db_url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(psycopg_url(db_url)) as conn:
        return conn.execute(sql).fetchall()  # type: ignore[arg-type]


def test_log_in_reply_and_broadcast(panel: Panel) -> None:
    from playwright.sync_api import expect, sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
        try:
            # Log in.
            page.goto(f"{panel.url}/admin/")
            page.fill("#id_username", "lead")
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            expect(page.locator("#site-name")).to_contain_text("Telegram bot administration")

            # Answer the conversation.
            page.get_by_role("link", name="Conversations").first.click()
            page.get_by_role("link", name=str(panel.conversation_id), exact=True).click()
            expect(page.locator("td.field-body").first).to_have_text("My parcel is late")
            page.fill("textarea[name=reply]", "Sorry! It arrives tomorrow.")
            page.click("input[name=_continue]")
            expect(page.locator("ul.messagelist")).to_contain_text("Reply queued for delivery.")
            expect(page.locator("td.field-body").last).to_have_text("Sorry! It arrives tomorrow.")
            expect(page.locator("td.field-delivery").last).to_have_text("pending")
            page.screenshot(path=str(ARTIFACTS / "admin-conversation.png"), full_page=True)
            assert query(
                panel.db_url, "SELECT chat_id, method, payload->>'text', status FROM outbox"
            ) == [(501, "sendMessage", "Sorry! It arrives tomorrow.", "pending")]

            # Compose a broadcast: formatting checked and previewed live, a button, the count.
            page.goto(f"{panel.url}/admin/panel/broadcast/add/")
            page.fill("#id_title", "Spring news")
            page.fill("#id_text", "Hello <b>friends</b> <sale>")
            expect(page.locator("#tg-problems")).to_contain_text(
                "<sale>: Telegram does not know this tag"
            )
            page.fill("#id_text", "Hello <b>friends</b>")
            # The preview shows Telegram's formatting (rendered by the panel, never raw).
            expect(page.locator("#tg-preview")).to_have_text("Hello friends")
            expect(page.locator("#tg-preview b")).to_have_text("friends")
            expect(page.locator("#tg-problems li")).to_have_count(0)
            page.fill("#id_buttons_text", "Shop https://shop.example.com")
            expect(page.locator("#tg-keyboard .tg-button")).to_have_text("Shop")
            expect(page.locator("#tg-recipients")).to_have_text("3")
            page.select_option("#id_audience_language", "en")
            expect(page.locator("#tg-recipients")).to_have_text("2")
            # An animation: a GIF, sent as one (guessed from its bytes).
            page.set_input_files(
                "#id_attachment",
                files=[{"name": "party.gif", "mimeType": "image/gif", "buffer": tiny_gif()}],
            )
            page.screenshot(path=str(ARTIFACTS / "admin-broadcast-compose.png"), full_page=True)
            page.click("input[name=_continue]")
            expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")
            expect(page.locator(".tg-attachment")).to_have_text("📎 animation: party.gif")

            # A test to the admin's own Telegram id first.
            page.fill("input[name=chat_id]", "501")
            page.click(".tg-test-send button")
            expect(page.locator("ul.messagelist")).to_contain_text("Test queued for 501")

            # Start now: the browser asks first, with the number of recipients.
            asked: list[str] = []

            def answer(dialog: Any) -> None:
                asked.append(dialog.message)
                dialog.accept()

            page.once("dialog", answer)
            page.click("input.tg-start")
            expect(page.locator("ul.messagelist")).to_contain_text("Start: 1 broadcast(s).")
            assert asked == ["Send this broadcast to 2 users?"]
            expect(page.locator(".field-status .readonly")).to_have_text("running")
            expect(page.locator(".tg-n-total")).to_have_text("0")

            # The dispatcher expands the audience and sends; the page follows.
            query(panel.db_url, "UPDATE broadcasts SET total_count = 2 RETURNING id")
            expect(page.locator(".tg-n-pending")).to_have_text("2", timeout=15_000)
            query(panel.db_url, "UPDATE broadcasts SET sent_count = 1 RETURNING id")
            expect(page.locator(".tg-n-sent")).to_have_text("1", timeout=15_000)
            expect(page.locator(".tg-n-pending")).to_have_text("1")
            page.screenshot(path=str(ARTIFACTS / "admin-broadcast.png"), full_page=True)

            # The list refreshes too, until the broadcast is done.
            page.get_by_role("link", name="Broadcasts").first.click()
            row = page.locator("#result_list tbody tr").first
            expect(row.locator(".tg-n-sent")).to_have_text("1")
            query(
                panel.db_url,
                "UPDATE broadcasts SET blocked_count = 1, status = 'done' RETURNING id",
            )
            expect(row.locator(".tg-n-pending")).to_have_text("0", timeout=15_000)
            expect(row.locator("td.field-status")).to_have_text("done")
            page.screenshot(path=str(ARTIFACTS / "admin-broadcast-list.png"), full_page=True)
        finally:
            browser.close()
    wait_until(lambda: (ARTIFACTS / "admin-broadcast.png").stat().st_size > 0, timeout=5)
