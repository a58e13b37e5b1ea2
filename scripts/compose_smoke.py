"""Smoke test of a running compose stack (dev profile), driven from the host over real HTTP.

    docker compose --profile dev up -d --wait
    uv run python -m scripts.compose_smoke            # default ports: 8080, 8000, 8081

With other ports (`.ci/run` publishes on ephemeral ones) pass the URLs:
    uv run python -m scripts.compose_smoke --bot-url http://127.0.0.1:32769 \\
        --admin-url http://127.0.0.1:32772 --sandbox-url http://127.0.0.1:32768

Checks, in order, each with a deadline:
  1. bot and admin `/readyz` answer 200, the admin's login page answers 200 (and with --version,
     both `/healthz` name that version);
  2. a user writes `/start` through the sandbox's control API: the webhook delivers it to the bot
     and the bot's reply shows in the user's chat in the sandbox;
  3. the user asks a question, the dev superuser logs in to the admin and replies in the
     conversation: the reply goes through the outbox and the dispatcher to the user's chat.

Through the edge proxy (staging-like stack of scripts/compose-ci.sh, compose/test/edge.yaml), pass
the proxy's host ports and the CA to trust instead of the bot and admin URLs:
    uv run python -m scripts.compose_smoke --edge-http-port 32770 --edge-https-port 32771 \
        --ca-file pebble-root.pem --sandbox-url http://127.0.0.1:32768
Then every request goes to https://bot.test and https://admin.test (sent to the proxy's ports, as
DNS would) with certificate checks against that CA only, and first:
  0. the proxy has its certificates (from the ACME server), HTTP redirects to HTTPS, the admin
     sends HSTS, and /metrics, /readyz, /healthz, the sandbox and other paths are refused (404);
     the sandbox's webhook is the https:// URL.
Prints one line per step; exits 1 with the failing step's reason.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import ssl
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
from tests.support.sandbox import SandboxHandle
from tests.support.waiting import async_wait_until

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRETS = ROOT / "compose" / "dev" / "secrets"


WEBHOOK_HOST = "bot.test"
ADMIN_HOST = "admin.test"


class SmokeFailure(Exception):
    pass


class HostsToProxy(httpx.AsyncBaseTransport):
    """Sends every request to the proxy's local ports, keeping its URL, Host header and SNI name:
    what a resolver pointing the public names at this server does."""

    def __init__(self, ports: dict[str, int], verify: ssl.SSLContext) -> None:
        self._ports = ports
        self._inner = httpx.AsyncHTTPTransport(verify=verify)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        local = httpx.Request(
            request.method,
            request.url.copy_with(host="127.0.0.1", port=self._ports[request.url.scheme]),
            headers=request.headers,
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": request.url.host},
        )
        return await self._inner.handle_async_request(local)

    async def aclose(self) -> None:
        await self._inner.aclose()


def edge_client(args: argparse.Namespace, **kwargs: Any) -> httpx.AsyncClient:
    """A client for the edge mode (only the given CA trusted), else a plain one."""
    if args.edge_https_port is None:
        return httpx.AsyncClient(**kwargs)
    tls = ssl.create_default_context(cafile=args.ca_file)
    ports = {"http": args.edge_http_port, "https": args.edge_https_port}
    return httpx.AsyncClient(transport=HostsToProxy(ports, tls), **kwargs)


async def edge_checks(args: argparse.Namespace, sandbox: SandboxHandle) -> None:
    """Step 0 of the edge mode: certificates, redirect, HSTS, and what must stay unreachable."""
    bot, admin = f"https://{WEBHOOK_HOST}", f"https://{ADMIN_HOST}"
    async with edge_client(args, timeout=5) as http:

        async def certified() -> bool:
            try:
                return (await http.get(f"{admin}/admin/login/")).status_code == 200
            except httpx.ConnectError:  # no certificate yet: the handshake fails
                return False

        await step(
            "the proxy has its certificates from the ACME server (admin login page 200)",
            async_wait_until(certified, timeout=180, interval=1, what="a certificate"),
        )

        async def redirects() -> None:
            for url in (f"http://{WEBHOOK_HOST}/telegram/webhook", f"http://{ADMIN_HOST}/admin/"):
                got = await http.get(url)
                target = url.replace("http://", "https://", 1)
                assert got.status_code in {301, 308}, f"{url}: HTTP {got.status_code}"
                assert got.headers["location"] == target, f"{url} -> {got.headers['location']}"

        await step("HTTP redirects to HTTPS", redirects())

        async def hsts() -> None:
            # The query string must not reach the access log (compose-ci.sh greps for it).
            got = await http.get(f"{admin}/admin/login/", params={"probe": "smoke-query-string"})
            assert "max-age=" in got.headers.get("strict-transport-security", ""), got.headers
            assert "strict-transport-security" not in (await http.get(f"{bot}/")).headers

        await step("the admin sends HSTS", hsts())

        async def refused() -> None:
            for url in (
                f"{bot}/metrics",
                f"{bot}/readyz",
                f"{bot}/healthz",
                f"{bot}/telegram/webhook",  # GET: only Telegram's POST goes through
                f"{bot}/sandbox/stats",
                f"{bot}/admin/login/",
                f"{admin}/metrics",
                f"{admin}/readyz",
                f"{admin}/healthz",
                f"{admin}/telegram/webhook",
            ):
                got = await http.get(url)
                assert got.status_code == 404, f"{url}: HTTP {got.status_code}, expected 404"

        await step("/metrics, /readyz, /healthz, the sandbox, other paths: 404", refused())

    async def webhook_is_https() -> None:
        url = (await sandbox.webhook_info()).get("url", "")
        # With the secret's fingerprint as its query (set-webhook: a rotated secret re-registers).
        base, _, query = url.partition("?")
        assert base == f"{bot}/telegram/webhook", f"the bot registered {url!r}"
        assert query.startswith("secret_fingerprint="), f"the bot registered {url!r}"

    await step(f"the bot registered {bot}/telegram/webhook with the sandbox", webhook_is_https())


class FormFields(HTMLParser):
    """The submittable fields of one ``<form id=...>``: what a browser would post."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside or "name" not in a:
            return
        if tag == "input":
            kind = a.get("type", "text")
            if kind in {"submit", "button", "file"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            self.fields.append((a["name"], a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields.append((a["name"], ""))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            name, value = self.fields[-1]
            self.fields[-1] = (name, value + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "form":
            self.inside = False


def form_fields(html: str, form_id: str) -> dict[str, str]:
    parser = FormFields(form_id)
    parser.feed(html)
    if not parser.fields:
        raise SmokeFailure(f"no form #{form_id} on the page")
    return dict(parser.fields)


async def expect_200(http: httpx.AsyncClient, url: str) -> None:
    async def ok() -> bool:
        return (await http.get(url)).status_code == 200

    await async_wait_until(ok, timeout=30, interval=0.5, what=f"200 from {url}")


async def expect_version(http: httpx.AsyncClient, url: str, version: str) -> None:
    answered = (await http.get(url)).json().get("version")
    if answered != version:
        raise SmokeFailure(f"{url} says version {answered!r}, the image was built as {version!r}")


async def step(name: str, work: Any) -> Any:
    started = time.monotonic()
    try:
        result = await work
    except (SmokeFailure, TimeoutError, httpx.HTTPError, AssertionError) as exc:
        print(f"FAIL  {name}: {exc}", flush=True)
        raise SystemExit(1) from None
    print(f"ok    {name} ({time.monotonic() - started:.1f} s)", flush=True)
    return result


async def bot_reply(sandbox: SandboxHandle, chat_id: int, text: str, after: int) -> str:
    """The user sends ``text``; returns the text of the bot's next message in their chat."""
    sent = await sandbox.send_user_message(chat_id, text, first_name="Smoke")
    if not sent["delivered"]:
        raise SmokeFailure(f"the webhook did not take the update: {sent}")

    async def reply() -> str | None:
        calls = await sandbox.sent(chat_id=chat_id, method="sendMessage", after=after)
        ok = [c for c in calls if c["ok"]]
        return str(ok[0]["params"]["text"]) if ok else None

    return await async_wait_until(reply, timeout=30, interval=0.2, what="the bot's reply")


async def admin_reply(args: argparse.Namespace, chat_id: int, text: str) -> None:
    """Log in to the admin, find the user's conversation and reply in it."""
    username, password = args.admin_username, args.admin_password
    client = edge_client(args, base_url=args.admin_url, timeout=10, follow_redirects=True)
    async with client as http:
        login = await http.get("/admin/login/")
        fields = form_fields(login.text, "login-form")
        fields.update(username=username, password=password)
        page = await http.post("/admin/login/", data=fields, headers={"Referer": str(login.url)})
        if "/admin/login/" in str(page.url):
            raise SmokeFailure(f"login as {username} refused")

        async def conversation_url() -> str | None:
            found = await http.get("/admin/panel/conversation/", params={"q": str(chat_id)})
            match = re.search(r'href="(/admin/panel/conversation/\d+/change/)[?"]', found.text)
            return match.group(1) if match else None

        url = await async_wait_until(conversation_url, timeout=15, what="the conversation")
        change = await http.get(url)
        fields = form_fields(change.text, "conversation_form")
        if "reply" not in fields:
            raise SmokeFailure("the conversation page has no reply box")
        fields.update(reply=text, _save="Save")
        saved = await http.post(url, data=fields, headers={"Referer": str(change.url)})
        if "Reply queued for delivery" not in saved.text:
            raise SmokeFailure(f"reply not accepted (HTTP {saved.status_code})")


async def main(args: argparse.Namespace) -> None:
    token = (DEV_SECRETS / "telegram_bot_token").read_text().strip()
    sandbox = SandboxHandle(base_url=args.sandbox_url.rstrip("/"), token=token)
    chat_id = 7_000_000_000 + int(time.time()) % 1_000_000_000  # a new user on every run
    if args.edge_https_port is not None:
        await edge_checks(args, sandbox)
    else:
        async with httpx.AsyncClient(timeout=5) as http:
            await step("bot /readyz 200", expect_200(http, f"{args.bot_url}/readyz"))
            await step("admin /readyz 200", expect_200(http, f"{args.admin_url}/readyz"))
            await step("admin login page 200", expect_200(http, f"{args.admin_url}/admin/login/"))
            if args.version:
                for service, base in (("bot", args.bot_url), ("admin", args.admin_url)):
                    await step(
                        f"{service} /healthz says version {args.version}",
                        expect_version(http, f"{base}/healthz", args.version),
                    )

    last = max([c["seq"] for c in await sandbox.sent()], default=0)
    greeting = await step(
        f"user {chat_id} sends /start, the bot replies in the sandbox",
        bot_reply(sandbox, chat_id, "/start", after=last),
    )
    print(f"      bot: {greeting[:80]!r}")

    async def ask() -> None:
        sent = await sandbox.send_user_message(chat_id, "Where is my order?", first_name="Smoke")
        if not sent["delivered"]:
            raise SmokeFailure(f"the webhook did not take the update: {sent}")

    await step("the user asks a question", ask())
    answer = f"Smoke reply {chat_id}"
    await step(
        "the dev superuser logs in to the admin and replies",
        admin_reply(args, chat_id, answer),
    )

    async def delivered() -> bool:
        messages = await sandbox.chat(chat_id)
        return any(m.get("text") == answer for m in messages)

    await step(
        "the reply reaches the user's chat (outbox -> dispatcher -> sandbox)",
        async_wait_until(delivered, timeout=30, interval=0.2, what="the admin's reply"),
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--bot-url", default="http://127.0.0.1:8080")
    parser.add_argument("--admin-url", default="http://127.0.0.1:8000")
    parser.add_argument("--sandbox-url", default="http://127.0.0.1:8081")
    parser.add_argument("--admin-username", default="admin")
    parser.add_argument("--version", help="the version the images were built as (/healthz)")
    parser.add_argument(
        "--admin-password",
        default=(DEV_SECRETS / "admin_password").read_text().strip(),
        help="default: the dev profile's placeholder in compose/dev/secrets/admin_password",
    )
    edge = parser.add_argument_group("edge mode (through the TLS proxy)")
    edge.add_argument("--edge-http-port", type=int, help="host port of the proxy's port 80")
    edge.add_argument("--edge-https-port", type=int, help="host port of the proxy's port 443")
    edge.add_argument("--ca-file", help="PEM roots to trust (the ACME server's issuing root)")
    args = parser.parse_args(argv)
    if args.edge_https_port is not None:
        if args.edge_http_port is None or args.ca_file is None:
            parser.error("--edge-https-port needs --edge-http-port and --ca-file")
        args.admin_url = f"https://{ADMIN_HOST}"
    return args


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
    sys.exit(0)
