"""After the run: what the tracker store and the recommendation events say about every turn.

``check_delivery`` answers "was any message lost?": each message sent must
appear, in order, as a ``user`` event of its sender in Rasa's ``events``
table with at least one ``bot`` event before the sender's next ``user``
event, and its HTTP reply must have carried at least one message. It also
checks the turn ran the custom action it was meant to exercise, so a
misclassified message cannot pass as a timed turn of its kind.

``recommendation_sources`` tells, per timed recommendation turn, whether the
model or the fallback chose what was shown: a fast fallback must not pass
as a fast model.
"""

from __future__ import annotations

import bisect
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.bench_turns.client import TurnResult
from bot.bench_turns.script import RECOMMEND
from store.models import ItemKind, RecEventType, RecommendationEvent

MAX_PROBLEMS_LISTED = 20


@dataclass(frozen=True)
class TrackedTurn:
    """One user message as the tracker store holds it, with what followed it up to the next user message."""

    text: str
    intent: str | None
    actions: tuple[str, ...]
    bot_messages: int


def read_tracked_turns(engine: Engine, senders: list[str]) -> dict[str, list[TrackedTurn]]:
    """Every sender's user messages in order, from Rasa's ``events`` table."""
    query = sa.text(
        "SELECT sender_id, type_name, intent_name, action_name, data FROM events "
        "WHERE sender_id IN :senders ORDER BY id"
    ).bindparams(sa.bindparam("senders", expanding=True))
    segments: dict[str, list[dict]] = defaultdict(list)
    with engine.connect() as connection:
        for sender, type_name, intent, action, data in connection.execute(query, {"senders": senders}):
            turns = segments[sender]
            if type_name == "user":
                turns.append({"text": json.loads(data).get("text", ""), "intent": intent, "actions": [], "bot": 0})
            elif not turns:
                continue  # session start before the first message
            elif type_name == "action" and action:
                turns[-1]["actions"].append(action)
            elif type_name == "bot":
                turns[-1]["bot"] += 1
    return {
        sender: [TrackedTurn(t["text"], t["intent"], tuple(t["actions"]), t["bot"]) for t in turns]
        for sender, turns in segments.items()
    }


@dataclass
class DeliveryCheck:
    """Counts behind "no message lost", and turns that did not run their intended action."""

    sent: int = 0
    tracked_user_messages: int = 0
    missing_from_tracker: int = 0
    without_bot_reply: int = 0
    empty_or_failed_http: int = 0
    text_mismatches: int = 0
    wrong_action: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        """Messages with no bot reply in the tracker store (missing ones included)."""
        return self.missing_from_tracker + self.without_bot_reply

    @property
    def passed(self) -> bool:
        """Nothing lost, every HTTP reply non-empty, every message in the tracker as sent."""
        return not (self.lost or self.empty_or_failed_http or self.text_mismatches)

    def note(self, problem: str) -> None:
        if len(self.problems) < MAX_PROBLEMS_LISTED:
            self.problems.append(problem)


def check_delivery(results: list[TurnResult], tracked: dict[str, list[TrackedTurn]]) -> DeliveryCheck:
    """Match each sent message (warm-up included) to its tracker entry, in order, per sender."""
    check = DeliveryCheck()
    by_sender: dict[str, list[TurnResult]] = defaultdict(list)
    for result in results:
        by_sender[result.sender].append(result)
    for sender, sent in by_sender.items():
        sent.sort(key=lambda r: r.position)
        entries = tracked.get(sender, [])
        check.sent += len(sent)
        check.tracked_user_messages += len(entries)
        if len(entries) > len(sent):
            check.note(f"{sender}: {len(entries)} user messages in the tracker, {len(sent)} sent")
        for result, entry in zip(sent, [*entries, *[None] * (len(sent) - len(entries))]):
            where = f"{sender} turn {result.position} ({result.text!r})"
            if not result.ok:
                check.empty_or_failed_http += 1
                check.note(f"{where}: {result.error}")
            if entry is None:
                check.missing_from_tracker += 1
                check.note(f"{where}: not in the tracker store")
                continue
            if entry.text != result.text:
                check.text_mismatches += 1
                check.note(f"{where}: tracker holds {entry.text!r} at this position")
            if entry.bot_messages == 0:
                check.without_bot_reply += 1
                check.note(f"{where}: no bot reply in the tracker store (actions {list(entry.actions)})")
            if result.expected_action not in entry.actions:
                check.wrong_action[result.kind] += 1
                check.note(f"{where}: intent {entry.intent}, ran {list(entry.actions)}, "
                           f"not {result.expected_action}")
    return check


@dataclass(frozen=True)
class RecommendationSources:
    """Who chose what the timed recommendation turns showed."""

    turns: int
    model: int
    fallback: int
    nothing_shown: int
    model_versions: dict[str, int]

    @property
    def fallback_share(self) -> float | None:
        """Fallback turns over turns that showed something (``None`` when none did)."""
        shown = self.model + self.fallback
        return self.fallback / shown if shown else None


def recommendation_sources(factory: sessionmaker[Session], results: list[TurnResult]) -> RecommendationSources:
    """Assign each shown product event to the sender's turn that was running when it was stamped."""
    starts: dict[str, list[TurnResult]] = defaultdict(list)
    for result in sorted(results, key=lambda r: r.started_at):
        starts[result.sender].append(result)
    with factory() as session:
        events = session.execute(
            sa.select(RecommendationEvent.sender_id, RecommendationEvent.created_at, RecommendationEvent.fallback,
                      RecommendationEvent.model_version)
            .where(RecommendationEvent.sender_id.in_(list(starts)), RecommendationEvent.kind == ItemKind.PRODUCT,
                   RecommendationEvent.event == RecEventType.SHOWN)
        ).all()
    per_turn: dict[tuple[str, int], list[tuple[bool, str]]] = defaultdict(list)
    for sender, created_at, fallback, version in events:
        turns = starts[sender]
        index = bisect.bisect_right([t.started_at for t in turns], created_at) - 1
        if index >= 0:
            per_turn[(sender, turns[index].position)].append((fallback, version))
    model = fallback = nothing = 0
    versions: Counter[str] = Counter()
    timed = [r for r in results if r.kind == RECOMMEND and not r.warmup]
    for result in timed:
        shown = per_turn.get((result.sender, result.position), [])
        if not shown:
            nothing += 1
            continue
        if any(is_fallback for is_fallback, _ in shown):
            fallback += 1
        else:
            model += 1
        versions[shown[0][1]] += 1
    return RecommendationSources(len(timed), model, fallback, nothing, dict(versions))
