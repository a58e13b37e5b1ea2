"""Scale bench of the admin panel: 1,000,000 users and 10,000,000 messages.

Generates the data with SQL (generate_series) in an alembic-migrated database, then times the
pages a person opens through Django's test client (the full middleware and admin stack; no
network): the user list, searches, the conversation list and one conversation page.
Target: p50 <= 300 ms each.

    uv run python bench/admin_bench.py                      # a throwaway postgres:17 container
    uv run python bench/admin_bench.py --database-url postgresql://u:p@host/db --reuse
    uv run python bench/admin_bench.py --users 100000 --messages 1000000   # a quicker run

It needs the dev environment (alembic migrates the bot schema; testcontainers starts PostgreSQL).
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.support.services import postgres_container, psycopg_url, with_database

TARGET_P50_MS = 300.0
CHUNK = 1_000_000


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def database(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    with postgres_container() as (server_url, _container):
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench")
        yield with_database(server_url, "bench")


def in_chunks(total: int) -> Iterator[tuple[int, int]]:
    for start in range(1, total + 1, CHUNK):
        yield start, min(start + CHUNK - 1, total)


def generate(url: str, users: int, messages: int) -> None:
    with psycopg.connect(psycopg_url(url), autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM (SELECT 1 FROM tg_users LIMIT 1) t").fetchone()
        if row and row[0]:
            log("data present; not generating")
            return
        conn.execute("SET synchronous_commit = off")
        started = time.perf_counter()
        for low, high in in_chunks(users):
            conn.execute(
                """
                INSERT INTO tg_users (telegram_id, username, first_name, language, is_subscribed,
                                      is_blocked, is_banned, first_seen_at, last_seen_at)
                SELECT i, 'user' || i, 'Name ' || i,
                       CASE WHEN i %% 3 = 0 THEN 'ru' ELSE 'en' END,
                       i %% 2 = 0, i %% 50 = 0, i %% 1000 = 0,
                       now() - (i %% 1000) * interval '1 day',
                       now() - (i %% 200000) * interval '1 minute'
                FROM generate_series(%s::bigint, %s::bigint) AS i
                """,
                (low, high),
            )
            conn.execute(
                """
                INSERT INTO conversations (user_id, status, created_at, last_activity_at)
                SELECT i, CASE WHEN i %% 5 = 0 THEN 'open' ELSE 'closed' END,
                       now() - (i %% 1000) * interval '1 day',
                       now() - (i %% 200000) * interval '1 minute'
                FROM generate_series(%s::bigint, %s::bigint) AS i
                """,
                (low, high),
            )
            log(f"users {high:,} ({time.perf_counter() - started:.0f}s)")
        for low, high in in_chunks(messages):
            conn.execute(
                """
                INSERT INTO messages (conversation_id, direction, content_type, text, created_at)
                SELECT (j %% %s) + 1, CASE WHEN j %% 2 = 0 THEN 'in' ELSE 'out' END, 'text',
                       'message number ' || j, now() - (%s - j) * interval '1 second'
                FROM generate_series(%s::bigint, %s::bigint) AS j
                """,
                (users, messages, low, high),
            )
            log(f"messages {high:,} ({time.perf_counter() - started:.0f}s)")
        conn.execute("ANALYZE")
        log(f"generated in {time.perf_counter() - started:.0f}s")


def setup_django(url: str) -> None:
    os.environ.update(
        DJANGO_SETTINGS_MODULE="tgadmin.settings.test",
        DATABASE_URL=url,
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="false",
    )
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def measure(name: str, request: Callable[[], int], runs: int) -> tuple[str, float, float]:
    for _ in range(2):  # warm caches and connections
        assert request() == 200, name
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        status = request()
        timings.append((time.perf_counter() - started) * 1000)
        assert status == 200, f"{name}: HTTP {status}"
    p50 = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    return name, p50, p95


def run_pages(users: int, runs: int) -> list[tuple[str, float, float]]:
    from django.contrib.auth.models import User
    from django.test import Client

    admin_user, _ = User.objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(admin_user)
    some_user = users // 2 + 7
    scenarios: list[tuple[str, str, dict[str, str]]] = [
        ("user list", "/admin/panel/telegramuser/", {}),
        ("user list, page 50", "/admin/panel/telegramuser/", {"p": "50"}),
        ("user list, banned", "/admin/panel/telegramuser/", {"is_banned__exact": "1"}),
        (
            "user list, ru + subscribed",
            "/admin/panel/telegramuser/",
            {"language__exact": "ru", "is_subscribed__exact": "1"},
        ),
        ("user list, active 24h", "/admin/panel/telegramuser/", {"active": "1d"}),
        ("user search, username", "/admin/panel/telegramuser/", {"q": f"@USER{some_user}"}),
        ("user search, id", "/admin/panel/telegramuser/", {"q": str(some_user)}),
        ("conversation list", "/admin/panel/conversation/", {}),
        ("conversation list, open", "/admin/panel/conversation/", {"status__exact": "open"}),
        ("conversation search", "/admin/panel/conversation/", {"q": f"user{some_user}"}),
        ("conversation page", f"/admin/panel/conversation/{some_user}/change/", {}),
        ("broadcast add (live count)", "/admin/panel/broadcast/add/", {}),
    ]
    results = []
    for name, path, params in scenarios:
        results.append(measure(name, lambda p=path, q=params: client.get(p, q).status_code, runs))
        log(f"{name}: p50 {results[-1][1]:.1f} ms")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="an existing database (default: a container)")
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=20, help="timed requests per page")
    args = parser.parse_args()

    from tgbot.db.migrate import migrate

    with database(args.database_url) as url:
        migrate(url)
        generate(url, args.users, args.messages)
        setup_django(url)
        results = run_pages(args.users, args.runs)

    print(f"\nadmin bench: {args.users:,} users, {args.messages:,} messages, {args.runs} runs each")
    print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8}")
    failed = False
    for name, p50, p95 in results:
        mark = "" if p50 <= TARGET_P50_MS else "  > target"
        failed |= p50 > TARGET_P50_MS
        print(f"{name:32} {p50:8.1f} {p95:8.1f}{mark}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
