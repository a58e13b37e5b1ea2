"""Staff topics bench: a user's message → visible in its staff topic (p50, p99), under the limit.

Real processes: `tgbot sandbox` (a forum supergroup, its rate limits on: Telegram's 20 messages a
minute into one group), `tgbot serve`, `tgbot dispatch`, PostgreSQL (a container unless given)
and Redis. First ``--users`` users write once, which creates their topics (three calls each:
topic, header, copy). Then ``--samples`` messages go out round-robin over them, each
``--interval`` seconds after the previous one showed (3.5 s: the group's next slot is free again
at 20 a minute), each through the sandbox's control API,
which returns when the bot's webhook answered (Telegram's ack); the time from that ack to the copy
being in the topic's messages is one sample. ``--burst`` sends that many messages at once
instead, to show the queueing a burst costs under the group limit.

    uv run python bench/staff_topics.py                                   # 10 users, 40 samples
    uv run python bench/staff_topics.py --users 2 --samples 3             # smoke
    uv run python bench/staff_topics.py --users 10 --burst 30             # a burst

It needs the dev environment (testcontainers starts PostgreSQL; Redis from TEST_REDIS_URL or a
container).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.admin_bench import database, log
from tests.support import services
from tests.support.processes import ServiceProcess, base_env, free_port

TOKEN = "123456:bench-token"
SECRET = "bench-secret"
STAFF_CHAT = -1001000000001
AGENT = 777


class Sandbox:
    def __init__(self, url: str) -> None:
        self.url = url
        self.http = httpx.Client(timeout=60)

    def control(self, verb: str, path: str, **body: Any) -> Any:
        response = self.http.request(verb, f"{self.url}/sandbox{path}", json=body or None)
        response.raise_for_status()
        return response.json()

    def write(self, user_id: int, text: str) -> None:
        self.control("POST", f"/users/{user_id}/messages", text=text, first_name=f"Bench{user_id}")

    def staff_texts(self) -> list[tuple[int | None, str]]:
        messages = self.control("GET", f"/chats/{STAFF_CHAT}/messages")["messages"]
        return [(m.get("message_thread_id"), m.get("text") or "") for m in messages]


def wait_visible(sandbox: Sandbox, markers: dict[str, float], timeout: float) -> dict[str, float]:
    """When each marker showed in the staff group (perf_counter), polled every 20 ms."""
    seen: dict[str, float] = {}
    deadline = time.perf_counter() + timeout
    while len(seen) < len(markers) and time.perf_counter() < deadline:
        texts = {text for _, text in sandbox.staff_texts()}
        now = time.perf_counter()
        for marker in markers:
            if marker not in seen and marker in texts:
                seen[marker] = now
        time.sleep(0.02)
    return seen


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(url: str, args: argparse.Namespace) -> list[float]:
    from tgbot.db.migrate import migrate

    migrate(url)
    tmp = Path(tempfile.mkdtemp(prefix="bench-staff-"))
    with services.redis_server() as redis_url:
        sandbox_port, bot_port, metrics_port = free_port(), free_port(), free_port()
        sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        common = {
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE": sandbox_url,
            "TELEGRAM_API_ALLOW_HTTP": "true",
            "LOG_LEVEL": "WARNING",
        }
        processes = [
            ServiceProcess(
                ["sandbox"],
                base_env(
                    SANDBOX_HOST="127.0.0.1",
                    SANDBOX_PORT=str(sandbox_port),
                    SANDBOX_RATE_LIMIT="true",
                ),
                tmp / "sandbox.log",
            ).start()
        ]
        sandbox = Sandbox(sandbox_url)
        try:
            processes[0].wait_http(f"{sandbox_url}/healthz", timeout=120)
            sandbox.control(
                "POST",
                "/groups",
                chat_id=STAFF_CHAT,
                title="Staff",
                members=[{"user_id": AGENT, "first_name": "Agent", "status": "administrator"}],
            )
            sandbox.control("POST", "/faults", group_per_minute=args.group_rate)
            processes.append(
                ServiceProcess(
                    ["serve"],
                    base_env(
                        **common,
                        STAFF_CHAT_ID=str(STAFF_CHAT),
                        WEBHOOK_SECRET=SECRET,
                        WEBHOOK_URL=f"http://127.0.0.1:{bot_port}/telegram/webhook",
                        WEBHOOK_REGISTER_ON_START="true",
                        HTTP_HOST="127.0.0.1",
                        HTTP_PORT=str(bot_port),
                        THROTTLE_LIMIT="1000",
                    ),
                    tmp / "bot.log",
                ).start()
            )
            processes.append(
                ServiceProcess(
                    ["dispatch"],
                    base_env(
                        **common,
                        OUTBOX_GROUP_RATE_PER_MINUTE=str(args.group_rate),
                        DISPATCHER_METRICS_PORT=str(metrics_port),
                    ),
                    tmp / "dispatch.log",
                ).start()
            )
            processes[1].wait_http(f"http://127.0.0.1:{bot_port}/readyz", timeout=120)
            users = [900_000 + n for n in range(args.users)]
            log(f"creating {len(users)} topics (3 calls each at {args.group_rate}/min)...")
            first = {f"hello-{u}-{time.time_ns()}": time.perf_counter() for u in users}
            for marker in first:
                sandbox.write(int(marker.split("-")[1]), marker)
            warm_timeout = 60 + len(users) * 3 * 60 / args.group_rate * 1.5
            if len(wait_visible(sandbox, first, warm_timeout)) < len(users):
                raise SystemExit("the topics were not created in time; see " + str(tmp))
            markers: dict[str, float] = {}
            time.sleep(args.interval)
            if args.burst:
                log(f"burst: {args.burst} messages at once")
                burst = [
                    (users[n % len(users)], f"probe-{n}-{time.time_ns()}")
                    for n in range(args.burst)
                ]

                def send(pair: tuple[int, str]) -> None:
                    sandbox.write(*pair)
                    markers[pair[1]] = time.perf_counter()

                with concurrent.futures.ThreadPoolExecutor(16) as pool:
                    list(pool.map(send, burst))
                drain = 60 + args.burst * 60 / args.group_rate * 1.5
                seen = wait_visible(sandbox, markers, drain)
            else:
                seen = {}
                for n in range(args.samples):
                    marker = f"probe-{n}-{time.time_ns()}"
                    sandbox.write(users[n % len(users)], marker)
                    markers[marker] = time.perf_counter()
                    seen.update(wait_visible(sandbox, {marker: markers[marker]}, 60))
                    time.sleep(args.interval)  # the group's next slot is free again
            refused = [
                c
                for c in sandbox.control("GET", f"/sent?chat_id={STAFF_CHAT}")["calls"]
                if c.get("error_code") == 429
            ]
            log(f"429s from the sandbox in the staff group: {len(refused)}")
            return [(seen[m] - markers[m]) * 1000 for m in markers if m in seen]
        finally:
            for process in reversed(processes):
                process.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="an existing database (default: a container)")
    parser.add_argument("--users", type=int, default=10, help="users (topics) to write")
    parser.add_argument("--samples", type=int, default=40, help="paced messages to time")
    parser.add_argument("--interval", type=float, default=3.5, help="seconds between them")
    parser.add_argument("--burst", type=int, default=0, help="messages at once instead")
    parser.add_argument("--group-rate", type=int, default=20, help="messages a minute per group")
    args = parser.parse_args()
    with database(args.database_url) as url:
        latencies = run(url, args)
    if not latencies:
        log("no samples")
        return 1
    print(
        f"user message -> visible in the topic: n={len(latencies)} "
        f"p50={statistics.median(latencies):.0f} ms p99={percentile(latencies, 0.99):.0f} ms "
        f"max={max(latencies):.0f} ms (group limit {args.group_rate}/min)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
