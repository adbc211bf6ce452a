"""THE one way a customer's history becomes model input.

Pretraining, fine-tuning, evaluation, evidence and serving all call
``Serializer.encode``, so they cannot drift apart. Layout of one input::

    <bos> <lang_xx> <tier_xx>  [service profile]  [events, oldest first]  <now> conversation text  <rec>

(with ``end_markers`` off, an input without conversation stops after its events).

The service profile (with ``profile_services`` > 0 and service tokens in the
vocabulary) is the customer's most taken services before the prediction
time, most taken first, as their ``<service_k>`` tokens: a habit shows even
when the takes behind it have left the event window.

An event is a purchase (``<purchase> <item_i>``, or ``<item_i>`` alone
without ``purchase_marker``, followed for a consumable
by a due token ``<due_k>``: the time since that purchase over the item's
repurchase cycle, bucketed), a service taken with an order (``<service_k>``,
right after the purchase it was for; only when the vocabulary has service
tokens) or a consultation note (``<note>`` text),
preceded by a coarse gap token (``<gap_1w>``...) measuring its distance to
the prediction time, written only when it differs from the previous event's. Only events strictly before the prediction time
are used; when the budget is short the oldest events go first, never the
current conversation. Notes older than ``note_max_age_days`` are left out:
an old delivery question says little about the next purchase and would take
the room of purchases. ``use_text=False`` drops every note and the
conversation (the "without consultation text" ablation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import torch
from transformers import PreTrainedTokenizerBase

from recommender.config import TrainConfig
from recommender.dataset import History, Purchase
from recommender.tokenizer import DUE_BUCKETS, GAP_BUCKETS, LANGUAGES, TIERS, TokenLayout

#: ``skip`` key of the current conversation (``Serializer.encode``); also the evidence kind naming it.
CONVERSATION = "conversation"

#: The service codes of a trained model's service tokens, by dense index, saved beside it.
SERVICES_FILE = "services.json"

#: Each item's repurchase cycle in days (null: not a consumable), by dense index, saved beside a trained model.
CYCLES_FILE = "repurchase_days.json"


@dataclass(frozen=True)
class Event:
    """One serialized event: ``kind`` is "purchase", "service" or "note", ``position`` its index in the history tuple."""

    kind: str
    position: int
    time: datetime
    tokens: tuple[int, ...]


def gap_token(event_time: datetime, now: datetime) -> str:
    """The coarse gap token from ``event_time`` to the prediction time ``now``."""
    days = (now - event_time).total_seconds() / 86400
    for name, upper in GAP_BUCKETS:
        if days < upper:
            return f"<gap_{name}>"
    return f"<gap_{GAP_BUCKETS[-1][0]}>"


def due_token(event_time: datetime, now: datetime, cycle_days: int) -> str:
    """The due token of a consumable bought at ``event_time`` with a ``cycle_days`` repurchase cycle."""
    ratio = (now - event_time).total_seconds() / 86400 / cycle_days
    for name, upper in DUE_BUCKETS:
        if ratio < upper:
            return f"<due_{name}>"
    return f"<due_{DUE_BUCKETS[-1][0]}>"


class Serializer:
    """Turns histories into token ids under one budget; deterministic and cached per text."""

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        layout: TokenLayout,
        *,
        budget: int,
        max_note_tokens: int,
        max_conversation_tokens: int,
        use_text: bool = True,
        repurchase_days: Sequence[int | None] = (),
        note_max_age_days: float | None = None,
        purchase_marker: bool = True,
        profile_services: int = 0,
        end_markers: bool = True,
        gap_tokens: bool = True,
    ) -> None:
        """``repurchase_days``: each item's cycle by dense index (None: not a consumable; empty: no due tokens);
        ``note_max_age_days``: notes older than this at prediction time are left out (None: keep all);
        ``purchase_marker``: write ``<purchase>`` before each purchase's item token;
        ``profile_services``: services in the header's service profile (0: none);
        ``end_markers``: close an input without conversation with ``<now> <rec>`` (False: it ends at its
        last event, whose own position then predicts the next item, as every earlier purchase's does in training);
        ``gap_tokens``: write the ``<gap_*>`` tokens (False: events follow each other bare, for data whose times
        are made up, such as a sequence file's one purchase a day)."""
        if repurchase_days and len(repurchase_days) != layout.n_items:
            raise ValueError(f"repurchase_days has {len(repurchase_days)} entries for {layout.n_items} items")
        self.repurchase_days = tuple(repurchase_days)
        self.tokenizer = tokenizer
        self.layout = layout
        self.budget = budget
        self.max_note_tokens = max_note_tokens
        self.max_conversation_tokens = max_conversation_tokens
        self.use_text = use_text
        self.purchase_marker = purchase_marker
        self.profile_services = profile_services if layout.n_services else 0
        self.end_markers = end_markers
        self.gap_tokens = gap_tokens
        self.note_max_age = timedelta(days=note_max_age_days) if note_max_age_days is not None else None
        self._text_cache: dict[str, tuple[int, ...]] = {}
        # Header (3), a gap + <now> + <rec>, and one event must always fit.
        if budget < max_conversation_tokens + 8:
            raise ValueError(f"budget {budget} too small for a {max_conversation_tokens}-token conversation")

    @classmethod
    def from_config(cls, tokenizer: PreTrainedTokenizerBase, layout: TokenLayout, config: TrainConfig, *,
                    use_text: bool = True, repurchase_days: Sequence[int | None] = ()) -> Serializer:
        """The serializer a model trained with ``config`` reads its inputs with."""
        return cls(tokenizer, layout, budget=config.context_tokens, max_note_tokens=config.max_note_tokens,
                   max_conversation_tokens=config.max_conversation_tokens, use_text=use_text,
                   repurchase_days=repurchase_days, note_max_age_days=config.note_max_age_days,
                   purchase_marker=config.purchase_marker, profile_services=config.profile_services,
                   end_markers=config.end_markers, gap_tokens=config.gap_tokens)

    def text_ids(self, text: str) -> tuple[int, ...]:
        """BPE ids of plain ``text`` (no special tokens), cached."""
        ids = self._text_cache.get(text)
        if ids is None:
            ids = tuple(self.tokenizer.encode(text, add_special_tokens=False))
            self._text_cache[text] = ids
        return ids

    def events(self, history: History | None, now: datetime) -> list[Event]:
        """The history's events strictly before ``now``, oldest first, without gap tokens.

        At one instant (one order): each purchase, then the services taken for
        it, then the notes; ties keep history order.
        """
        if history is None:
            return []
        layout = self.layout
        marker = (layout.id("<purchase>"),) if self.purchase_marker else ()
        keyed: list[tuple[tuple[datetime, int, int], Event]] = [
            ((p.time, 0, 2 * i), Event("purchase", i, p.time, (*marker, layout.item_token(p.item), *self._due(p, now))))
            for i, p in enumerate(history.purchases)
            if p.time < now
        ]
        if layout.n_services:
            line_of: dict[tuple[datetime, int], int] = {}
            for i, p in enumerate(history.purchases):
                line_of.setdefault((p.time, p.item), i)
            for i, take in enumerate(history.services):
                if take.time < now:
                    line = line_of.get((take.time, take.item), len(history.purchases))
                    keyed.append(((take.time, 0, 2 * line + 1),
                                  Event("service", i, take.time, (layout.service_token(take.service),))))
        if self.use_text:
            keyed += [
                ((n.time, 1, i), Event("note", i, n.time, (layout.id("<note>"), *self.text_ids(n.text)[: self.max_note_tokens])))
                for i, n in enumerate(history.notes)
                if n.time < now and (self.note_max_age is None or now - n.time <= self.note_max_age)
            ]
        keyed.sort(key=lambda pair: pair[0])
        return [event for _, event in keyed]

    def service_profile(self, history: History, now: datetime) -> list[int]:
        """Tokens of the ``profile_services`` services taken most before ``now`` (ties: most recent first)."""
        counts: dict[int, int] = {}
        last: dict[int, datetime] = {}
        for take in history.services:
            if take.time < now:
                counts[take.service] = counts.get(take.service, 0) + 1
                last[take.service] = take.time
        ranked = sorted(counts, key=lambda s: (-counts[s], -last[s].timestamp(), s))
        return [self.layout.service_token(s) for s in ranked[: self.profile_services]]

    def _due(self, purchase: Purchase, now: datetime) -> tuple[int, ...]:
        cycle = self.repurchase_days[purchase.item] if self.repurchase_days else None
        if not cycle or cycle <= 0:
            return ()
        return (self.layout.id(due_token(purchase.time, now, cycle)),)

    def encode(
        self,
        history: History | None,
        now: datetime,
        *,
        conversation: str = "",
        language: str | None = None,
        tier: str | None = None,
        skip: frozenset[tuple[str, int]] = frozenset(),
        events: Sequence[Event] | None = None,
    ) -> list[int]:
        """Token ids of ``history`` as seen at ``now``, ending with ``<rec>``.

        Args:
            history: The customer's history, or ``None`` for an anonymous visitor.
            now: The prediction time; nothing at or after it is used.
            conversation: Text of the current conversation (kept whole up to its cap).
            language: Overrides the history's language (needed when ``history`` is None).
            tier: Overrides the history's tier.
            skip: ``(kind, position)`` of events to leave out (leave-one-out evidence);
                ``(CONVERSATION, -1)`` leaves out the conversation. The window stays the one the
                full input has: the room of what is skipped is not refilled with older events, so
                a variant differs from its base only by that absence.
            events: ``self.events(history, now)`` when the caller already has it (leave-one-out
                encodes one history many times).
        """
        layout = self.layout
        lang = language or (history.language if history else "other")
        level = tier or (history.tier if history else "none") or "none"
        header = [
            layout.id("<bos>"),
            layout.id(f"<lang_{lang if lang in LANGUAGES else 'other'}>"),
            layout.id(f"<tier_{level if level in TIERS else 'none'}>"),
        ]
        if self.profile_services and history is not None:
            header += self.service_profile(history, now)
        quiet = [layout.id("<now>"), layout.id("<rec>")] if self.end_markers else []  # the tail without a conversation
        tail = quiet
        if self.use_text and conversation:
            tail = [layout.id("<now>"), *self.text_ids(conversation)[-self.max_conversation_tokens :], layout.id("<rec>")]
        room = self.budget - len(header) - len(tail)
        if (CONVERSATION, -1) in skip:
            tail = quiet

        kept: list[tuple[str, Event]] = []
        used = 0
        if events is None:
            events = self.events(history, now)
        # Walk newest to oldest; an event costs one more token when it opens a new gap bucket
        # (the newer neighbour's gap token moves to it when they share one).
        for event in reversed(events):
            gap = gap_token(event.time, now) if self.gap_tokens else ""
            cost = len(event.tokens) + (1 if gap and not (kept and kept[-1][0] == gap) else 0)
            if used + cost > room:
                break
            kept.append((gap, event))
            used += cost
        if skip:
            kept = [(gap, event) for gap, event in kept if (event.kind, event.position) not in skip]
        body: list[int] = []
        previous_gap = None
        for gap, event in reversed(kept):
            if gap and gap != previous_gap:
                body.append(layout.id(gap))
                previous_gap = gap
            body.extend(event.tokens)
        return header + body + tail


def collate(sequences: Sequence[Sequence[int]], pad_id: int) -> dict[str, torch.Tensor]:
    """Left-pad ``sequences`` into a batch so every sequence ends at the last position."""
    width = max(len(s) for s in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    attention_mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, sequence in enumerate(sequences):
        input_ids[row, width - len(sequence) :] = torch.tensor(sequence, dtype=torch.long)
        attention_mask[row, width - len(sequence) :] = 1
    position_ids = (attention_mask.cumsum(dim=1) - 1).clamp(min=0)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "position_ids": position_ids}
