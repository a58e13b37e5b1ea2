"""Batcher: callers that arrive together share one batch; a lone caller's batch leaves at once."""

from __future__ import annotations

import asyncio

import pytest

from tgbot.updates.batching import Batcher


class Recorder:
    """A batch function that records its batches and can be held or made to fail."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.gate: asyncio.Event | None = None
        self.fail: Exception | None = None

    async def __call__(self, items: list[int]) -> list[int | BaseException]:
        self.batches.append(items)
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        return [ValueError(f"odd {i}") if i < 0 else i * 10 for i in items]


def test_callers_arriving_together_share_one_batch() -> None:
    async def scenario() -> None:
        run = Recorder()
        batcher: Batcher[int, int] = Batcher(run, name="test_together")
        results = await asyncio.gather(*(batcher.submit(i) for i in range(5)))
        assert results == [0, 10, 20, 30, 40]
        assert run.batches == [[0, 1, 2, 3, 4]]

    asyncio.run(scenario())


def test_items_arriving_during_a_batch_form_the_next_one() -> None:
    async def scenario() -> None:
        run = Recorder()
        run.gate = asyncio.Event()
        batcher: Batcher[int, int] = Batcher(run, name="test_next")
        first = asyncio.ensure_future(batcher.submit(1))
        await asyncio.sleep(0)  # the worker takes [1] and waits at the gate
        await asyncio.sleep(0)
        later = [asyncio.ensure_future(batcher.submit(i)) for i in (2, 3)]
        await asyncio.sleep(0)
        assert run.batches == [[1]]  # one batch in flight at a time
        run.gate.set()
        assert await first == 10
        assert await asyncio.gather(*later) == [20, 30]
        assert run.batches == [[1], [2, 3]]

    asyncio.run(scenario())


def test_a_failed_batch_fails_each_caller_and_an_item_can_fail_alone() -> None:
    async def scenario() -> None:
        run = Recorder()
        batcher: Batcher[int, int] = Batcher(run, name="test_fail")
        good, bad = await asyncio.gather(
            batcher.submit(1), batcher.submit(-1), return_exceptions=True
        )
        assert good == 10
        assert isinstance(bad, ValueError)
        run.fail = ConnectionError("down")
        outcomes = await asyncio.gather(
            batcher.submit(2), batcher.submit(3), return_exceptions=True
        )
        assert all(isinstance(o, ConnectionError) for o in outcomes)
        run.fail = None
        assert await batcher.submit(4) == 40  # the batcher keeps working after a failure

    asyncio.run(scenario())


def test_a_cancelled_caller_does_not_stop_its_batch() -> None:
    async def scenario() -> None:
        run = Recorder()
        run.gate = asyncio.Event()
        batcher: Batcher[int, int] = Batcher(run, name="test_cancel")
        leaving = asyncio.ensure_future(batcher.submit(1))
        staying = asyncio.ensure_future(batcher.submit(2))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        leaving.cancel()
        run.gate.set()
        assert await staying == 20
        with pytest.raises(asyncio.CancelledError):
            await leaving
        assert run.batches == [[1, 2]]

    asyncio.run(scenario())


def test_submit_nowait_goes_with_the_next_batch() -> None:
    async def scenario() -> None:
        run = Recorder()
        batcher: Batcher[int, int] = Batcher(run, name="test_nowait")
        batcher.submit_nowait(7)
        assert await batcher.submit(8) == 80
        assert run.batches == [[7, 8]]
        run.fail = ConnectionError("down")
        batcher.submit_nowait(9)  # nobody waits: a failure goes unreported, not unhandled
        with pytest.raises(ConnectionError):
            await batcher.submit(10)

    asyncio.run(scenario())


def test_batches_are_capped() -> None:
    async def scenario() -> None:
        run = Recorder()
        batcher: Batcher[int, int] = Batcher(run, name="test_cap", max_size=2)
        assert await asyncio.gather(*(batcher.submit(i) for i in range(5))) == [
            0,
            10,
            20,
            30,
            40,
        ]
        assert run.batches == [[0, 1], [2, 3], [4]]

    asyncio.run(scenario())
