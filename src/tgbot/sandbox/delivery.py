"""Getting updates to the bot: POST to its webhook (with retries) or queue for getUpdates.

Updates of one chat are delivered one at a time, in order (a failing update holds back the
chat's later ones while it is retried, as Telegram does); different chats proceed in parallel,
at most the webhook's ``max_connections`` requests at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import structlog

from tgbot.sandbox.params import new_file_id, resolve_attachments
from tgbot.sandbox.state import SandboxState
from tgbot.sandbox.updates import JsonDict, chat_key, is_allowed, update_type

log = structlog.get_logger("tgbot.sandbox.delivery")

WebhookReply = Callable[[JsonDict], Awaitable[None]]


@dataclass(frozen=True)
class Outcome:
    """What became of one update."""

    delivered: bool
    status: int | None = None
    queued: bool = False

    def public(self) -> dict[str, Any]:
        return {"delivered": self.delivered, "status": self.status, "queued": self.queued}


@dataclass
class WebhookCounters:
    """What webhook delivery did since the last reset: every POST counts, retries included."""

    updates: int = 0  # updates handed to the webhook
    posts: int = 0  # POST attempts, retries included
    accepted: int = 0  # updates the webhook answered 2xx (each counts once)
    dropped: int = 0  # updates given up on after the last attempt
    connection_errors: int = 0  # attempts that got no HTTP answer
    statuses: Counter[int] = field(default_factory=Counter)  # HTTP status of each answered POST
    longest_ack: float = 0.0  # seconds from an update's first POST to its 2xx, retries included

    def public(self) -> dict[str, Any]:
        return {
            "updates": self.updates,
            "posts": self.posts,
            "retries": self.posts - self.updates,
            "accepted": self.accepted,
            "dropped": self.dropped,
            "connection_errors": self.connection_errors,
            "by_status": {str(code): n for code, n in sorted(self.statuses.items())},
            "status_5xx": sum(n for code, n in self.statuses.items() if code >= 500),
            "non_2xx": sum(n for code, n in self.statuses.items() if not 200 <= code < 300),
            "longest_ack_seconds": round(self.longest_ack, 3),
        }


@dataclass
class _Item:
    update: JsonDict
    done: asyncio.Future[Outcome]


class Delivery:
    def __init__(self, state: SandboxState, on_webhook_reply: WebhookReply) -> None:
        self.state = state
        self.config = state.config
        self._on_reply = on_webhook_reply
        self._lanes: dict[int | str, asyncio.Queue[_Item]] = {}
        self._workers: dict[int | str, asyncio.Task[None]] = {}
        self._in_flight = 0
        self._background: set[asyncio.Task[Outcome]] = set()
        self._session: aiohttp.ClientSession | None = None
        self.counters = WebhookCounters()
        self._slots: tuple[int, asyncio.Semaphore] | None = None

    def _connection_slot(self) -> asyncio.Semaphore:
        """At most ``max_connections`` webhook requests at once, as Telegram does."""
        limit = max(1, self.state.webhook.max_connections)
        if self._slots is None or self._slots[0] != limit:
            self._slots = (limit, asyncio.Semaphore(limit))
        return self._slots[1]

    def pending(self) -> int:
        if not self.state.webhook.url:
            return len(self.state.queue.updates)
        return self._in_flight + sum(q.qsize() for q in self._lanes.values())

    async def deliver(self, update: JsonDict) -> Outcome:
        """Deliver (webhook) or queue (getUpdates) one update and report the outcome."""
        if not self.state.webhook.url:
            await self.state.queue.push(update)
            return Outcome(delivered=False, queued=True)
        key = chat_key(update)
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = asyncio.Queue()
            self._workers[key] = asyncio.create_task(self._work(lane))
        item = _Item(update, asyncio.get_running_loop().create_future())
        await lane.put(item)
        return await asyncio.shield(item.done)

    async def requeue_for_webhook(self) -> None:
        """setWebhook: updates waiting for getUpdates now go to the webhook."""
        waiting, self.state.queue.updates = self.state.queue.updates, []
        for update in waiting:
            self.submit(update)

    def submit(self, update: JsonDict) -> None:
        """Deliver in the background; the outcome shows only in logs and getWebhookInfo."""
        task = asyncio.create_task(self.deliver(update))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _work(self, lane: asyncio.Queue[_Item]) -> None:
        while True:
            item = await lane.get()
            self._in_flight += 1
            try:
                outcome = await self._deliver_one(item.update)
            except Exception:  # keep the lane alive whatever happens
                log.exception("webhook_delivery_crashed")
                outcome = Outcome(delivered=False)
            finally:
                self._in_flight -= 1
            if not item.done.done():
                item.done.set_result(outcome)

    async def _deliver_one(self, update: JsonDict) -> Outcome:
        webhook = self.state.webhook
        if not webhook.url:
            await self.state.queue.push(update)
            return Outcome(delivered=False, queued=True)
        if not is_allowed(update, webhook.allowed_updates):
            log.info("update_not_allowed", update_id=update.get("update_id"))
            return Outcome(delivered=False)
        delay = self.config.sandbox_webhook_retry_delay
        status: int | None = None
        counters = self.counters
        counters.updates += 1
        first_post = time.monotonic()
        for attempt in range(1, self.config.sandbox_webhook_attempts + 1):
            status, error = await self._post(webhook.url, webhook.secret_token, update)
            counters.posts += 1
            if status is None:
                counters.connection_errors += 1
            else:
                counters.statuses[status] += 1
            log.info(
                "webhook_post",
                update_id=update.get("update_id"),
                update_type=update_type(update),
                attempt=attempt,
                status=status,
                error=error,
            )
            if error is None:
                counters.accepted += 1
                counters.longest_ack = max(counters.longest_ack, time.monotonic() - first_post)
                return Outcome(delivered=True, status=status)
            webhook.last_error_date = int(time.time())
            webhook.last_error_message = error
            if attempt < self.config.sandbox_webhook_attempts:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.config.sandbox_webhook_max_delay)
        counters.dropped += 1
        log.warning("webhook_update_dropped", update_id=update.get("update_id"))
        return Outcome(delivered=False, status=status)

    async def _post(
        self, url: str, secret: str | None, update: JsonDict
    ) -> tuple[int | None, str | None]:
        """(HTTP status, None) when the bot accepted the update, else (status, error text)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.sandbox_webhook_timeout),
                connector=aiohttp.TCPConnector(
                    ssl=_webhook_tls(self.config.sandbox_webhook_ca_file)
                ),
            )
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        try:
            async with (
                self._connection_slot(),
                self._session.post(url, json=update, headers=headers) as response,
            ):
                if not 200 <= response.status < 300:
                    return response.status, (
                        f"Wrong response from the webhook: {response.status} {response.reason}"
                    )
                try:
                    reply = await _read_reply(response)
                except (aiohttp.ClientError, ValueError):  # a 2xx counts; a bad reply is ignored
                    log.warning("webhook_reply_unreadable", update_id=update.get("update_id"))
                    reply = None
        except (aiohttp.ClientError, TimeoutError) as exc:
            return None, f"Connection failed: {type(exc).__name__}"
        if reply is not None:
            await self._on_reply(reply)
        return response.status, None

    async def clear(self) -> None:
        """Drop updates waiting in the lanes (their senders learn they were not delivered)."""
        self.counters = WebhookCounters()
        for lane in self._lanes.values():
            while not lane.empty():
                item = lane.get_nowait()
                if not item.done.done():
                    item.done.set_result(Outcome(delivered=False))

    async def close(self) -> None:
        await self.clear()
        for task in [*self._workers.values(), *self._background]:
            task.cancel()
        for task in [*self._workers.values(), *self._background]:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._workers.clear()
        self._lanes.clear()
        if self._session is not None:
            await self._session.close()


def _webhook_tls(ca_file: str | None) -> ssl.SSLContext:
    """Certificate checks as Telegram does them, trusting ``ca_file``'s roots too when given."""
    context = ssl.create_default_context()
    if ca_file:
        context.load_verify_locations(cafile=ca_file)
    return context


async def _read_reply(response: aiohttp.ClientResponse) -> JsonDict | None:
    """A method call in the webhook's answer (JSON, or multipart as aiogram sends it)."""
    reply: dict[str, Any]
    if response.content_type == "multipart/form-data":
        reply, files = {}, {}
        reader = aiohttp.MultipartReader.from_response(response)
        async for part in reader:
            if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                continue
            if part.filename:
                await part.read()
                files[part.name] = new_file_id()
            else:
                reply[part.name] = await part.text()
        reply = resolve_attachments(reply, files)
    else:
        body = await response.read()
        if not body.strip():
            return None
        try:
            parsed = json.loads(body)
        except ValueError:
            return None
        if not isinstance(parsed, dict):
            return None
        reply = parsed
    return reply if isinstance(reply.get("method"), str) else None
