"""The operator's day in headless Chromium over the real stack: sandbox users write, `tgbot serve`
files their messages, the inbox (real gunicorn + uvicorn) shows them without a reload, the
operator notes, answers with a canned answer and closes, `tgbot dispatch` delivers through the
sandbox, and the reply's status turns "sent" by itself. Also: one reply from two tabs is one.

Screenshots are kept in ``test-artifacts/`` (or ``$TEST_ARTIFACTS_DIR``), named ``inbox-*.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.integration.admin.conftest import prepared_panel_env
from tests.integration.admin.panel_server import running_panel
from tests.integration.admin.test_browser import ARTIFACTS, CHROMIUM
from tests.integration.bot.conftest import SandboxClient, start_bot, wait_for_text
from tests.integration.delivery.harness import Launcher
from tests.support.sandbox import (
    SandboxHandle,
    sandbox,  # noqa: F401 - the shared sandbox fixture
)
from tests.support.services import psycopg_url
from tests.support.waiting import wait_until
from tgbot.sandbox.files import placeholder_png

PASSWORD = "inbox-Day-pw-4"
ALICE, BOB = 8901, 8902
LIVE_MS = 2_000  # the bound for a new message to show in an open inbox

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"
)


TERMS = {"name": "terms.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 terms\n" * 50}
RECEIPT = {"name": "receipt.png", "mimeType": "image/png", "buffer": placeholder_png(size=40)}


@dataclass
class Stack:
    url: str
    user: SandboxClient
    db_url: str
    sandbox_url: str

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with psycopg.connect(psycopg_url(self.db_url)) as conn:
            return conn.execute(sql, params).fetchall()  # type: ignore[arg-type]


@pytest.fixture
def stack(
    fresh_db_url: str,
    clean_redis: str,
    sandbox: SandboxHandle,  # noqa: F811
    static_root: str,
    tmp_path: Path,
) -> Iterator[Stack]:
    env = prepared_panel_env(fresh_db_url, static_root, username="lead", password=PASSWORD)
    env.update(TELEGRAM_BOT_TOKEN=sandbox.token, TELEGRAM_API_BASE=sandbox.base_url)
    bot = start_bot(tmp_path, fresh_db_url, clean_redis, sandbox)
    dispatchers = Launcher(fresh_db_url, clean_redis, sandbox.base_url, sandbox.token, tmp_path)
    dispatchers(OUTBOX_GLOBAL_RATE=100)
    try:
        with running_panel(env, tmp_path / "gunicorn.log") as url:
            yield Stack(url, SandboxClient(sandbox.base_url), fresh_db_url, sandbox.base_url)
    finally:
        dispatchers.stop_all()
        bot.process.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield chromium
        finally:
            chromium.close()


def logged_in_page(browser: Any, stack: Stack) -> Any:
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{stack.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{stack.url}/admin/")
    return page


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"inbox-{name}.png"), full_page=True)


def test_the_operators_day(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    page = logged_in_page(browser, stack)

    # A canned answer, made in the admin.
    page.goto(f"{stack.url}/admin/panel/cannedanswer/add/")
    page.fill("#id_title", "Late parcel")
    page.select_option("#id_language", "en")
    page.fill("#id_body", "Hello, {name}! Your parcel leaves the warehouse today.")
    page.click("input[name=_save]")
    expect(page.locator("ul.messagelist")).to_contain_text("was added successfully")

    # The home page leads to the inbox; nobody is waiting yet.
    page.goto(f"{stack.url}/admin/")
    expect(page.locator("#inbox-home")).to_contain_text("0 conversations waiting for a reply")
    page.click("#inbox-home a.button")
    expect(page.locator("#inbox-list")).to_contain_text("Nobody is waiting for a reply.")
    page.evaluate("window.notReloaded = true")

    # Bob, then Alice write; each shows within 2 s, without a reload, the oldest wait on top.
    stack.user.message(BOB, "Can I change my address?", first_name="Bob", wait=True)
    expect(page.locator("tr.inbox-row")).to_have_count(1, timeout=LIVE_MS)
    # Alice writes in the sandbox's chat page, with a photo of her receipt.
    chat = page.context.new_page()
    chat.goto(f"{stack.sandbox_url}/")
    chat.fill("#user-id", str(ALICE))
    chat.fill("#first-name", "Alice")
    chat.click("#use-user")
    chat.fill("#text", "My parcel is late")
    chat.press("#text", "Enter")
    expect(chat.locator(".msg.user")).to_have_count(1)
    chat.fill("#text", "")
    chat.press("#text", "Enter")
    expect(chat.locator("#composer-error")).to_have_text("Write a message or attach a file.")
    chat.fill("#text", "the receipt")
    chat.set_input_files("#file", files=[RECEIPT])
    chat.click("#send")
    expect(chat.locator(".msg.user img")).to_have_count(1)
    wait_until(
        lambda: chat.evaluate("document.querySelector('.msg.user img').naturalWidth") > 0,
        timeout=10,
        what="the photo to show in the sandbox chat",
    )
    shot(chat, "0-sandbox-chat")
    rows = page.locator("tr.inbox-row")
    expect(rows).to_have_count(2, timeout=LIVE_MS)
    expect(rows.nth(0).locator(".inbox-user a")).to_have_text("Bob")
    expect(rows.nth(1).locator(".inbox-preview")).to_have_text(
        "photo: the receipt", timeout=LIVE_MS
    )
    expect(rows.nth(1).locator(".inbox-unread")).to_have_text("2")
    expect(page).to_have_title("(2) Inbox | Telegram bot admin")
    assert page.evaluate("window.notReloaded") is True
    shot(page, "1-waiting")

    # Search finds Alice by the words she wrote.
    page.fill("#inbox-search", "parcel is late")
    page.press("#inbox-search", "Enter")
    expect(page.locator("tr.inbox-row")).to_have_count(1)
    page.click("tr.inbox-row .inbox-user a")

    # The conversation reads like a chat; a note stays internal.
    expect(page.locator(".bubble.incoming")).to_have_count(2)
    expect(page.locator(".bubble.incoming").last).to_contain_text("the receipt")
    wait_until(
        lambda: page.evaluate("document.querySelector('img.bubble-photo').naturalWidth") == 40,
        timeout=10,
        what="the photo to load through the panel",
    )
    page.fill("#note-text", "Checked: the parcel is at the warehouse.")
    page.click("#note-add")
    expect(page.locator(".bubble.note")).to_contain_text("Checked: the parcel is at the warehouse.")

    # Tags on Alice (a broadcast segment), added and removed from the conversation.
    page.fill("#tag-name", "VIP")
    page.click("#tag-add")
    expect(page.locator(".tag-name")).to_have_text(["vip"])
    page.fill("#tag-name", "late-parcel")
    page.press("#tag-name", "Enter")
    expect(page.locator(".tag-name")).to_have_text(["late-parcel", "vip"])
    page.fill("#tag-name", "not a tag")
    page.click("#tag-add")
    expect(page.locator("#tools-error")).to_contain_text("A tag is 1-32 lower-case letters")
    page.click(".tag-chip:has-text('late-parcel') button")
    expect(page.locator(".tag-name")).to_have_text(["vip"])
    assert stack.query("SELECT tag FROM user_tags WHERE telegram_id = %s", ALICE) == [("vip",)]

    # A canned answer fills the reply box with her name; Enter sends it.
    page.select_option("#canned", label="Late parcel [en]")
    expect(page.locator("#reply-text")).to_have_value(
        "Hello, Alice! Your parcel leaves the warehouse today."
    )
    # With the delivery terms attached: one reply, the text its caption, uploaded once.
    page.set_input_files("#reply-file", files=[TERMS])
    page.press("#reply-text", "Enter")
    outgoing = page.locator(".bubble.outgoing")
    expect(outgoing).to_have_count(1)
    expect(page.locator("#reply-text")).to_have_value("")
    calls = wait_until(
        lambda: [c for c in stack.user.sent(ALICE, "sendDocument") if c["ok"]],
        timeout=30,
        what="the document to reach Alice",
    )
    expect(outgoing.locator(".delivery")).to_have_text("sent", timeout=15_000)
    assert len(calls) == 1
    assert calls[0]["params"]["caption"] == "Hello, Alice! Your parcel leaves the warehouse today."
    assert calls[0]["result"]["document"]["file_name"] == "terms.pdf"
    expect(outgoing.locator("a.bubble-file")).to_have_text("download document", timeout=5_000)
    assert stack.query("SELECT data IS NULL, file_id IS NOT NULL FROM outbox_uploads") == [
        (True, True)
    ]
    shot(page, "2-conversation")
    # Alice sees the document in her chat.
    chat.reload()
    expect(chat.locator(".msg.bot a")).to_have_text("terms.pdf")
    shot(chat, "4-sandbox-chat-reply")

    # An empty reply is refused next to the box, nothing sent.
    page.press("#reply-text", "Enter")
    expect(page.locator("#reply-error")).to_have_text("Write a reply first.")

    # Close with the closing message: Alice gets it; Bob is still waiting.
    page.check("input[name=send_closing_text]")
    page.click("#close-button")
    expect(page.locator(".conversation-status")).to_have_text("closed")
    wait_for_text(stack.user, ALICE, "Your question is closed.", timeout=30)
    expect(page.locator(".bubble.outgoing").last.locator(".delivery")).to_have_text(
        "sent", timeout=15_000
    )
    shot(page, "3-closed")
    page.click(".breadcrumbs a >> text=Inbox")
    expect(page.locator("tr.inbox-row")).to_have_count(1)
    expect(page).to_have_title("(1) Inbox | Telegram bot admin")

    # Bob blocked the bot meanwhile: the page warns, and the reply says why it failed.
    stack.user.block(BOB)
    wait_until(
        lambda: (
            stack.query("SELECT is_blocked FROM tg_users WHERE telegram_id = %s", BOB) == [(True,)]
        ),
        timeout=10,
        what="the bot to learn that Bob blocked it",
    )
    page.click("tr.inbox-row .inbox-user a")
    expect(page.locator(".conversation-warning")).to_contain_text("blocked the bot")
    page.fill("#reply-text", "You can change it in your profile.")
    page.click("#reply-send")
    expect(page.locator(".bubble.outgoing .delivery")).to_have_text(
        "blocked: Forbidden: bot was blocked by the user", timeout=15_000
    )
    shot(page, "5-blocked")
    actions = stack.query(
        "SELECT action FROM admin_audit_log WHERE object_type = 'panel.conversation' ORDER BY id"
    )
    assert [a for (a,) in actions] == ["note", "reply", "close", "reply"]
    tagged = stack.query(
        "SELECT action, details->>'tag' FROM admin_audit_log "
        "WHERE object_type = 'panel.telegramuser' ORDER BY id"
    )
    assert tagged == [("tag", "vip"), ("tag", "late-parcel"), ("untag", "late-parcel")]


def test_one_reply_from_two_tabs_is_sent_once(stack: Stack, browser: Any) -> None:
    from playwright.sync_api import expect

    stack.user.message(ALICE, "Hello?", first_name="Alice", wait=True)
    conversation_id = int(
        wait_until(
            lambda: stack.query("SELECT id FROM conversations WHERE user_id = %s", ALICE),
            timeout=10,
            what="the bot to open a conversation",
        )[0][0]
    )
    first = logged_in_page(browser, stack)
    second = first.context.new_page()
    for tab in (first, second):
        tab.goto(f"{stack.url}/admin/inbox/{conversation_id}/")
        tab.fill("#reply-text", "We are on it.")
    # Both in flight at once: each tab's submit starts a fetch and returns.
    for tab in (first, second):
        tab.evaluate("document.getElementById('reply-form').requestSubmit()")
    for tab in (first, second):
        expect(tab.locator(".bubble.outgoing")).to_have_count(1)
    notices = [tab.locator("#reply-error").text_content() for tab in (first, second)]
    assert sorted(notices) == ["", "This reply was already sent; it was not sent again."]
    wait_for_text(stack.user, ALICE, "We are on it.", timeout=30)
    for tab in (first, second):
        expect(tab.locator(".bubble.outgoing .delivery")).to_have_text("sent", timeout=15_000)
    assert stack.query("SELECT count(*) FROM outbox") == [(1,)]
    assert stack.user.texts_to(ALICE).count("We are on it.") == 1
