"""Need statements: what a customer says in a consultation before buying."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain

from store.demo.needs_data import CLOSERS, FOR_SOMEONE_ELSE, NEED_DATA, OPENERS


@dataclass(frozen=True)
class Need:
    """A latent need, the product types that satisfy it and how people say it."""

    key: str
    types: tuple[str, ...]
    months: tuple[int, ...] | None
    phrases: dict[str, tuple[str, ...]]

    def arises_in(self, month: int) -> bool:
        """Whether the need can come up in this calendar month."""
        return self.months is None or month in self.months


NEEDS: tuple[Need, ...] = tuple(
    Need(key, types, months, {"en": en, "zh": zh}) for key, types, months, en, zh in NEED_DATA
)


def vary(rng: random.Random, phrases: dict[str, tuple[str, ...]], openers: dict[str, tuple[str, ...]],
         closers: dict[str, tuple[str, ...]], language: str) -> str:
    """One of ``phrases`` in ``language``, with a random opener and closer (shared by product and service needs)."""
    phrase = rng.choice(phrases[language])
    opener = rng.choice(openers[language])
    if opener and language == "en" and not phrase.startswith(("I ", "I'")):
        phrase = phrase[0].lower() + phrase[1:]
    return f"{opener}{phrase}{rng.choice(closers[language])}"


def stated_in(text: str, phrases: Iterable[str]) -> bool:
    """Whether ``text`` contains one of ``phrases`` (as ``vary`` writes it)."""
    return any(phrase in text or (phrase[0].lower() + phrase[1:]) in text for phrase in phrases)


def need_statement(rng: random.Random, need: Need, language: str) -> str:
    """One varied way a customer speaking ``language`` states ``need``."""
    return vary(rng, need.phrases, OPENERS, CLOSERS, language)


def need_of_text(text: str) -> Need | None:
    """The need a consultation text states, if it is a need statement."""
    return next((need for need in NEEDS if stated_in(text, chain.from_iterable(need.phrases.values()))), None)


def for_someone_else(text: str) -> bool:
    """Whether a need statement says the purchase is for another person (a present)."""
    return stated_in(text, FOR_SOMEONE_ELSE)
