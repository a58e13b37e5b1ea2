"""The chat page's staff pane in headless Chromium: read a topic and write into it as staff.

Screenshots go to ``test-artifacts/`` (or ``$TEST_ARTIFACTS_DIR``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from tests.integration.admin.test_browser import ARTIFACTS, CHROMIUM
from tests.support.sandbox import SandboxHandle

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs a Chromium: apt-get install chromium"
)

STAFF_CHAT = -1001000000005
ANNA = 9001  # administrator
BORIS = 9002  # member
USER = 1001


T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Await in a thread of its own: Playwright's sync API keeps a loop running in this one."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


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


async def bot_call(sandbox: SandboxHandle, method: str, **params: Any) -> Any:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{sandbox.api_url}{method}", json=params) as response,
    ):
        body = await response.json()
    assert body["ok"], body
    return body["result"]


async def a_conversation_in_a_topic(sandbox: SandboxHandle) -> int:
    await sandbox.create_group(
        chat_id=STAFF_CHAT,
        title="Support staff",
        members=[
            {"user_id": ANNA, "first_name": "Anna", "status": "administrator"},
            {"user_id": BORIS, "first_name": "Boris"},
        ],
    )
    written = await sandbox.send_user_message(USER, "My order never arrived", first_name="Alice")
    photo = await sandbox.send_user_message(USER, "the receipt", photo=True)
    topic = await bot_call(sandbox, "createForumTopic", chat_id=STAFF_CHAT, name="Alice · #1042")
    thread = int(topic["message_thread_id"])
    for message in (written, photo):
        await bot_call(
            sandbox,
            "copyMessage",
            chat_id=STAFF_CHAT,
            from_chat_id=USER,
            message_id=message["message_id"],
            message_thread_id=thread,
        )
    return thread


def test_staff_read_a_topic_and_reply_into_it(sandbox: SandboxHandle, browser: Any) -> None:
    from playwright.sync_api import expect

    thread = run(a_conversation_in_a_topic(sandbox))
    page = browser.new_context(viewport={"width": 1400, "height": 800}).new_page()
    page.goto(f"{sandbox.base_url}/?user={USER}")

    pane = page.locator("#staff")
    expect(pane.locator("#staff-group")).to_have_value(str(STAFF_CHAT))
    topic_button = pane.get_by_role("button", name="Alice · #1042 · 3")
    expect(topic_button).to_have_attribute("aria-pressed", "true")
    messages = pane.locator("#topic-messages")
    expect(messages).to_contain_text("Sandbox Bot created the topic “Alice · #1042”")
    expect(messages).to_contain_text("My order never arrived")
    expect(messages.locator("img")).to_have_count(1)

    pane.locator("#staff-member").select_option(str(BORIS))
    pane.locator("#staff-text").fill("We are on it, Alice")
    pane.get_by_role("button", name="Send to topic").click()

    expect(messages.locator(".staff-msg")).to_contain_text("Boris")
    expect(messages.locator(".staff-msg")).to_contain_text("We are on it, Alice")
    expect(pane.locator("#staff-text")).to_have_value("")
    [update] = run(bot_call(sandbox, "getUpdates", offset=-1))
    message = update["message"]
    assert message["text"] == "We are on it, Alice"
    assert message["from"]["id"] == BORIS
    assert message["chat"]["id"] == STAFF_CHAT
    assert message["message_thread_id"] == thread
    assert message["is_topic_message"] is True
    page.screenshot(path=str(ARTIFACTS / "sandbox-staff-pane.png"))

    # A member may not write into a closed topic: the page says why and keeps the text.
    pane.locator("#staff-member").select_option(str(ANNA))
    pane.get_by_role("button", name="Close topic").click()
    expect(messages).to_contain_text("Anna closed the topic")
    expect(pane.get_by_role("button", name="Alice · #1042 · 5 · closed")).to_be_visible()
    pane.locator("#staff-member").select_option(str(BORIS))
    pane.locator("#staff-text").fill("one more thing")
    pane.get_by_role("button", name="Send to topic").click()
    expect(pane.get_by_role("alert")).to_have_text(
        "The topic is closed: only administrators may write in it (TOPIC_CLOSED)."
    )
    expect(pane.locator("#staff-text")).to_have_value("one more thing")
    page.screenshot(path=str(ARTIFACTS / "sandbox-staff-pane-closed.png"))


def test_a_new_staff_group_from_the_page(sandbox: SandboxHandle, browser: Any) -> None:
    from playwright.sync_api import expect

    page = browser.new_context(viewport={"width": 1400, "height": 800}).new_page()
    page.goto(sandbox.base_url)
    pane = page.locator("#staff")
    expect(pane.locator("#topics")).to_contain_text("No staff group")

    pane.locator("#new-staff-id").fill("4242")
    pane.get_by_role("button", name="New staff group").click()

    expect(pane.locator("#staff-member")).to_have_value("4242")
    expect(pane.locator("#topics")).to_contain_text("No topics yet")
    group = run(sandbox.request("GET", "/sandbox/groups"))[1]["groups"][0]
    assert group["chat"]["is_forum"] is True
    assert group["members"] == [
        {
            "user": {"id": 4242, "is_bot": False, "first_name": "Staff 4242"},
            "status": "administrator",
        }
    ]
