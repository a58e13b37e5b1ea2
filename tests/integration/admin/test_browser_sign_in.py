"""A person in headless Chromium against the real panel: a guessed password ends in a lockout,
and an admin who must use two factors sets up an authenticator and signs in with it.

Screenshots go to ``test-artifacts/`` like test_browser's; the browser's console must report no
Content-Security-Policy violation on any page visited.
"""

from __future__ import annotations

import subprocess
from base64 import b32decode
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django_otp.oath import totp

from tests.integration.admin.conftest import prepared_panel_env, tgadmin_executable
from tests.integration.admin.panel_server import running_panel
from tests.integration.admin.test_browser import ARTIFACTS, CHROMIUM, PASSWORD, query

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"
)


@pytest.fixture
def panel_env(fresh_db_url: str, static_root: str) -> dict[str, str]:
    env = prepared_panel_env(fresh_db_url, static_root, username="lead", password=PASSWORD)
    return {**env, "TWO_FACTOR_REQUIRED_FOR_ADMINS": "true", "LOGIN_FAILURE_LIMIT": "3"}


@pytest.fixture
def panel_url(panel_env: dict[str, str], tmp_path: Path) -> Iterator[str]:
    with running_panel(panel_env, tmp_path / "gunicorn.log") as url:
        yield url


@pytest.fixture
def page(panel_url: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        tab = browser.new_page(locale="en-US", viewport={"width": 1280, "height": 900})
        violations: list[str] = []
        tab.on(
            "console",
            lambda message: (
                violations.append(message.text)
                if "Content Security Policy" in message.text
                else None
            ),
        )
        try:
            yield tab
        finally:
            browser.close()
        assert violations == []


def sign_in(page: Any, url: str, password: str, code: str = "") -> None:
    page.goto(f"{url}/admin/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", password)
    if code:
        page.fill("#id_otp_token", code)
    page.click("input[type=submit]")


def test_guessing_ends_in_a_lockout(page: Any, panel_url: str, panel_env: dict[str, str]) -> None:
    from playwright.sync_api import expect

    for _ in range(2):
        sign_in(page, panel_url, "not-the-password")
        expect(page.locator(".errornote")).to_contain_text("correct user name and password")
    sign_in(page, panel_url, "not-the-password")  # the third: locked
    expect(page.locator("h1")).to_have_text("Sign-in locked")
    expect(page.locator(".errornote")).to_contain_text("Too many failed sign-ins (3)")
    page.screenshot(path=str(ARTIFACTS / "admin-lockout.png"), full_page=True)
    sign_in(page, panel_url, PASSWORD)  # the right password does not help now
    expect(page.locator("h1")).to_have_text("Sign-in locked")
    assert query(
        panel_env["DATABASE_URL"],
        "SELECT action FROM admin_audit_log WHERE action LIKE 'login%' ORDER BY id",
    ) == [("login_failed",), ("login_failed",), ("login_locked_out",)]

    # The operator lifts it (axes' management command), and the admin sees what happened.
    subprocess.run(
        [tgadmin_executable(), "axes_reset_username", "lead"],
        env=panel_env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    sign_in(page, panel_url, PASSWORD)
    expect(page.locator("h1")).to_have_text("Two-factor authentication")  # required of admins


def test_an_admin_sets_up_two_factor_and_signs_in_with_it(page: Any, panel_url: str) -> None:
    from playwright.sync_api import expect

    sign_in(page, panel_url, PASSWORD)
    # Required of superusers and the admins group: no other page until it is set up.
    expect(page.locator(".errornote")).to_contain_text("Your role requires two-factor")
    page.goto(f"{panel_url}/admin/auth/user/")
    expect(page.locator("h1")).to_have_text("Two-factor authentication")
    expect(page.locator(".tg-qr img")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "admin-two-factor-setup.png"), full_page=True)

    key = b32decode(page.locator("#totp-secret").inner_text().replace(" ", ""))
    page.fill("#id_otp_token", "000000" if totp(key) != 0 else "111111")
    page.click("button[value=enable]")
    expect(page.locator(".errorlist")).to_contain_text("That code is not right")
    # django-otp throttles after a failure (1 s); the form answers "not right" meanwhile.
    code = f"{totp(key):06d}"
    for _ in range(20):
        page.fill("#id_otp_token", code)
        page.click("button[value=enable]")
        if page.locator("ul.messagelist").count():
            break
        page.wait_for_timeout(500)
    expect(page.locator("ul.messagelist")).to_contain_text("Two-factor authentication is on.")
    page.goto(f"{panel_url}/admin/auth/user/")
    expect(page.locator("#result_list")).to_contain_text("lead")

    # Next time the code is required; the next period's code (a fresh one) lets the admin in.
    page.click("#logout-form button")
    sign_in(page, panel_url, PASSWORD)
    expect(page.locator(".errornote")).to_contain_text("code from your authenticator app")
    sign_in(page, panel_url, PASSWORD, code=f"{totp(key, drift=1):06d}")
    expect(page.locator("#site-name")).to_contain_text("Telegram bot administration")
    page.goto(f"{panel_url}/admin/auth/user/")
    expect(page.locator("#result_list")).to_contain_text("lead")
    page.screenshot(path=str(ARTIFACTS / "admin-two-factor-signed-in.png"), full_page=True)
