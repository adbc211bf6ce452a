"""The micro-batcher: batches form under concurrency, errors reach every caller, order is kept."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from recommender.serving.batcher import BatcherClosed, MicroBatcher


async def test_concurrent_requests_share_batches_and_keep_their_answers():
    sizes: list[int] = []
    threads: set[str] = set()

    def run(batch):
        threads.add(threading.current_thread().name)
        time.sleep(0.01)
        return [x * 10 for x in batch]

    batcher = MicroBatcher(run, max_batch=8, max_wait_s=0.02, on_batch=lambda n, s: sizes.append(n))
    batcher.start()
    results = await asyncio.gather(*(batcher.submit(i) for i in range(20)))
    await batcher.stop()
    assert results == [i * 10 for i in range(20)]
    assert max(sizes) > 1 and max(sizes) <= 8 and sum(sizes) == 20
    assert len(threads) == 1


async def test_max_batch_one_never_batches():
    sizes: list[int] = []
    batcher = MicroBatcher(lambda b: list(b), max_batch=1, on_batch=lambda n, s: sizes.append(n))
    batcher.start()
    await asyncio.gather(*(batcher.submit(i) for i in range(5)))
    await batcher.stop()
    assert sizes == [1] * 5


async def test_a_failing_batch_fails_its_callers_and_the_batcher_goes_on():
    def run(batch):
        if "boom" in batch:
            raise ValueError("bad batch")
        return batch

    batcher = MicroBatcher(run, max_batch=4, max_wait_s=0.001)
    batcher.start()
    with pytest.raises(ValueError, match="bad batch"):
        await batcher.submit("boom")
    assert await batcher.submit("fine") == "fine"
    await batcher.stop()
    with pytest.raises(BatcherClosed):
        await batcher.submit("late")


async def test_run_in_worker_runs_between_batches():
    order: list[str] = []

    def run(batch):
        order.append("batch")
        return batch

    batcher = MicroBatcher(run, max_batch=2)
    batcher.start()
    await batcher.submit(1)
    await batcher.run_in_worker(lambda: order.append("swap"))
    await batcher.submit(2)
    await batcher.stop()
    assert order == ["batch", "swap", "batch"]


async def test_a_lone_request_on_an_idle_server_runs_without_waiting():
    sizes: list[int] = []
    batcher = MicroBatcher(lambda b: list(b), max_batch=8, max_wait_s=1.0, on_batch=lambda n, s: sizes.append(n))
    batcher.start()
    for value in range(3):
        started = time.monotonic()
        assert await batcher.submit(value) == value
        assert time.monotonic() - started < 0.5  # far below max_wait_s
    await batcher.stop()
    assert sizes == [1, 1, 1]


async def test_once_requests_arrive_together_a_request_waits_for_companions_again():
    sizes: list[int] = []
    batcher = MicroBatcher(lambda b: list(b), max_batch=8, max_wait_s=0.3, on_batch=lambda n, s: sizes.append(n))
    batcher.start()
    await asyncio.gather(*(batcher.submit(i) for i in range(4)))
    assert sizes == [4]

    async def late(value: int) -> int:
        await asyncio.sleep(0.05)
        return await batcher.submit(value)

    # The first of these is alone in the queue when it is taken, but the last batch was a crowd: it waits.
    assert await asyncio.gather(batcher.submit(10), late(11)) == [10, 11]
    await batcher.stop()
    assert sizes == [4, 2]
