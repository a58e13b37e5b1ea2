"""Rotate the webhook secret of a running compose stack (dev profile) while users write, as
docs/operations.md ("Rotate the webhook secret") says, and check that nothing is lost.

    uv run python -m scripts.compose_rotate --project P --secret-file DIR/webhook_secret \\
        --sandbox-url http://127.0.0.1:32768

Steps, each with a deadline:
  1. users write to the bot (one `/start` each, a few per second) throughout;
  2. a new secret is written to the secret file and `bot` is recreated
     (`docker compose up -d --wait --force-recreate --no-deps bot`); on start it registers the
     webhook again (WEBHOOK_REGISTER_ON_START), since the secret's fingerprint changed;
  3. every user gets the bot's answer, the sandbox dropped no update, and its webhook posts are
     answered 200 again; the bot refuses the old secret (401) and takes the new one.
The secrets are never printed. Exits 1 with the failing step's reason.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
from tests.support.sandbox import SandboxHandle
from tests.support.waiting import async_wait_until

ROOT = Path(__file__).resolve().parent.parent
DEV_SECRETS = ROOT / "compose" / "dev" / "secrets"
FIRST_USER = 7_100_001


def compose(project: str, *args: str) -> str:
    command = ["docker", "compose", "-p", project, "--profile", "dev", "--env-file", "/dev/null"]
    result = subprocess.run(
        [*command, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"rotate: docker compose {' '.join(args)} failed: {result.stderr}")
    return result.stdout.strip()


async def writers(sandbox: SandboxHandle, stop: asyncio.Event, users: list[int]) -> None:
    """One `/start` per new user, every 0.25 s, until told to stop (not waiting for delivery)."""
    while not stop.is_set():
        user = FIRST_USER + len(users)
        await sandbox.send_user_message(user, "/start", first_name="Rotation", wait=False)
        users.append(user)
        await asyncio.sleep(0.25)


async def answered(sandbox: SandboxHandle, users: list[int]) -> bool:
    calls = await sandbox.sent(method="sendMessage")
    replied = {str(c["chat_id"]) for c in calls if not c.get("error_code")}
    return all(str(user) in replied for user in users)


async def webhook_status(bot_url: str, secret: str) -> int:
    update = {"update_id": 1, "message": None}  # status only: the secret is checked first
    async with httpx.AsyncClient(timeout=10) as http:
        response = await http.post(
            f"{bot_url}/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": secret},
        )
    return response.status_code


async def main(args: argparse.Namespace, token: str, old_secret: str) -> None:
    sandbox = SandboxHandle(base_url=args.sandbox_url.rstrip("/"), token=token)
    before = (await sandbox.stats())["webhook"]

    stop = asyncio.Event()
    users: list[int] = []
    writing = asyncio.create_task(writers(sandbox, stop, users))
    await asyncio.sleep(1)  # users are writing before the rotation starts

    new_secret = secrets.token_urlsafe(32)
    await asyncio.to_thread(Path(args.secret_file).write_text, new_secret + "\n")
    print("  rotating: new secret written, bot recreated", flush=True)
    await asyncio.to_thread(
        compose, args.project, "up", "-d", "--wait", "--no-build", "--force-recreate",
        "--no-deps", "bot",
    )  # fmt: skip
    await asyncio.sleep(2)  # and still writing after it
    stop.set()
    await writing

    await async_wait_until(
        lambda: answered(sandbox, users), timeout=180, interval=0.5,
        what=f"the bot's answer to each of the {len(users)} users who wrote during the rotation",
    )  # fmt: skip
    after = (await sandbox.stats())["webhook"]
    dropped = after["dropped"] - before["dropped"]
    if dropped:
        raise SystemExit(f"rotate: the sandbox dropped {dropped} updates")
    last = await sandbox.send_user_message(FIRST_USER - 1, "/start", first_name="After")
    if not last.get("delivered") or last.get("status") != 200:
        raise SystemExit(f"rotate: an update after the rotation was not accepted: {last}")
    print(f"  {len(users)} users wrote during the rotation: all answered, none dropped")

    bot_url = "http://" + compose(args.project, "port", "bot", "8080")
    if (status := await webhook_status(bot_url, old_secret)) != 401:
        raise SystemExit(f"rotate: the old secret got {status}, not 401")
    if (status := await webhook_status(bot_url, new_secret)) == 401:
        raise SystemExit("rotate: the new secret was refused")
    print("  the bot refuses the old secret and takes the new one")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", required=True, help="the compose project of the stack")
    parser.add_argument("--secret-file", required=True, help="the stack's webhook_secret file")
    parser.add_argument("--sandbox-url", required=True)
    return parser.parse_args(argv)


if __name__ == "__main__":
    try:
        arguments = parse_args()
        asyncio.run(
            main(
                arguments,
                token=(DEV_SECRETS / "telegram_bot_token").read_text().strip(),
                old_secret=Path(arguments.secret_file).read_text().strip(),
            )
        )
    except SystemExit as exc:
        if exc.code not in (None, 0):
            print(exc.code, file=sys.stderr)
            sys.exit(1)
