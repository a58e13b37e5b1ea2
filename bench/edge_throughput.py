"""Webhook throughput through the edge proxy vs straight to the bot, with 1 and 3 replicas.

The staging stack of the CI (compose.yaml + compose/test/edge.yaml: Caddy with its certificate
from Pebble, the sandbox as Telegram) is brought up once; for each case the sandbox's webhook is
pointed either at https://bot.test/... (through the proxy: TLS, then Caddy to a replica) or at
http://bot:8080/... (Docker's DNS straight to a replica, no TLS, no proxy), users write
``--updates`` messages as fast as the sandbox takes them, and the figure is updates acknowledged
(2xx) per second, from the first injection to the last acknowledgement. Every update is a real
one: stored in PostgreSQL, answered through the outbox and the dispatcher.

    uv run python bench/edge_throughput.py                     # 2000 updates a case, 4 cases
    uv run python bench/edge_throughput.py --updates 100 --cases proxy-1,direct-1   # a smoke run

Measure alone on the machine (other work on the same cores makes the figures meaningless). It
prints one JSON line per case and a summary (proxy/direct ratio, 3/1 replicas ratio).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.resilience.harness import Injected, inject, sandbox_stats, wait_delivered
from tests.support.edge_stack import EdgeStack, build_images, remove_images
from tests.support.waiting import async_wait_until

CASES = ("proxy-1", "direct-1", "proxy-3", "direct-3")
TARGETS = {
    "proxy": "https://bot.test/telegram/webhook",
    "direct": "http://bot:8080/telegram/webhook",
}
QUIET_SANDBOX = {"SANDBOX_LOG_LEVEL": "WARNING", "SANDBOX_MAX_RECORDED_CALLS": "500000"}


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


async def run_case(
    stack: EdgeStack, case: str, updates: int, users: int, first: int
) -> dict[str, Any]:
    mode, replicas = case.split("-")
    stack.compose(
        "up",
        "-d",
        "--no-build",
        "--no-recreate",
        "--wait",
        "--scale",
        f"bot={replicas}",
        "bot",
        timeout=600,
    )
    sandbox = stack.sandbox_url()
    token = (stack.work / "secrets" / "telegram_bot_token").read_text().strip()
    secret = (stack.work / "secrets" / "webhook_secret").read_text().strip()
    async with httpx.AsyncClient(timeout=30) as http:
        set_hook = await http.post(
            f"{sandbox}/bot{token}/setWebhook",
            json={"url": TARGETS[mode], "secret_token": secret, "max_connections": 40},
        )
        assert set_hook.json()["ok"], set_hook.text
        (await http.post(f"{sandbox}/sandbox/reset")).raise_for_status()
    injected = Injected()
    started = time.monotonic()
    await inject(sandbox, updates, users=users, rate=10_000, first_user=first, into=injected)
    stats = await wait_delivered(sandbox, injected, timeout=max(300.0, updates / 2))

    async def all_acked() -> bool:
        return bool((await sandbox_stats(sandbox))["webhook"]["accepted"] >= updates)

    await async_wait_until(all_acked, timeout=60, what="every update acknowledged")
    seconds = time.monotonic() - started
    hook = stats["webhook"]
    return {
        "case": case,
        "updates": updates,
        "seconds": round(seconds, 2),
        "updates_per_second": round(updates / seconds, 1),
        "non_2xx": hook["non_2xx"],
        "connection_errors": hook["connection_errors"],
        "retries": hook["retries"],
        "longest_ack_seconds": hook["longest_ack_seconds"],
    }


async def main(args: argparse.Namespace) -> None:
    tag = f"bench-edge-{os.getpid()}"
    if not args.tag:
        log(f"building tgbot-bot:{tag}, tgbot-admin:{tag}")
        build_images(tag)
    with tempfile.TemporaryDirectory() as work:
        stack = EdgeStack(
            project=f"tgbot-bench-edge-{os.getpid()}",
            tag=args.tag or tag,
            work=Path(work),
            sandbox_env=QUIET_SANDBOX,
        )
        try:
            log("bringing the stack up (Pebble, proxy, 1 bot)")
            stack.up()
            results = []
            for n, case in enumerate(args.cases.split(",")):
                if case not in CASES:
                    raise SystemExit(f"unknown case {case!r}; one of {', '.join(CASES)}")
                log(f"case {case}: {args.updates} updates")
                result = await run_case(
                    stack, case, args.updates, args.users, first=8_000_000 + n * 1_000_000
                )
                results.append(result)
                print(json.dumps(result), flush=True)
        finally:
            stack.down()
            if not args.tag:
                remove_images(tag)
    rate = {r["case"]: r["updates_per_second"] for r in results}
    summary: dict[str, Any] = {"cpus": os.cpu_count()}
    for replicas in ("1", "3"):
        if f"proxy-{replicas}" in rate and f"direct-{replicas}" in rate:
            summary[f"proxy_over_direct_{replicas}"] = round(
                rate[f"proxy-{replicas}"] / rate[f"direct-{replicas}"], 2
            )
    for mode in ("proxy", "direct"):
        if f"{mode}-1" in rate and f"{mode}-3" in rate:
            summary[f"{mode}_3_over_1"] = round(rate[f"{mode}-3"] / rate[f"{mode}-1"], 2)
    print(json.dumps({"summary": summary}), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--updates", type=int, default=2000, help="updates per case")
    parser.add_argument("--users", type=int, default=200, help="distinct users writing")
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated, in order")
    parser.add_argument("--tag", help="use existing tgbot-bot/tgbot-admin images of this tag")
    asyncio.run(main(parser.parse_args()))
