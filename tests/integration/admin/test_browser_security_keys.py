"""Security keys in headless Chromium against the real panel (gunicorn + uvicorn), with Chrome
DevTools' virtual authenticator standing in for the key: an admin who must use two factors adds
one, signs out, and signs in with the password and the key; a missing or forged assertion is
refused.

WebAuthn needs a secure context and a host name (never an IP address), so the browser uses
http://localhost:<port>, the origin CSRF_TRUSTED_ORIGINS names. Screenshots go to
``test-artifacts/``; no page may report a Content-Security-Policy violation.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.admin.conftest import prepared_panel_env
from tests.integration.admin.panel_server import free_port, running_panel
from tests.integration.admin.test_browser import ARTIFACTS, CHROMIUM, PASSWORD, query

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="needs Debian's chromium (apt-get install chromium)"
)

KEY_NAME = "Blue key on the keyring"


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def panel_env(fresh_db_url: str, static_root: str, port: int) -> dict[str, str]:
    env = prepared_panel_env(fresh_db_url, static_root, username="lead", password=PASSWORD)
    return {
        **env,
        "ALLOWED_HOSTS": "localhost,127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": f"http://localhost:{port}",
        "TWO_FACTOR_REQUIRED_FOR_ADMINS": "true",
    }


@pytest.fixture
def panel_url(panel_env: dict[str, str], tmp_path: Path, port: int) -> Iterator[str]:
    with running_panel(panel_env, tmp_path / "gunicorn.log", port=port):
        yield f"http://localhost:{port}"


@pytest.fixture
def browser_page(panel_url: str) -> Iterator[tuple[Any, Any]]:
    """A tab with a virtual platform authenticator (user verification on), and its CDP session."""
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
        cdp = tab.context.new_cdp_session(tab)
        cdp.send("WebAuthn.enable")
        authenticator = cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {
                "options": {
                    "protocol": "ctap2",
                    "transport": "internal",
                    "hasResidentKey": True,
                    "hasUserVerification": True,
                    "isUserVerified": True,
                }
            },
        )
        cdp.authenticator_id = authenticator["authenticatorId"]
        try:
            yield tab, cdp
        finally:
            browser.close()
        assert violations == []


def sign_in(page: Any, url: str) -> None:
    page.goto(f"{url}/admin/login/")
    page.fill("#id_username", "lead")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def add_key(page: Any, url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}/admin/two-factor/")
    page.fill("#id_key_name", KEY_NAME)
    page.click("button[value=name_key]")
    expect(page.locator("#content-main")).to_contain_text(f"to add it as “{KEY_NAME}”")
    page.screenshot(path=str(ARTIFACTS / "admin-security-key-register.png"), full_page=True)
    page.click("#passkey-register-button")
    # The page comes back listing the key (panel/two_factor.js reloads it on success).
    expect(page.locator("#security-key-list")).to_contain_text(KEY_NAME)
    expect(page.locator("ul.messagelist")).to_contain_text(f"Security key “{KEY_NAME}” added.")


def audit_actions(env: dict[str, str]) -> list[str]:
    rows = query(env["DATABASE_URL"], "SELECT action FROM admin_audit_log ORDER BY id")
    return [str(action) for (action,) in rows]


def test_an_admin_adds_a_key_and_signs_in_with_it(
    browser_page: tuple[Any, Any], panel_url: str, panel_env: dict[str, str]
) -> None:
    from playwright.sync_api import expect

    page, cdp = browser_page
    sign_in(page, panel_url)
    # Enforcement: no device yet, so the admin is sent to set one up; a key is enough.
    expect(page.locator(".errornote")).to_contain_text("Your role requires two-factor")
    page.goto(f"{panel_url}/admin/auth/user/")
    expect(page.locator("h1")).to_have_text("Two-factor authentication")
    page.screenshot(path=str(ARTIFACTS / "admin-security-key-required.png"), full_page=True)

    add_key(page, panel_url)
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": cdp.authenticator_id})
    assert len(credentials["credentials"]) == 1  # the authenticator made one, for localhost
    assert credentials["credentials"][0]["rpId"] == "localhost"
    page.screenshot(path=str(ARTIFACTS / "admin-security-key-added.png"), full_page=True)
    page.goto(f"{panel_url}/admin/auth/user/")  # registering verified this session
    expect(page.locator("#result_list")).to_contain_text("lead")
    assert query(
        panel_env["DATABASE_URL"],
        "SELECT details->>'name' FROM admin_audit_log WHERE action = 'security_key_added'",
    ) == [(KEY_NAME,)]

    # Next sign-in: the password alone opens only the two-factor page ...
    page.click("#logout-form button")
    sign_in(page, panel_url)
    expect(page.locator("#content-main")).to_contain_text("Verify this session with one of")
    page.goto(f"{panel_url}/admin/auth/user/")
    expect(page.locator("h1")).to_have_text("Two-factor authentication")
    page.screenshot(path=str(ARTIFACTS / "admin-security-key-verify.png"), full_page=True)
    # ... until the key verifies it.
    page.click("#passkey-verification-button")
    page.wait_for_url(f"{panel_url}/admin/")  # the library's script goes on to the index
    expect(page.locator("h1")).to_have_text("Support and broadcasts")
    page.goto(f"{panel_url}/admin/auth/user/")
    expect(page.locator("#result_list")).to_contain_text("lead")
    page.screenshot(path=str(ARTIFACTS / "admin-security-key-signed-in.png"), full_page=True)
    assert audit_actions(panel_env)[-2:] == ["login", "two_factor_verified"]

    # A verified session may remove the key (audited); the admin must then set up another.
    page.goto(f"{panel_url}/admin/two-factor/")
    page.click("button.tg-remove-key")
    expect(page.locator("ul.messagelist")).to_contain_text(f"Security key “{KEY_NAME}” removed.")
    expect(page.locator("#security-key-list")).to_have_count(0)
    assert audit_actions(panel_env)[-1] == "security_key_removed"


def test_a_missing_or_forged_assertion_is_refused(
    browser_page: tuple[Any, Any], panel_url: str, panel_env: dict[str, str]
) -> None:
    from playwright.sync_api import expect

    page, cdp = browser_page
    sign_in(page, panel_url)
    add_key(page, panel_url)
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": cdp.authenticator_id})
    credential_id = stored["credentials"][0]["credentialId"]
    page.click("#logout-form button")
    sign_in(page, panel_url)
    expect(page.locator("#content-main")).to_contain_text("Verify this session with one of")

    # A forged answer to a real challenge: the right credential id, a made-up signature.
    forged = page.evaluate(
        """async (credentialId) => {
            const config = JSON.parse(document.getElementById("otp_webauthn_config").textContent);
            const post = (url, body) => fetch(url, {
                method: "POST", credentials: "same-origin",
                headers: {"Content-Type": "application/json", "X-CSRFToken": config.csrfToken},
                body: body === undefined ? undefined : JSON.stringify(body),
            });
            const b64url = (text) => btoa(text).replace(/\\+/g, "-").replace(/\\//g, "_")
                .replace(/=+$/, "");
            const options = await (await post(config.beginAuthenticationUrl)).json();
            const clientData = JSON.stringify({
                type: "webauthn.get", challenge: options.challenge, origin: location.origin,
            });
            const answer = await post(config.completeAuthenticationUrl, {
                id: credentialId, rawId: credentialId, type: "public-key",
                clientExtensionResults: {},
                response: {
                    clientDataJSON: b64url(clientData),
                    authenticatorData: b64url("x".repeat(37)),
                    signature: b64url("not a signature"),
                },
            });
            // And no assertion at all: the challenge was used up by the forged one.
            const replay = await post(config.completeAuthenticationUrl, {});
            return [answer.status, replay.status];
        }""",
        credential_id.replace("+", "-").replace("/", "_").rstrip("="),
    )
    assert [status >= 400 for status in forged] == [True, True], forged
    page.goto(f"{panel_url}/admin/auth/user/")
    expect(page.locator("h1")).to_have_text("Two-factor authentication")  # still not verified
    assert audit_actions(panel_env)[-2:] == ["login_failed", "login_failed"]

    # The browser's own answer without the key (it is gone from the authenticator): refused too.
    cdp.send("WebAuthn.clearCredentials", {"authenticatorId": cdp.authenticator_id})
    page.click("#passkey-verification-button")
    expect(page.locator("#passkey-verification-status-message")).to_contain_text(
        "Verification canceled or not allowed."
    )
    page.screenshot(path=str(ARTIFACTS / "admin-security-key-refused.png"), full_page=True)
    page.goto(f"{panel_url}/admin/auth/user/")
    expect(page.locator("h1")).to_have_text("Two-factor authentication")
