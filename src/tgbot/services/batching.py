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
    def __init__(
        self,
        run: RunBatch[Item, Result],
        *,
        name: str,
        max_size: int = 256,
        concurrency: int = 1,
    ) -> None:
        self._run = run
        self._concurrency = concurrency
        self._workers: set[asyncio.Task[None]] = set()
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
        if len(self._workers) < self._concurrency:
            # Starts on the next turn of the loop: callers arriving in this turn join the batch.
            worker = asyncio.create_task(self._drain())
            self._workers.add(worker)
            worker.add_done_callback(self._workers.discard)  # also when cancelled before it ran

    async def _drain(self) -> None:
        worker = asyncio.current_task()
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
            # Gone from the set in the same turn as it found the queue empty: an item queued
            # after that starts a new worker.
            self._workers.discard(worker)

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
