"""The outbox dispatcher: claim due rows, wait for a rate-limit slot, send, record the result.

Tasks of one :class:`Dispatcher`:

- the claim loop leases rows (up to ``OUTBOX_BATCH_SIZE`` a claim, never more in flight than
  ``OUTBOX_CONCURRENCY``, and with limits on, never more than ~2 seconds of global budget, so
  a pause takes effect within seconds) and starts one delivery task per row;
- the flusher writes results in batches (one UPDATE per batch);
- housekeeping starts scheduled broadcasts, expands audiences, cancels and finishes
  broadcasts, reclaims rows whose lease expired (their dispatcher died), refreshes gauges;
- the listener (LISTEN outbox) wakes the claim loop and housekeeping; a poll every
  ``OUTBOX_POLL_SECONDS`` is the safety net.

Stop: no more claims; sends already on the wire finish and are recorded; rows still waiting
for a rate-limit slot are released at once (``release_all``), not left to their lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass, field
from typing import Any

import structlog
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from tgbot.config import DispatchSettings
from tgbot.db.errors import database_unavailable
from tgbot.db.statuses import DEAD, FAILED, PENDING, SENT
from tgbot.delivery import metrics
from tgbot.delivery.backoff import backoff_delay
from tgbot.delivery.broadcasts import Broadcasts
from tgbot.delivery.listener import listen
from tgbot.delivery.metrics import SLOTS_GIVEN_UP
from tgbot.delivery.ratelimit import Limiter, NoLimiter, RedisLimiter
from tgbot.delivery.sender import (
    UPLOAD_FIELDS,
    AiogramSender,
    FileUpload,
    HttpSender,
    Kind,
    Outcome,
    Sender,
    make_bot,
)
from tgbot.delivery.staff_topics import StaffTopics
from tgbot.delivery.store import Claimed, OutboxStore, Result

log = structlog.get_logger(__name__)

MAX_LOCAL_WAIT_S = 5.0  # a row waiting longer for its chat goes back to the table
MAX_TOPIC_WAIT_S = 600.0  # a staff topic's extra calls (topic, header) wait for their slot
LATE_TOLERANCE_S = 0.010  # well inside the limiter's 25 ms headroom per second
MAX_LATE_RETRIES = 3
FLUSH_INTERVAL_S = 0.05
FLUSH_BATCH = 500
COUNTS_EVERY_S = 15.0
GAUGES_EVERY_S = 5.0


def new_owner() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class LeaseLost(Exception):
    """The row's lease ran out while it waited: another dispatcher may have it now."""


@dataclass
class _InFlight:
    row: Claimed
    task: asyncio.Task[None] | None = None
    on_the_wire: bool = False


@dataclass
class _State:
    inflight: dict[int, _InFlight] = field(default_factory=dict)
    results: list[Result] = field(default_factory=list)
    halted: set[int] = field(default_factory=set)


class Dispatcher:
    """``await Dispatcher(settings, engine=..., redis=...).run(stop)`` until ``stop`` is set.

    The engine and the Redis client are the process's own (``tgbot.runtime.Connections``): the
    dispatcher uses them and leaves closing them to whoever opened them.
    """

    def __init__(
        self,
        settings: DispatchSettings,
        *,
        engine: AsyncEngine,
        redis: Redis,
        sender: Sender | None = None,
        owner: str | None = None,
        serve_metrics: bool = True,
    ) -> None:
        self.settings = settings
        self.owner = owner or new_owner()
        self.engine = engine
        self.limiter: Limiter
        if settings.outbox_rate_limits_enabled:
            self.limiter = RedisLimiter(
                redis,
                settings.outbox_global_rate,
                group_rate_per_minute=settings.outbox_group_rate_per_minute,
            )
        else:
            self.limiter = NoLimiter()
        self._own_sender = sender is None
        self.sender = sender or make_sender(settings)
        self.store = OutboxStore(self.engine, self.owner, settings.outbox_lease_seconds)
        self.broadcasts = Broadcasts(self.engine, settings.broadcast_expansion_batch)
        panel_url = str(settings.panel_public_url) if settings.panel_public_url else None
        self.topics = StaffTopics(self.engine, panel_url)
        self.serve_metrics = serve_metrics
        self.rate = metrics.RateMeter()
        for kind in Kind:  # every outcome exported from zero, so rate() sees the first one
            metrics.BROADCAST_MESSAGES.labels(kind.value)
        self.metrics_port: int | None = None
        self._state = _State()
        self._wake = asyncio.Event()
        self._broadcast_changed = asyncio.Event()
        self._slot_freed = asyncio.Event()
        self._beat = time.monotonic()
        self._upload_locks: dict[int, asyncio.Lock] = {}  # one upload of a file at a time
        self._lease_ends: dict[int, float] = {}  # row id -> when its lease ends (loop time)
        cap = settings.outbox_concurrency
        if settings.outbox_rate_limits_enabled:
            cap = min(cap, max(1, math.ceil(settings.outbox_global_rate * 2)))
        self.max_inflight = cap

    # --- lifecycle ------------------------------------------------------------------------
    def healthy(self) -> bool:
        return time.monotonic() - self._beat < max(30.0, 5 * self.settings.outbox_poll_seconds)

    async def run(self, stop: asyncio.Event) -> None:
        log.info("dispatcher.started", owner=self.owner, max_inflight=self.max_inflight)
        runner = None
        if self.serve_metrics:
            from tgbot.delivery.http import build_app, start_server

            runner = await start_server(
                build_app(self.healthy),
                self.settings.dispatcher_metrics_host,
                self.settings.dispatcher_metrics_port,
            )
            self.metrics_port = runner.addresses[0][1] if runner.addresses else None
            log.info("dispatcher.http", port=self.metrics_port)
        halt = asyncio.Event()  # stops helpers after the claim loop has drained
        helpers = [
            asyncio.create_task(
                listen(
                    self.settings.direct_database_url,
                    self._wake,
                    self._broadcast_changed,
                    halt,
                    self.settings.database_connect_timeout,
                ),
                name="listen",
            ),
            asyncio.create_task(self._housekeeping(halt), name="housekeeping"),
            asyncio.create_task(self._flusher(halt), name="flusher"),
        ]
        try:
            await self._claim_loop(stop)
            await self._drain()
        finally:
            halt.set()
            for task in helpers:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await asyncio.wait_for(task, timeout=10)
            await self._flush()
            released = await self.store.release_all()
            log.info("dispatcher.stopped", owner=self.owner, released=released)
            if runner is not None:
                await runner.cleanup()
            await self._close()

    async def _close(self) -> None:
        if self._own_sender:
            await self.sender.close()

    async def _drain(self) -> None:
        """Let sends on the wire finish; cancel rows still waiting for a rate-limit slot."""
        waiting = [f.task for f in self._state.inflight.values() if f.task and not f.on_the_wire]
        for task in waiting:
            task.cancel()
        tasks = [f.task for f in self._state.inflight.values() if f.task]
        if tasks:
            await asyncio.wait(tasks, timeout=60)

    # --- claiming -------------------------------------------------------------------------
    async def _claim_loop(self, stop: asyncio.Event) -> None:
        poll = self.settings.outbox_poll_seconds
        while not stop.is_set():
            self._beat = time.monotonic()
            free = self.max_inflight - len(self._state.inflight)
            want = min(self.settings.outbox_batch_size, free)
            if want < max(1, min(self.settings.outbox_batch_size, self.max_inflight) // 4):
                await self._wait_any(stop, self._slot_freed, within=poll)
                continue
            self._wake.clear()
            try:
                rows = await self.store.claim(want)
            except Exception as exc:
                log.warning("dispatcher.claim_failed", error=type(exc).__name__)
                await self._wait_any(stop, within=1.0)
                continue
            leased = asyncio.get_running_loop().time() + self.settings.outbox_lease_seconds
            for row in rows:
                self._lease_ends[row.id] = leased
                entry = _InFlight(row)
                self._state.inflight[row.id] = entry
                entry.task = asyncio.create_task(self._deliver(entry))
            if len(rows) < want:
                await self._wait_any(stop, self._wake, within=poll)

    @staticmethod
    async def _wait_any(
        stop: asyncio.Event, *events: asyncio.Event, within: float | None = None
    ) -> None:
        waiters = [asyncio.ensure_future(e.wait()) for e in (stop, *events)]
        try:
            await asyncio.wait(waiters, timeout=within, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        for e in events:
            e.clear()

    # --- delivering -----------------------------------------------------------------------
    async def _deliver(self, entry: _InFlight) -> None:
        row = entry.row
        try:
            result = await self._deliver_row(entry)
            if result is not None:
                self._state.results.append(result)
        except asyncio.CancelledError:
            pass  # stopping before the send: release_all gives the row back
        except Exception:
            log.exception("dispatcher.deliver_failed", outbox_id=row.id)
            self._state.results.append(Result(row.id, PENDING, delay=MAX_LOCAL_WAIT_S))
        finally:
            self._state.inflight.pop(row.id, None)
            self._lease_ends.pop(row.id, None)
            self._slot_freed.set()

    def _halted(self, row: Claimed) -> bool:
        return row.broadcast_id is not None and row.broadcast_id in self._state.halted

    async def _deliver_row(self, entry: _InFlight) -> Result | None:
        row = entry.row
        if row.topic_conversation_id is not None:
            sent = await self._send(entry, self._deliver_to_topic(row))
        elif row.upload_id is not None:
            sent = await self._send_with_file(entry, row.upload_id)
        else:
            sent = await self._send(entry, self.sender(row.method, row.chat_id, row.payload))
        if isinstance(sent, Result):  # given back before it was sent
            return sent
        metrics.SENDS.labels(sent.code).inc()
        if row.broadcast_id is not None:
            metrics.BROADCAST_MESSAGES.labels(sent.kind.value).inc()
        if sent.kind is Kind.SENT:
            self.rate.add()
        return await self._result(row, sent)

    async def _slot(self, entry: _InFlight) -> Result | None:
        """Wait for this row's rate-limit slot; a Result when the row goes back instead."""
        row = entry.row
        late_retries = 0
        loop = asyncio.get_running_loop()
        while True:
            if self._halted(row):
                return Result(row.id, PENDING)
            try:
                slot = await self.limiter.reserve(row.chat_id, MAX_LOCAL_WAIT_S)
            except Exception as exc:  # Redis unavailable: retry the row a little later
                log.warning("dispatcher.limiter_failed", error=type(exc).__name__)
                return Result(row.id, PENDING, delay=MAX_LOCAL_WAIT_S)
            if slot.granted:
                if slot.delay > 0:
                    target = loop.time() + slot.delay
                    await asyncio.sleep(slot.delay)
                    # Woken too late (a stalled process): sending now would squeeze more than
                    # the limit into one second at Telegram's end. Give the slot up, take another.
                    if loop.time() - target > LATE_TOLERANCE_S and late_retries < MAX_LATE_RETRIES:
                        late_retries += 1
                        SLOTS_GIVEN_UP.inc()
                        continue
                break
            if slot.delay > MAX_LOCAL_WAIT_S:
                return Result(row.id, PENDING, delay=slot.delay)
            await asyncio.sleep(slot.delay)
        if self._halted(row):
            return Result(row.id, PENDING)
        return None

    async def _send(self, entry: _InFlight, call: Coroutine[Any, Any, Outcome]) -> Outcome | Result:
        """Take the row's slot, then run ``call`` (the Bot API request, not started before)."""
        back = await self._slot(entry)
        if back is not None:
            call.close()
            return back
        entry.on_the_wire = True
        started = time.perf_counter()
        outcome = await call
        metrics.SEND_SECONDS.observe(time.perf_counter() - started)
        return outcome

    def _deliver_to_topic(self, row: Claimed) -> Coroutine[Any, Any, Outcome]:
        """A staff topic's row: the topic, its header and the message (``StaffTopics``), each
        extra call in a slot of its own."""
        return self.topics.deliver(row, self.sender, lambda chat_id: self._take_slot(row, chat_id))

    async def _take_slot(self, row: Claimed, chat_id: int) -> None:
        """One more rate-limit slot for ``chat_id`` (a staff topic's extra calls), waited for.

        The group's slots may be taken far ahead (every topic of the staff group shares its
        20 a minute), so the row's lease is renewed while it waits: another dispatcher must not
        take it for dead and send it again. Redis failing a few times in a row fails the row
        (it is retried later)."""
        failures = 0
        while True:
            try:
                slot = await self.limiter.reserve(chat_id, MAX_TOPIC_WAIT_S)
            except Exception as exc:
                failures += 1
                if failures >= 5:
                    raise
                log.warning("dispatcher.limiter_retry", error=type(exc).__name__)
                await asyncio.sleep(0.2 * failures)
                continue
            await self._wait_holding(row, slot.delay)
            if slot.granted:
                return

    async def _wait_holding(self, row: Claimed, delay: float) -> None:
        """Sleep ``delay`` seconds, renewing ``row``'s lease whenever it would run out (with a
        quarter of it to spare) before the wait ends."""
        loop = asyncio.get_running_loop()
        lease = self.settings.outbox_lease_seconds
        until = loop.time() + delay
        while (left := until - loop.time()) > 0:
            step = min(left, max(1.0, lease / 3))
            if loop.time() + step > self._lease_ends.get(row.id, 0.0) - lease / 4:
                if not await self.store.extend_lease(row.id):
                    raise LeaseLost(row.id)
                self._lease_ends[row.id] = loop.time() + lease
            await asyncio.sleep(step)

    async def _send_with_file(self, entry: _InFlight, upload_id: int) -> Outcome | Result:
        """A row with an attached file: by Telegram's file_id once it has the file, else uploaded
        (multipart) and its file_id remembered for the next sends and the support message.

        A file many rows share (a broadcast's) is uploaded once: rows of this dispatcher queue
        on an in-process lock, other dispatchers on a database lock (``store.uploading``), and
        whoever comes after the upload sends by file_id without reading the bytes. A row takes
        its rate-limit slot only once it knows what to send: rows that waited for the upload
        then go at the limit's pace, not all at once (which Telegram would answer with 429s).
        """
        row = entry.row
        field = UPLOAD_FIELDS.get(row.method)
        exists, file_id = await self.store.upload_file_id(upload_id)
        if field is None or not exists:
            return _file_gone()
        if file_id is None:
            async with (
                self._upload_locks.setdefault(upload_id, asyncio.Lock()),
                self.store.uploading(upload_id) as upload,
            ):
                if upload is None:
                    return _file_gone()
                file_id = upload.file_id  # set when uploaded while this row waited
                if file_id is None:
                    if upload.data is None:
                        return _file_gone()
                    file = FileUpload(upload.data, upload.file_name, upload.mime_type)
                    call = self.sender.upload(row.method, row.chat_id, row.payload, field, file)
                    sent = await self._send(entry, call)
                    if isinstance(sent, Outcome) and sent.kind is Kind.SENT and sent.file_id:
                        await self.store.remember_upload(
                            upload_id=upload_id, outbox_id=row.id, file_id=sent.file_id
                        )
                    return sent
        by_id = {**row.payload, field: file_id}
        return await self._send(entry, self.sender(row.method, row.chat_id, by_id))

    async def _result(self, row: Claimed, outcome: Outcome) -> Result:
        code = int(outcome.code) if outcome.code.isdigit() else None
        if outcome.kind is Kind.SENT:
            return Result(row.id, SENT, telegram_message_id=outcome.telegram_message_id)
        if outcome.kind in (Kind.BLOCKED, Kind.REJECTED):
            log.info("dispatcher.failed", outbox_id=row.id, code=outcome.code)
            return Result(row.id, FAILED, code=code, error=outcome.error)
        if outcome.kind is Kind.RETRY_AFTER:
            flood = False
            with contextlib.suppress(Exception):
                flood = await self.limiter.flood_wait(row.chat_id, outcome.retry_after)
            log.info(
                "dispatcher.retry_after",
                outbox_id=row.id,
                retry_after=outcome.retry_after,
                global_flood=flood,
            )
            return Result(row.id, PENDING, code=429, error=outcome.error, delay=outcome.retry_after)
        attempt = row.attempts + 1
        error_code = 500 if outcome.code == "5xx" else code
        limit = min(row.max_attempts, self.settings.outbox_max_attempts)
        if attempt >= limit:
            log.warning("dispatcher.dead", outbox_id=row.id, attempts=attempt, code=outcome.code)
            return Result(row.id, DEAD, code=error_code, error=outcome.error, counts_attempt=True)
        delay = backoff_delay(
            attempt,
            base=self.settings.outbox_retry_base_seconds,
            cap=self.settings.outbox_retry_max_seconds,
        )
        return Result(
            row.id, PENDING, code=error_code, error=outcome.error, delay=delay, counts_attempt=True
        )

    # --- results --------------------------------------------------------------------------
    async def _flusher(self, halt: asyncio.Event) -> None:
        while not halt.is_set():
            await self._wait_any(halt, within=FLUSH_INTERVAL_S)
            await self._flush()

    async def _flush(self) -> None:
        while self._state.results:
            batch = self._state.results[:FLUSH_BATCH]
            del self._state.results[:FLUSH_BATCH]
            try:
                await self.store.complete(batch)
            except Exception as exc:
                if database_unavailable(exc):  # the database is away: keep them for later
                    log.warning(
                        "dispatcher.complete_failed", reason=_db_reason(exc), rows=len(batch)
                    )
                    self._state.results[:0] = batch
                    return
                # A bad result must not block the others.
                log.error("dispatcher.complete_failed", reason=_db_reason(exc), rows=len(batch))
                await self._complete_one_by_one(batch)

    async def _complete_one_by_one(self, batch: list[Result]) -> None:
        for result in batch:
            try:
                await self.store.complete([result])
            except Exception as exc:  # its lease will expire and another attempt is made
                log.error("dispatcher.result_dropped", outbox_id=result.id, reason=_db_reason(exc))

    # --- housekeeping ---------------------------------------------------------------------
    async def _housekeeping(self, halt: asyncio.Event) -> None:
        poll = self.settings.outbox_poll_seconds
        reclaim_every = max(1.0, min(self.settings.outbox_lease_seconds / 4, 15.0))
        last_reclaim = last_gauges = last_counts = 0.0
        while not halt.is_set():
            busy = False
            try:
                await self._refresh_halted()
                await self.broadcasts.start_scheduled()
                busy = await self.broadcasts.expand_all(time_budget=1.0) > 0
                await self.broadcasts.settle()
                now = time.monotonic()
                if now - last_reclaim >= reclaim_every:
                    last_reclaim = now
                    if await self.store.reclaim_expired():
                        self._wake.set()
                if now - last_gauges >= GAUGES_EVERY_S:
                    last_gauges = now
                    counts = now - last_counts >= COUNTS_EVERY_S
                    if counts:
                        last_counts = now
                    await metrics.refresh_gauges(self.engine, counts=counts)
                    metrics.SEND_RATE.set(self.rate.rate())
            except Exception as exc:
                log.warning("dispatcher.housekeeping_failed", error=type(exc).__name__)
            if busy:
                self._wake.set()
                continue
            await self._wait_any(halt, self._broadcast_changed, within=poll)

    async def _refresh_halted(self) -> None:
        ids = {f.row.broadcast_id for f in self._state.inflight.values() if f.row.broadcast_id}
        self._state.halted = await self.broadcasts.halted({i for i in ids if i is not None})


def _file_gone() -> Outcome:
    return Outcome(Kind.REJECTED, "invalid", "invalid outbox row: the attached file is gone")


def make_sender(settings: DispatchSettings) -> Sender:
    token = settings.telegram_bot_token.get_secret_value()
    base = str(settings.telegram_api_base)
    if settings.outbox_sender == "aiogram":
        return AiogramSender(make_bot(token, base, settings.outbox_concurrency))
    return HttpSender(token, base, settings.outbox_concurrency)


def _db_reason(exc: BaseException) -> str:
    """PostgreSQL's own first line (no SQL, no parameters: they may hold message text)."""
    orig = getattr(exc, "orig", None)
    return str(orig or type(exc).__name__).splitlines()[0][:200]


async def run_dispatcher(
    settings: DispatchSettings,
    stop: asyncio.Event,
    *,
    engine: AsyncEngine,
    redis: Redis,
    serve_metrics: bool = True,
) -> None:
    """Entry point for ``tgbot dispatch`` and for ``tgbot serve`` (``RUN_DISPATCHER_IN_SERVE``).

    Inside ``serve`` pass ``serve_metrics=False``: the metrics live on the default Prometheus
    registry, so the web app's own ``/metrics`` already exposes them.
    """
    await Dispatcher(settings, engine=engine, redis=redis, serve_metrics=serve_metrics).run(stop)


@contextlib.asynccontextmanager
async def dispatcher_alongside(
    settings: DispatchSettings, *, engine: AsyncEngine, redis: Redis
) -> AsyncIterator[None]:
    """``RUN_DISPATCHER_IN_SERVE``: the dispatcher as a task of ``tgbot serve`` or ``tgbot poll``.

    Its metrics share the default registry, so the host's ``/metrics`` shows them. On exit it
    stops claiming, finishes the sends in flight and releases its leases like ``tgbot dispatch``;
    a crash is logged when it happens, and does not take the host process down.
    """
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_dispatcher(settings, stop, engine=engine, redis=redis, serve_metrics=False),
        name="outbox-dispatcher",
    )
    task.add_done_callback(_report_crash)
    try:
        yield
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, Exception):  # a crash was logged already
            await task


def _report_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (exc := task.exception()) is not None:
        log.error("dispatcher.crashed", error=type(exc).__name__, exc_info=exc)
