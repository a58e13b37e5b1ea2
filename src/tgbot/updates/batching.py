"""Natural batching: concurrent callers share one round trip instead of making one each.

``Batcher.submit(item)`` queues the item; while a batch is in flight, new items wait and go
together in the next one. Nothing waits for a timer: a lone caller's batch leaves at once, and
under load the batches grow by themselves to the number of updates in flight. Used for the
Redis admission and done markers and for the PostgreSQL reads and commits of updates, where a
round trip costs the bot more CPU than the work it carries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from tgbot.metrics import BATCH_SIZE

Item = TypeVar("Item")
Result = TypeVar("Result")

# One result per item, in order; an exception in the list fails that item only.
RunBatch = Callable[[list[Item]], Awaitable[Sequence[Result | BaseException]]]


class Batcher(Generic[Item, Result]):
    def __init__(self, run: RunBatch[Item, Result], *, name: str, max_size: int = 256) -> None:
        self._run = run
        self._worker: asyncio.Task[None] | None = None  # the one batch in flight
        self._size = BATCH_SIZE.labels(name)
        self._max_size = max_size
        self._queue: list[tuple[Item, asyncio.Future[Result] | None]] = []

    async def submit(self, item: Item) -> Result:
        """The item's result, once the batch that carried it came back.

        A caller that is cancelled stops waiting; its item still goes (or went) with its batch.
        """
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._enqueue(item, future)
        return await future

    def submit_nowait(self, item: Item) -> None:
        """Send the item with the next batch; nobody waits for its result (or its failure)."""
        self._enqueue(item, None)

    def _enqueue(self, item: Item, future: asyncio.Future[Result] | None) -> None:
        self._queue.append((item, future))
        if self._worker is None:
            # Starts on the next turn of the loop: callers arriving in this turn join the batch.
            self._worker = asyncio.create_task(self._drain())
            self._worker.add_done_callback(self._forget)  # also when cancelled before it ran

    def _forget(self, worker: asyncio.Task[None]) -> None:
        if self._worker is worker:
            self._worker = None

    async def _drain(self) -> None:
        try:
            while self._queue:
                batch = self._queue[: self._max_size]
                del self._queue[: self._max_size]
                self._size.observe(len(batch))
                await self._run_one(batch)
        except asyncio.CancelledError:
            for _, future in self._queue:
                if future is not None and not future.done():
                    future.cancel()
            self._queue.clear()
            raise
        finally:
            # Forgotten in the same turn as it found the queue empty: an item queued after
            # that starts a new worker.
            self._worker = None

    async def _run_one(self, batch: list[tuple[Item, asyncio.Future[Result] | None]]) -> None:
        try:
            results = await self._run([item for item, _ in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"batch of {len(batch)} returned {len(results)} results")
        except Exception as exc:  # the whole batch failed: every caller sees why
            for _, future in batch:
                if future is not None and not future.done():
                    future.set_exception(exc)
            return
        except BaseException:
            for _, future in batch:
                if future is not None and not future.done():
                    future.cancel()
            raise
        for (_, future), result in zip(batch, results, strict=True):
            if future is None or future.done():
                continue
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
