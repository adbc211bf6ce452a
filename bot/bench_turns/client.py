"""Concurrent conversations over Rasa's REST channel, every turn timed.

Each conversation sends its turns one after another, as a customer would
(the next message only after the previous reply); the conversations run
side by side. Every conversation's warm-up turns run first; the timed turns
start together once all warm-ups are done, so the timed part runs at full
concurrency. A failed turn is recorded (status, error), never
raised: the run goes on and the report counts it.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import aiohttp

from bot.bench_turns.script import PlannedTurn


@dataclass(frozen=True)
class Conversation:
    """One customer's conversation: sender id, who it is, its signed token and what it will say."""

    index: int
    sender: str
    customer: str
    language: str
    token: str
    plan: list[PlannedTurn]


@dataclass(frozen=True)
class TurnResult:
    """What one turn took and got back. ``started_at`` is naive UTC, the clock the actions stamp events with."""

    conversation: int
    sender: str
    position: int
    kind: str
    language: str
    text: str
    expected_action: str
    warmup: bool
    started_at: datetime
    seconds: float
    replies: int
    error: str | None

    @property
    def ok(self) -> bool:
        """The HTTP call succeeded and carried at least one bot message."""
        return self.error is None and self.replies > 0


async def send_turn(session: aiohttp.ClientSession, webhook: str, conversation: Conversation,
                    turn: PlannedTurn) -> TurnResult:
    """Send one message and time it until the whole reply body is read."""
    body = {"sender": conversation.sender, "message": turn.line.text, "metadata": {"token": conversation.token}}
    started_at = datetime.now(UTC).replace(tzinfo=None)
    began = time.perf_counter()
    replies, error = 0, None
    try:
        async with session.post(webhook, json=body) as response:
            raw = await response.read()
            if response.status != 200:
                error = f"HTTP {response.status}: {raw[:200].decode(errors='replace')}"
            else:
                messages = json.loads(raw)
                if not isinstance(messages, list):
                    error = f"reply is not a list: {raw[:200].decode(errors='replace')}"
                else:
                    replies = len(messages)
                    error = None if replies else "empty reply"
    except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError) as failure:
        error = f"{type(failure).__name__}: {failure}"
    seconds = time.perf_counter() - began
    return TurnResult(conversation.index, conversation.sender, turn.position, turn.line.kind, conversation.language,
                      turn.line.text, turn.line.expected_action, turn.warmup, started_at, seconds, replies, error)


async def run_conversations(rasa_url: str, conversations: list[Conversation], *, turn_timeout_s: float,
                            on_turn: Callable[[TurnResult], None],
                            between_phases: Callable[[aiohttp.ClientSession], Awaitable[None]] | None = None,
                            think_s: float = 0.0) -> list[TurnResult]:
    """Hold every conversation at once, warm-up turns first, then the timed ones; ``on_turn`` is called after
    each turn (progress), ``between_phases`` once when every warm-up turn is done and before any timed one.
    ``think_s`` is the pause between a reply and the customer's next message (0: back to back, which
    saturates the stack; a pause closer to a person's leaves it room)."""
    webhook = f"{rasa_url}/webhooks/rest/webhook"
    results: list[TurnResult] = []
    timeout = aiohttp.ClientTimeout(total=turn_timeout_s)
    connector = aiohttp.TCPConnector(limit=len(conversations) * 2)

    async def hold(session: aiohttp.ClientSession, conversation: Conversation, warmup: bool) -> None:
        # With a pause, starts are spread over one pause so the conversations do not move in lockstep.
        await asyncio.sleep(think_s * conversation.index / len(conversations))
        for number, turn in enumerate(t for t in conversation.plan if t.warmup == warmup):
            if number:
                await asyncio.sleep(think_s)
            result = await send_turn(session, webhook, conversation, turn)
            results.append(result)
            on_turn(result)

    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        for warmup in (True, False):
            if not warmup and between_phases is not None:
                await between_phases(session)
            # A TaskGroup cancels the other conversations if one fails unexpectedly.
            async with asyncio.TaskGroup() as group:
                for conversation in conversations:
                    group.create_task(hold(session, conversation, warmup))
    return sorted(results, key=lambda r: (r.conversation, r.position))
