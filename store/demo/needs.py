"""Need statements: what a customer says in a consultation before buying."""

from __future__ import annotations

import random
from dataclasses import dataclass

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


def need_statement(rng: random.Random, need: Need, language: str) -> str:
    """One varied way a customer speaking ``language`` states ``need``."""
    phrase = rng.choice(need.phrases[language])
    opener = rng.choice(OPENERS[language])
    if opener and language == "en" and not phrase.startswith(("I ", "I'")):
        phrase = phrase[0].lower() + phrase[1:]
    return f"{opener}{phrase}{rng.choice(CLOSERS[language])}"


def need_of_text(text: str) -> Need | None:
    """The need a consultation text states, if it is a need statement."""
    for need in NEEDS:
        for phrases in need.phrases.values():
            for phrase in phrases:
                if phrase in text or (phrase[0].lower() + phrase[1:]) in text:
                    return need
    return None


def for_someone_else(text: str) -> bool:
    """Whether a need statement says the purchase is for another person (a present)."""
    return any(phrase in text or (phrase[0].lower() + phrase[1:]) in text for phrase in FOR_SOMEONE_ELSE)
