"""What the GPT recommender trains on, built from the TRAIN split only.

Every sequence goes through ``Serializer.encode`` (the one serialization),
so training sees exactly what evaluation and serving feed the model. The
builders here only decide WHICH histories, cut WHERE:

- ``tokenizer_texts``: the text byte-level BPE is trained on;
- ``pretraining_sequences``: step 1's self-supervised corpus;
- ``finetune_examples``: step 2's next-item examples for one epoch;
- ``service_examples``: step 2's next-service examples for one epoch.

A note's *outcome* is the first purchase at most ``note_outcome_days`` after
it (``note_outcomes``). Outcomes are where consultation text says the most
about what is bought, and there are few of them (a customer makes dozens of
purchases and a handful of consultations), so both steps add examples that
end at them; without that, text is a rounding error in the loss.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from recommender.config import TrainConfig
from recommender.dataset import Dataset, Example, History, Item, Note, ServiceItem, Split
from recommender.serialization import Serializer


def _catalog_text(item: Item) -> str:
    return " / ".join(part for part in (item.name_en, item.name_zh, item.category, item.brand) if part)


def _service_text(service: ServiceItem) -> str:
    return " / ".join(part for part in (service.name_en, service.name_zh, service.kind) if part)


def describes(item: Item) -> bool:
    """Whether the catalog says anything about ``item`` beyond its key (a sequence file's items do not)."""
    return bool(item.category or item.brand or {item.name_en, item.name_zh} - {item.key, ""})


def tokenizer_texts(dataset: Dataset, split: Split) -> list[str]:
    """The text BPE is trained on: catalog names and the TRAIN split's consultation notes."""
    texts = [_catalog_text(item) for item in dataset.items] + [_service_text(s) for s in dataset.services]
    texts += [note.text for history in split.train for note in history.notes]
    return texts


def note_outcomes(history: History, days: float) -> list[tuple[Note, int]]:
    """``(note, position)`` of each note whose outcome, ``history.purchases[position]``, exists.

    The outcome is the first purchase strictly after the note and at most
    ``days`` later.
    """
    window = timedelta(days=days)
    found: list[tuple[Note, int]] = []
    position = 0
    purchases = history.purchases
    for note in history.notes:  # both tuples are in time order
        while position < len(purchases) and purchases[position].time <= note.time:
            position += 1
        if position < len(purchases) and purchases[position].time - note.time <= window:
            found.append((note, position))
    return found


def pretraining_sequences(
    dataset: Dataset, split: Split, serializer: Serializer, config: TrainConfig, rng: random.Random
) -> list[list[int]]:
    """Step 1's corpus, from the catalog and the TRAIN split only.

    Catalog lines tie each item token to its names both ways
    (``<catalog> <item_i> text`` and ``<catalog> text <rec> <item_i>``), so
    text learns to point at items (only items the catalog ``describes``: a
    sequence file's bare ids would only teach the model to spell them);
    services get the same two catalog lines when the vocabulary has their tokens;
    notes appear as plain text; each train history gives
    ``pretrain_cuts_per_history`` serialized prefixes (always including its
    last purchase) followed by the item bought there. With
    ``pretrain_note_outcomes`` each note with an outcome also gives two short
    pairs ending in that outcome: the note as the only past event, and the
    note as the current conversation of an anonymous visitor (cold start).
    """
    layout, budget = serializer.layout, config.context_tokens
    bos, eos, cat, rec = (layout.id(t) for t in ("<bos>", "<eos>", "<catalog>", "<rec>"))
    sequences: list[list[int]] = []
    for item in filter(describes, dataset.items):
        text = list(serializer.text_ids(_catalog_text(item)))[: budget - 6]
        token = layout.item_token(item.index)
        sequences.append([bos, cat, token, *text, eos])
        sequences.append([bos, cat, *text, rec, token, eos])
    for service in dataset.services[: layout.n_services]:
        text = list(serializer.text_ids(_service_text(service)))[: budget - 6]
        token = layout.service_token(service.index)
        sequences.append([bos, cat, token, *text, eos])
        sequences.append([bos, cat, *text, rec, token, eos])
    if serializer.use_text:
        for history in split.train:
            for note in history.notes:
                sequences.append([bos, layout.id("<note>"), *serializer.text_ids(note.text)[: budget - 3], eos])
    if serializer.use_text and config.pretrain_note_outcomes:
        for history in split.train:
            for note, position in note_outcomes(history, config.note_outcome_days):
                purchase = history.purchases[position]
                target = layout.item_token(purchase.item)
                alone = replace(history, purchases=(), notes=(note,))
                sequences.append(serializer.encode(alone, purchase.time) + [target])
                sequences.append(serializer.encode(None, purchase.time, conversation=note.text,
                                                   language=history.language) + [target])
    for history in split.train:
        positions = _sample_positions(len(history.purchases), config.pretrain_cuts_per_history, rng)
        for position in positions:
            purchase = history.purchases[position]
            prefix = serializer.encode(history.before(purchase.time), purchase.time)
            sequences.append(prefix + [layout.item_token(purchase.item)])
    return sequences


def _sample_positions(count: int, limit: int, rng: random.Random) -> list[int]:
    # Always the latest position, plus a random sample of the others, in time order.
    if count <= limit:
        return list(range(count))
    return sorted(rng.sample(range(count - 1), limit - 1)) + [count - 1]


def finetune_examples(train: Sequence[History], limit: int, rng: random.Random, *, note_cuts: int = 0,
                      note_outcome_days: float = 7.0) -> list[Example]:
    """Next-item examples of the train histories for one epoch.

    At most ``limit`` purchase positions per history (the latest always),
    plus up to ``note_cuts`` positions that are a note's outcome. Half of
    those outcome examples carry their note as the current conversation
    (taken out of the history), which is how a customer's words reach the
    model when serving; the other half keep it as a past note, as in
    evaluation.
    """
    examples = []
    for history in train:
        plain = _sample_positions(len(history.purchases), limit, rng)
        for position in plain:
            purchase = history.purchases[position]
            examples.append(Example(history=history.before(purchase.time), target=purchase.item, time=purchase.time))
        if not note_cuts:
            continue
        by_position: dict[int, Note] = {}
        for note, position in note_outcomes(history, note_outcome_days):
            by_position.setdefault(position, note)
        candidates = sorted(set(by_position) - set(plain))
        for position in rng.sample(candidates, min(note_cuts, len(candidates))):
            note, purchase = by_position[position], history.purchases[position]
            before = history.before(purchase.time)
            if rng.random() < 0.5:
                spoken = replace(before, notes=tuple(n for n in before.notes if n is not note))
                examples.append(Example(history=spoken, target=purchase.item, time=purchase.time,
                                        conversation=note.text))
            else:
                examples.append(Example(history=before, target=purchase.item, time=purchase.time))
    return examples


def service_examples(train: Sequence[History], limit: int, rng: random.Random, *,
                     max_delay_days: float = 14.0) -> list[Example]:
    """Next-service examples of the train histories for one epoch.

    Up to ``limit`` service takes per history, each asked as the evaluation
    and the server ask it: the history with the take's order
    (``History.with_order_of``), at a time between 1 minute and
    ``max_delay_days`` after the order (a service is offered at checkout and
    after delivery alike).
    """
    examples = []
    for history in train:
        if not history.services:
            continue
        for take in rng.sample(history.services, min(limit, len(history.services))):
            delay = timedelta(minutes=1) + timedelta(days=rng.uniform(0.0, max_delay_days))
            examples.append(Example(history=history.with_order_of(take), target=take.service,
                                    time=take.time + delay, kind="service"))
    return examples
