"""Rich-broadcast benchmarks (not a test; figures go to docs/delivery.md, measured alone).

    # A photo broadcast through a real `tgbot dispatch` and `tgbot sandbox` with Telegram's
    # limits on: observed rate vs the limit, 429s, uploads, the dispatcher's RSS over the run.
    uv run python bench/broadcast.py media --recipients 10000 --photo-mb 5 --rate 30

    # Expansion of a segment (and of everyone) over users made with generate_series: total time
    # and the longest single transaction (one keyset batch).
    uv run python bench/broadcast.py segment --users 1000000

PostgreSQL and Redis come from Docker (testcontainers) unless --database-url/--redis-url are
given; the sandbox is started as `tgbot sandbox` unless --sandbox-url is given. Each result is
one JSON line on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import dispatcher as base  # infrastructure, sandbox and dispatcher processes
from tests.support import services

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def connect(db_url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(services.psycopg_url(db_url), autocommit=True)


class RssSampler:
    """The resident memory of one process, from /proc, every ``period`` seconds in a thread."""

    def __init__(self, pid: int, period: float = 0.5) -> None:
        self.pid = pid
        self.period = period
        self.samples: list[tuple[float, int]] = []  # (seconds since start, RSS in kB)
        self.peak_kb = 0  # VmHWM: the kernel's own high-water mark, between samples too
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.monotonic()

    def _read(self) -> dict[str, int]:
        values = {}
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = int(rest.split()[0])
        return values

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                values = self._read()
            except (FileNotFoundError, ProcessLookupError, ValueError):
                return
            self.samples.append((time.monotonic() - self._started, values.get("VmRSS", 0)))
            self.peak_kb = max(self.peak_kb, values.get("VmHWM", 0))
            self._stop.wait(self.period)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def summary(self) -> dict[str, Any]:
        rss = [kb for _, kb in self.samples]
        if not rss:
            return {}
        tenth = max(1, len(rss) // 10)
        return {
            "samples": len(rss),
            "peak_rss_mb": round(self.peak_kb / 1024, 1),
            "rss_first_10pct_mb": round(max(rss[:tenth]) / 1024, 1),
            "rss_last_10pct_mb": round(max(rss[-tenth:]) / 1024, 1),
            "rss_min_mb": round(min(rss) / 1024, 1),
            "rss_max_mb": round(max(rss) / 1024, 1),
        }


def media(
    db_url: str,
    redis_url: str,
    sandbox_url: str,
    tmp: Path,
    *,
    recipients: int,
    photo_mb: float,
    rate: int,
) -> dict[str, Any]:
    base._post_json(sandbox_url + "/sandbox/reset")
    base._post_json(
        sandbox_url + "/sandbox/faults",
        {"rate_limit": True, "global_rate": rate, "per_chat_rate": 1},
    )
    base.insert_users(db_url, recipients)
    # The sandbox checks a photo's size, not its pixels: a PNG signature and random bytes keep
    # the file incompressible at the asked size.
    photo = PNG_SIGNATURE + os.urandom(int(photo_mb * 1024 * 1024) - len(PNG_SIGNATURE))
    with connect(db_url) as conn:
        upload_id = conn.execute(
            "INSERT INTO outbox_uploads (data, file_name, mime_type, size) "
            "VALUES (%s, 'bench.png', 'image/png', %s) RETURNING id",
            (photo, len(photo)),
        ).fetchone()[0]  # type: ignore[index]
        broadcast_id = conn.execute(
            "INSERT INTO broadcasts (title, text, parse_mode, method, upload_id, status) "
            "VALUES ('bench', '<b>Bench</b> photo', 'HTML', 'sendPhoto', %s, 'draft') "
            "RETURNING id",
            (upload_id,),
        ).fetchone()[0]  # type: ignore[index]
    [proc] = base.dispatchers(1, db_url, redis_url, sandbox_url, tmp, outbox_global_rate=rate)
    started = time.monotonic()

    def count(column: str) -> int:
        return int(
            base.scalar(db_url, f"SELECT {column} FROM broadcasts WHERE id = %s", (broadcast_id,))
        )

    try:
        base.scalar(
            db_url,
            "UPDATE broadcasts SET status = 'running' WHERE id = %s RETURNING id",
            (broadcast_id,),
        )
        # Memory from the first delivery on (the process has imported and connected by then);
        # the kernel's high-water mark (VmHWM) still covers the start.
        base.wait_until(lambda: count("sent_count") > 0, timeout=60, interval=0.1, what="a send")
        with RssSampler(proc.pid) as rss:
            base.wait_until(
                lambda: count("sent_count") + count("failed_count") >= recipients,
                timeout=recipients / rate * 2 + 120,
                interval=1,
                what="every recipient sent",
            )
    finally:
        base.stop([proc])
    calls = base._get_json(sandbox_url + "/sandbox/sent?method=sendPhoto")["calls"]
    ok = sorted(c["time"] for c in calls if c["ok"])
    per_chat = Counter(c["chat_id"] for c in calls if c["ok"])
    stats = base._get_json(sandbox_url + "/sandbox/stats")
    achieved = (len(ok) - 1) / (ok[-1] - ok[0]) if len(ok) > 1 else 0.0
    deviation = (achieved / rate - 1) * 100
    return {
        "recipients": recipients,
        "photo_bytes": len(photo),
        "configured_rate": rate,
        "observed_rate": round(achieved, 2),
        "deviation_pct": round(deviation, 2),
        "within_3pct": abs(deviation) <= 3,
        "http_429": sum(1 for c in calls if c["error_code"] == 429),
        "uploads": stats["bot_uploads"],
        "delivered": len(per_chat),
        "duplicates": sum(v - 1 for v in per_chat.values()),
        "wall_seconds": round(time.monotonic() - started, 1),
        "dispatcher_memory": rss.summary(),
    }


# Users like a real base: 5 languages, one in 11 came through /start spring, last seen over
# 60 days, one in 7 not subscribed, one in 97 blocked; a quarter tagged vip. ANALYZE gives the
# planner the statistics a live database has.
_USERS = """
INSERT INTO tg_users (telegram_id, first_name, language, is_subscribed, is_blocked,
                      start_payload, last_seen_at, subscribed_at)
SELECT 30000000 + g, 'u',
       (ARRAY['en', 'ru', 'de', 'es', 'fr'])[1 + g %% 5],
       g %% 7 <> 0, g %% 97 = 0,
       CASE WHEN g %% 11 = 0 THEN 'spring' END,
       now() - make_interval(secs => (g * 7919) %% (60 * 86400)),
       now() - make_interval(secs => (g * 104729) %% (365 * 86400))
FROM generate_series(1, %s::bigint) g
"""
_TAGS = """
INSERT INTO user_tags (telegram_id, tag)
SELECT 30000000 + g, 'vip' FROM generate_series(1, %s) g WHERE g %% 4 = 1
"""
SEGMENTS: dict[str, dict[str, Any]] = {
    "everyone": {},
    "en_vip_active_30d": {
        "audience_language": "en",
        "audience_tag": "vip",
        "audience_active_days": 30,
    },
    "spring_payload": {"audience_start_payload": "spring"},
}


def segment(db_url: str, *, users: int, batch: int) -> dict[str, Any]:
    from sqlalchemy.ext.asyncio import create_async_engine

    from tgbot.config import postgres_url_for
    from tgbot.delivery.broadcasts import Broadcasts

    t = time.perf_counter()
    with connect(db_url) as conn:
        conn.execute(_USERS, (users,))
        conn.execute(_TAGS, (users,))
        conn.execute("ANALYZE tg_users")
        conn.execute("ANALYZE user_tags")
    out: dict[str, Any] = {"users": users, "batch_size": batch}
    out["generate_seconds"] = round(time.perf_counter() - t, 1)

    async def expand(broadcast_id: int) -> dict[str, Any]:
        engine = create_async_engine(postgres_url_for(db_url))
        broadcasts = Broadcasts(engine, batch)
        longest = 0.0
        batches = 0
        started = time.perf_counter()
        try:
            while True:
                t = time.perf_counter()
                step = await broadcasts.expand_batch(broadcast_id)  # one transaction
                longest = max(longest, time.perf_counter() - t)
                batches += 1
                if step is None or step.finished:
                    break
        finally:
            await engine.dispose()
        seconds = time.perf_counter() - started
        return {"seconds": round(seconds, 2), "batches": batches, "longest_tx_s": round(longest, 3)}

    for name, audience in SEGMENTS.items():
        columns = ", ".join(["title", "text", "status", *audience])
        marks = ", ".join(["%s"] * (3 + len(audience)))
        with connect(db_url) as conn:
            broadcast_id = conn.execute(
                f"INSERT INTO broadcasts ({columns}) VALUES ({marks}) RETURNING id",
                (name, "hi", "running", *audience.values()),
            ).fetchone()[0]  # type: ignore[index]
        result = asyncio.run(expand(broadcast_id))
        rows = base.scalar(
            db_url, "SELECT total_count FROM broadcasts WHERE id = %s", (broadcast_id,)
        )
        result["recipients"] = rows
        result["rows_per_s"] = round(rows / result["seconds"]) if result["seconds"] else None
        out[name] = result
        print(json.dumps({"segment_progress": {name: result}}), flush=True)
        with connect(db_url) as conn:  # the next segment starts from an empty outbox
            conn.execute("DELETE FROM outbox WHERE broadcast_id = %s", (broadcast_id,))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("scenario", choices=["media", "segment"])
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url")
    parser.add_argument("--sandbox-url")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--photo-mb", type=float, default=5.0)
    parser.add_argument("--rate", type=int, default=30)
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=2000, help="BROADCAST_EXPANSION_BATCH")
    args = parser.parse_args()
    print(json.dumps({"machine": base.machine(), "args": vars(args)}), flush=True)
    with (
        base.infrastructure(args) as (db_url, redis_url, sandbox_url),
        tempfile.TemporaryDirectory() as d,
    ):
        if args.scenario == "media":
            result = media(
                db_url,
                redis_url,
                sandbox_url,
                Path(d),
                recipients=args.recipients,
                photo_mb=args.photo_mb,
                rate=args.rate,
            )
        else:
            result = segment(db_url, users=args.users, batch=args.batch)
    print(json.dumps({args.scenario: result}, default=str), flush=True)


if __name__ == "__main__":
    main()
