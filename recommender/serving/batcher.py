"""Dynamic micro-batching: concurrent requests gathered into one model call.

One worker thread owns the model (one copy of the weights, no lock
contention in torch); the event loop only queues requests and awaits their
futures. A batch closes when it holds ``max_batch`` requests or when the
first request has waited ``max_wait_s``, whichever comes first. A lone
request on an idle server (nothing queued behind it, and the previous batch
held one request) runs at once: waiting would only add ``max_wait_s`` to its
latency. Once batches hold more than one request, requests are arriving
concurrently and the wait applies again. With ``max_batch=1`` it degrades to
one request per call (the benchmark's "no batching" arm).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Generic, TypeVar

Request = TypeVar("Request")
Response = TypeVar("Response")


class BatcherClosed(RuntimeError):
    """The batcher was stopped; no more requests are taken."""


@dataclass
class _Pending(Generic[Request, Response]):
    request: Request
    future: asyncio.Future[Response]
    queued_at: float = field(default_factory=time.monotonic)


class MicroBatcher(Generic[Request, Response]):
    """Queue requests, run them through ``run_batch`` in batches on one worker thread.

    Args:
        run_batch: called in the worker thread with a list of requests; returns
            one response per request, in order. An exception fails every
            request of that batch (each future gets it) and the batcher goes on.
        max_batch: largest batch handed to ``run_batch``.
        max_wait_s: longest a request waits for companions before its batch runs (not
            at all when it arrives alone at an idle server).
        on_batch: optional observer called with (batch size, seconds in the model).
    """

    def __init__(
        self,
        run_batch: Callable[[Sequence[Request]], Sequence[Response]],
        *,
        max_batch: int = 32,
        max_wait_s: float = 0.005,
        on_batch: Callable[[int, float], None] | None = None,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._run_batch = run_batch
        self._max_batch = max_batch
        self._max_wait_s = max_wait_s
        self._on_batch = on_batch
        self._queue: asyncio.Queue[_Pending[Request, Response]] | None = None
        self._task: asyncio.Task[None] | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-worker")
        self._closed = False
        self._last_batch_size = 0

    def start(self) -> None:
        """Start the batching loop on the running event loop."""
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="micro-batcher")

    async def submit(self, request: Request) -> Response:
        """Queue one request and wait for its response."""
        if self._closed or self._queue is None:
            raise BatcherClosed("the model worker is not running")
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        await self._queue.put(_Pending(request, future))
        return await future

    async def run_in_worker(self, function: Callable[[], Response]) -> Response:
        """Run ``function`` on the model's worker thread, between batches (e.g. a model swap)."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, function)

    async def stop(self) -> None:
        """Stop taking requests; fail the queued ones; release the worker."""
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._queue is not None:
            while not self._queue.empty():
                pending = self._queue.get_nowait()
                if not pending.future.done():
                    pending.future.set_exception(BatcherClosed("server shutting down"))
        self._executor.shutdown(wait=True)

    async def _loop(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            first = await self._queue.get()
            batch = [first]
            # Idle server and no companion in sight: waiting could only delay this request.
            lone = self._queue.empty() and self._last_batch_size <= 1
            deadline = first.queued_at + (0.0 if lone else self._max_wait_s)
            while len(batch) < self._max_batch:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    # Take whatever is already queued without waiting.
                    while len(batch) < self._max_batch and not self._queue.empty():
                        batch.append(self._queue.get_nowait())
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), remaining))
                except asyncio.TimeoutError:
                    break
            live = [p for p in batch if not p.future.cancelled()]
            if not live:
                continue
            self._last_batch_size = len(live)
            started = time.monotonic()
            try:
                responses = await loop.run_in_executor(self._executor, self._run_batch, [p.request for p in live])
                if len(responses) != len(live):
                    raise RuntimeError(f"run_batch returned {len(responses)} responses for {len(live)} requests")
            except Exception as error:  # noqa: BLE001 - handed to every waiting caller
                for pending in live:
                    if not pending.future.done():
                        pending.future.set_exception(error)
                continue
            finally:
                if self._on_batch is not None:
                    self._on_batch(len(live), time.monotonic() - started)
            for pending, response in zip(live, responses):
                if not pending.future.done():
                    pending.future.set_result(response)
