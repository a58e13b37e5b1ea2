"""The dispatcher's side of the outbox: claim with a lease, complete, release, reclaim.

Every statement is one short transaction. A row is ``sending`` only while a live dispatcher
holds its lease (``lease_owner``, ``leased_until``); completions and releases only touch rows
the caller still owns, so a dispatcher whose lease ran out can never overwrite another's result.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tgbot.db.statuses import CANCELLED, DEAD, FAILED, SENT

# Direct rows (replies, notifications) first, then rows of running broadcasts. A broadcast row
# whose user unsubscribed, blocked the bot or was banned since expansion is cancelled here.
_CLAIM_DIRECT = text(
    """
    WITH due AS (
        SELECT o.id FROM outbox o
        WHERE o.status = 'pending' AND o.broadcast_id IS NULL AND o.next_attempt_at <= now()
        -- A conversation's staff topic rows go one at a time, in id order, whoever claims:
        -- none while another is being sent (one committed late may have a lower id), none
        -- before an earlier one.
        AND (o.topic_conversation_id IS NULL OR NOT EXISTS (
            SELECT 1 FROM outbox e
            WHERE e.topic_conversation_id = o.topic_conversation_id AND e.id <> o.id
            AND (e.status = 'sending' OR (e.status = 'pending' AND e.id < o.id))))
        ORDER BY o.next_attempt_at
        LIMIT :limit
        FOR UPDATE OF o SKIP LOCKED
    )
    UPDATE outbox o
    SET status = 'sending', lease_owner = :owner,
        leased_until = now() + make_interval(secs => :lease)
    FROM due WHERE o.id = due.id
    RETURNING o.id, o.chat_id, o.method, o.payload, o.attempts, o.max_attempts, o.broadcast_id,
              o.status, o.upload_id, o.topic_conversation_id
    """
)
_CLAIM_BROADCAST = text(
    """
    WITH due AS (
        SELECT o.id, EXISTS (
            SELECT 1 FROM tg_users u WHERE u.telegram_id = o.chat_id
            AND u.is_subscribed AND NOT u.is_blocked AND NOT u.is_banned) AS eligible
        FROM outbox o JOIN broadcasts b ON b.id = o.broadcast_id
        WHERE o.status = 'pending' AND o.next_attempt_at <= now() AND b.status = 'running'
        ORDER BY o.next_attempt_at
        LIMIT :limit
        FOR UPDATE OF o SKIP LOCKED
    )
    UPDATE outbox o
    SET status = CASE WHEN due.eligible THEN 'sending' ELSE 'cancelled' END,
        lease_owner = CASE WHEN due.eligible THEN :owner END,
        leased_until = CASE WHEN due.eligible
                            THEN now() + make_interval(secs => :lease) END
    FROM due WHERE o.id = due.id
    RETURNING o.id, o.chat_id, o.method, o.payload, o.attempts, o.max_attempts, o.broadcast_id,
              o.status, o.upload_id, NULL AS topic_conversation_id
    """
)
# A file attached to a row (operators' replies): its bytes until Telegram has it, then its id.
_LOAD_UPLOAD = text("SELECT file_id, data, file_name, mime_type FROM outbox_uploads WHERE id = :id")
_UPLOAD_FILE_ID = text("SELECT file_id FROM outbox_uploads WHERE id = :id")
# One uploader of a file at a time, across dispatchers: a transaction-scoped advisory lock in
# the namespace below, keyed by the upload's id.
_LOCK_UPLOAD = text("SELECT pg_advisory_xact_lock(:namespace, CAST(:id % 2147483647 AS int))")
UPLOAD_LOCK_NAMESPACE = 7_316
# Telegram has the file now: later sends use its file_id, the bytes are dropped, and the
# support message shows the file Telegram stored.
_REMEMBER_UPLOAD = text(
    """
    WITH upload AS (
        UPDATE outbox_uploads SET file_id = :file_id, data = NULL
        WHERE id = :upload_id AND file_id IS NULL
    )
    UPDATE messages m SET file_id = :file_id
    FROM outbox o WHERE o.id = :outbox_id AND m.id = o.message_id
    """
)


@dataclass(frozen=True)
class Upload:
    """What to send for a row's file: Telegram's ``file_id``, or the bytes to upload."""

    file_id: str | None
    data: bytes | None
    file_name: str
    mime_type: str


_COMPLETE = text(
    """
    WITH r AS (
        SELECT * FROM unnest(
            CAST(:ids AS bigint[]), CAST(:statuses AS text[]), CAST(:codes AS int[]),
            CAST(:errors AS text[]), CAST(:delays AS float8[]), CAST(:tg_ids AS bigint[]),
            CAST(:incs AS int[])
        ) AS t(id, status, code, error, delay, tg_id, inc)
    )
    UPDATE outbox o
    SET status = r.status,
        attempts = o.attempts + r.inc,
        last_error = COALESCE(r.error, o.last_error),
        last_error_code = COALESCE(r.code, o.last_error_code),
        next_attempt_at = CASE WHEN r.status = 'pending'
                               THEN now() + make_interval(secs => r.delay)
                               ELSE o.next_attempt_at END,
        sent_at = CASE WHEN r.status = 'sent' THEN now() ELSE o.sent_at END,
        telegram_message_id = COALESCE(r.tg_id, o.telegram_message_id),
        leased_until = NULL, lease_owner = NULL
    FROM r
    WHERE o.id = r.id AND o.status = 'sending' AND o.lease_owner = :owner
    RETURNING o.id, o.broadcast_id, o.chat_id, r.status, r.code
    """
)

_MARK_BLOCKED = text(
    "UPDATE tg_users SET is_blocked = true "
    "WHERE telegram_id = ANY(CAST(:ids AS bigint[])) AND NOT is_blocked"
)

_BUMP_COUNTERS = text(
    """
    UPDATE broadcasts b
    SET sent_count = b.sent_count + c.sent, failed_count = b.failed_count + c.failed,
        blocked_count = b.blocked_count + c.blocked, skipped_count = b.skipped_count + c.skipped
    FROM unnest(CAST(:ids AS bigint[]), CAST(:sent AS int[]), CAST(:failed AS int[]),
                CAST(:blocked AS int[]), CAST(:skipped AS int[]))
         AS c(id, sent, failed, blocked, skipped)
    WHERE b.id = c.id
    """
)

_EXTEND_LEASE = text(
    """
    UPDATE outbox SET leased_until = now() + make_interval(secs => :lease)
    WHERE id = :id AND status = 'sending' AND lease_owner = :owner
    """
)

_RELEASE_ALL = text(
    """
    UPDATE outbox SET status = 'pending', lease_owner = NULL, leased_until = NULL
    WHERE lease_owner = :owner AND status = 'sending'
    """
)

_RECLAIM_EXPIRED = text(
    """
    UPDATE outbox o SET status = 'pending', lease_owner = NULL, leased_until = NULL
    FROM (SELECT id FROM outbox WHERE status = 'sending' AND leased_until < now()
          LIMIT :limit FOR UPDATE SKIP LOCKED) x
    WHERE o.id = x.id
    """
)


@dataclass(frozen=True)
class Claimed:
    id: int
    chat_id: int
    method: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    broadcast_id: int | None
    upload_id: int | None = None
    topic_conversation_id: int | None = None  # posts into that conversation's staff topic


@dataclass(frozen=True)
class Result:
    """What became of one claimed row. ``status`` is final, or ``pending`` to retry later."""

    id: int
    status: str
    code: int | None = None
    error: str | None = None
    delay: float = 0.0
    telegram_message_id: int | None = None
    counts_attempt: bool = False


@dataclass
class Tally:
    """Per-broadcast counter increments from one batch of completions."""

    sent: Counter[int] = field(default_factory=Counter)
    failed: Counter[int] = field(default_factory=Counter)
    blocked: Counter[int] = field(default_factory=Counter)
    skipped: Counter[int] = field(default_factory=Counter)

    def broadcasts(self) -> list[int]:
        return sorted(set(self.sent) | set(self.failed) | set(self.blocked) | set(self.skipped))


class OutboxStore:
    def __init__(self, engine: AsyncEngine, owner: str, lease_seconds: float) -> None:
        self.engine = engine
        self.owner = owner
        self.lease_seconds = lease_seconds

    async def claim(self, limit: int) -> list[Claimed]:
        """Lease up to ``limit`` due rows: direct messages first, then running broadcasts."""
        params = {"owner": self.owner, "lease": self.lease_seconds}
        claimed: list[Claimed] = []
        tally = Tally()
        async with self.engine.begin() as conn:
            rows = list((await conn.execute(_CLAIM_DIRECT, {**params, "limit": limit})).all())
            if len(rows) < limit:
                more = await conn.execute(_CLAIM_BROADCAST, {**params, "limit": limit - len(rows)})
                rows.extend(more.all())
            for row in rows:
                if row.status == CANCELLED:
                    tally.skipped[row.broadcast_id] += 1
                    continue
                claimed.append(
                    Claimed(
                        row.id,
                        row.chat_id,
                        row.method,
                        row.payload,
                        row.attempts,
                        row.max_attempts,
                        row.broadcast_id,
                        row.upload_id,
                        row.topic_conversation_id,
                    )
                )
            await _bump(conn, tally)
        return claimed

    async def complete(self, results: list[Result]) -> int:
        """Record results of rows this dispatcher still owns; returns how many it recorded."""
        if not results:
            return 0
        async with self.engine.begin() as conn:
            rows = (
                await conn.execute(
                    _COMPLETE,
                    {
                        "owner": self.owner,
                        "ids": [r.id for r in results],
                        "statuses": [r.status for r in results],
                        "codes": [r.code for r in results],
                        "errors": [r.error for r in results],
                        "delays": [float(r.delay) for r in results],
                        "tg_ids": [r.telegram_message_id for r in results],
                        "incs": [1 if r.counts_attempt else 0 for r in results],
                    },
                )
            ).all()
            tally = Tally()
            blocked_chats: list[int] = []
            for row in rows:
                if row.status == FAILED and row.code == 403:
                    blocked_chats.append(row.chat_id)
                if row.broadcast_id is None:
                    continue
                if row.status == SENT:
                    tally.sent[row.broadcast_id] += 1
                elif row.status == FAILED and row.code == 403:
                    tally.blocked[row.broadcast_id] += 1
                elif row.status in (FAILED, DEAD):
                    tally.failed[row.broadcast_id] += 1
            if blocked_chats:
                await conn.execute(_MARK_BLOCKED, {"ids": sorted(set(blocked_chats))})
            await _bump(conn, tally)
        return len(rows)

    async def upload_file_id(self, upload_id: int) -> tuple[bool, str | None]:
        """(whether the upload exists, Telegram's file_id once it has the file) — the bytes stay
        in the database: a file sent to many chats is read once, by its one uploader."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(_UPLOAD_FILE_ID, {"id": upload_id})).first()
        return (row is not None, row.file_id if row is not None else None)

    @contextlib.asynccontextmanager
    async def uploading(self, upload_id: int) -> AsyncIterator[Upload | None]:
        """The upload, read under a lock no other dispatcher gets until this one is done (and
        has remembered the file_id): the first to come uploads, the others then find file_id."""
        async with self.engine.begin() as conn:
            await conn.execute(_LOCK_UPLOAD, {"namespace": UPLOAD_LOCK_NAMESPACE, "id": upload_id})
            row = (await conn.execute(_LOAD_UPLOAD, {"id": upload_id})).first()
            if row is None:
                yield None
                return
            data = bytes(row.data) if row.data is not None else None
            yield Upload(row.file_id, data, row.file_name, row.mime_type)

    async def remember_upload(self, *, upload_id: int, outbox_id: int, file_id: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                _REMEMBER_UPLOAD,
                {"upload_id": upload_id, "outbox_id": outbox_id, "file_id": file_id},
            )

    async def extend_lease(self, row_id: int) -> bool:
        """Keep a row this dispatcher holds for another lease (a long wait for a rate-limit
        slot); False when the lease was lost already."""
        params = {"id": row_id, "owner": self.owner, "lease": self.lease_seconds}
        async with self.engine.begin() as conn:
            result = await conn.execute(_EXTEND_LEASE, params)
        return bool(result.rowcount)

    async def release_all(self) -> int:
        """Give back every row this dispatcher still leases (graceful stop)."""
        async with self.engine.begin() as conn:
            result = await conn.execute(_RELEASE_ALL, {"owner": self.owner})
        return int(result.rowcount)

    async def reclaim_expired(self, limit: int = 5000) -> int:
        """Make rows whose lease ran out (their dispatcher died) claimable again."""
        async with self.engine.begin() as conn:
            result = await conn.execute(_RECLAIM_EXPIRED, {"limit": limit})
        return int(result.rowcount)


async def _bump(conn: AsyncConnection, tally: Tally) -> None:
    ids = tally.broadcasts()
    if not ids:
        return
    await conn.execute(
        _BUMP_COUNTERS,
        {
            "ids": ids,
            "sent": [tally.sent[i] for i in ids],
            "failed": [tally.failed[i] for i in ids],
            "blocked": [tally.blocked[i] for i in ids],
            "skipped": [tally.skipped[i] for i in ids],
        },
    )
