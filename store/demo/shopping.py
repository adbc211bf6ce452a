"""What each customer buys and says, as timed events, before they become orders.

Structure a recommender can learn: consumables re-bought on their cycle,
complements bought with or soon after the item they complete, loyalty to a
brand and a price tier, seasonal items in their season, and needs stated in
a consultation shortly before the purchase that satisfies them (unprompted
needs, and half of the durable purchases a need explains: the customer asks
for advice first). Random purchases add noise.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from store.demo.catalog import Catalog, DemoProduct
from store.demo.needs import NEEDS, Need, for_someone_else, need_statement
from store.demo.people import SEASONAL, Persona

DAY = timedelta(days=1)
# Products dropped from the range are only sold this long before the end.
DISCONTINUED_BEFORE = timedelta(days=180)
_ORDERS = {"light": (1, 2), "regular": (3, 8), "heavy": (8, 16)}
_STREAMS = {"light": (0, 1), "regular": (1, 2), "heavy": (2, 3)}
# Share of a customer's time a consumable habit lasts (a baby outgrows diapers).
_STREAM_SPAN = {"light": (0.0, 0.1), "regular": (0.3, 0.8), "heavy": (0.6, 1.0)}
# Small things people add to a basket on a whim.
ADD_ONS = (
    "phone_case",
    "novel",
    "cookbook",
    "board_game",
    "plush",
    "mouse",
    "kettle",
    "yoga_mat",
    "pillow",
    "screen_protector",
    "charger",
    "milk_frother",
    "picture_book",
    "memory_card",
)
_NEEDS = {"cold": (1, 2), "light": (0, 1), "regular": (0, 2), "heavy": (1, 3)}
# Chance that a customer asks for advice (states the need behind it) before a durable purchase a need explains.
_ASK_FIRST = 0.5


@dataclass
class Purchase:
    """One product bought at a time; ``joinable`` purchases may share an earlier basket."""

    time: datetime
    product: DemoProduct
    quantity: int
    joinable: bool
    need: str = ""
    gift: bool = False  # for someone else, as the need statement before it says


@dataclass
class Statement:
    """A consultation in which the customer states a need."""

    time: datetime
    text: str
    need: Need

    @property
    def gift(self) -> bool:
        """Whether the customer says the purchase is for someone else."""
        return for_someone_else(self.text)


def _season_weight(type_season: str | None, month: int) -> float:
    if type_season is None:
        return 1.0
    winter = month in (11, 12, 1, 2)
    summer = month in (5, 6, 7, 8)
    if (type_season == "winter" and winter) or (type_season == "summer" and summer):
        return 4.0
    if winter or summer:
        return 0.1
    return 0.5


class Shopper:
    """Acts out one persona's purchases between its start and the end of the history."""

    def __init__(self, rng: random.Random, catalog: Catalog, persona: Persona, start: datetime, end: datetime) -> None:
        self.rng, self.catalog, self.persona = rng, catalog, persona
        self.start, self.end = max(start, persona.joined), end
        self.purchases: list[Purchase] = []
        self.statements: list[Statement] = []

    def pick(self, type_key: str, when: datetime) -> DemoProduct:
        """A product of ``type_key``: the customer's brand, else their price tier, else any."""
        rng, persona = self.rng, self.persona
        candidates = [p for p in self.catalog.by_type[type_key] if p.active or when < self.end - DISCONTINUED_BEFORE]
        candidates = candidates or self.catalog.by_type[type_key]
        brand = persona.brands.get(candidates[0].category_id)
        chosen: list[DemoProduct] = []
        if brand and rng.random() < 0.8:
            chosen = [p for p in candidates if p.brand == brand]
        if not chosen and rng.random() < 0.85:
            chosen = [p for p in candidates if p.tier == persona.tier]
        product = rng.choice(chosen or candidates)
        persona.brands.setdefault(product.category_id, product.brand)
        return product

    def _buy(
        self,
        type_key: str,
        when: datetime,
        *,
        joinable: bool = True,
        need: str = "",
        gift: bool = False,
        product: DemoProduct | None = None,
    ) -> DemoProduct | None:
        if when >= self.end:
            return None
        product = product or self.pick(type_key, when)
        consumable = product.type.repurchase_days is not None
        quantity = self.rng.choices((1, 2, 3), (70, 25, 5))[0] if consumable else 1
        self.purchases.append(Purchase(when, product, quantity, joinable, need, gift))
        return product

    def _complements(self, product: DemoProduct, when: datetime) -> None:
        for key in product.type.complements:
            if self.rng.random() < 0.55:
                later = self.rng.random() < 0.4
                self._buy(key, when + DAY * self.rng.uniform(1, 14) if later else when, joinable=not later)

    def _random_time(self) -> datetime:
        return self.start + (self.end - self.start) * self.rng.random()

    def consumable_streams(self) -> None:
        """Consumables re-bought about every ``repurchase_days`` until the end."""
        rng, persona = self.rng, self.persona
        options = persona.consumables
        low, high = _STREAMS[persona.activity]
        for key in rng.sample(options, min(len(options), rng.randint(low, high))):
            cycle = self.catalog.by_type[key][0].type.repurchase_days or 30
            span = (self.end - self.start) * rng.uniform(*_STREAM_SPAN[persona.activity])
            when = self._random_time() - span * rng.random()
            when = max(when, self.start + DAY * rng.uniform(0, cycle))
            stop = max(when + span, when + DAY * cycle * 1.5)
            product = self.pick(key, when)
            while when < stop:
                # A habit sticks to one product; now and then the customer tries another.
                if rng.random() < 0.07 or not (product.active or when < self.end - DISCONTINUED_BEFORE):
                    product = self.pick(key, when)
                self._buy(key, when, product=product)
                when += DAY * cycle * max(0.6, rng.gauss(1.0, 0.1))

    def occasional(self) -> None:
        """Durables of the customer's lifestyles or of the season, with their complements."""
        rng, persona = self.rng, self.persona
        low, high = _ORDERS[persona.activity]
        own = persona.durables or list(SEASONAL)
        for _ in range(rng.randint(low, high)):
            when = self._random_time()
            if rng.random() < 0.08:
                product = self._buy(rng.choice(self.catalog.products).type.key, when, joinable=False)
            else:
                keys = own + list(SEASONAL)
                weights = [
                    (3.0 if i < len(own) else 0.6) * _season_weight(self.catalog.by_type[k][0].type.season, when.month)
                    for i, k in enumerate(keys)
                ]
                key = rng.choices(keys, weights)[0]
                asked = self._ask_first(key, when)
                product = self._buy(
                    key, when, joinable=False, need=asked.need.key if asked else "", gift=bool(asked and asked.gift)
                )
            if product is not None:
                self._complements(product, when)

    def _ask_first(self, type_key: str, when: datetime) -> Statement | None:
        """Sometimes, a consultation stating a need that ``type_key`` satisfies, shortly before ``when``."""
        rng = self.rng
        if rng.random() >= _ASK_FIRST:
            return None
        asked = when - DAY * rng.uniform(0.05, 4)
        options = [n for n in NEEDS if type_key in n.types and n.arises_in(asked.month)]
        if not options or asked < self.start:
            return None
        need = rng.choice(options)
        self.statements.append(Statement(asked, need_statement(rng, need, self.persona.language), need))
        return self.statements[-1]

    def needs(self) -> None:
        """Needs stated in a consultation, then (usually) satisfied within days."""
        rng, persona = self.rng, self.persona
        low, high = _NEEDS[persona.activity]
        for _ in range(rng.randint(low, high)):
            when = self._random_time()
            options = [n for n in NEEDS if n.arises_in(when.month)]
            need = rng.choice(options)
            statement = Statement(when, need_statement(rng, need, persona.language), need)
            self.statements.append(statement)
            if persona.activity != "cold" and rng.random() < 0.85:
                bought_at = when + DAY * rng.uniform(0.05, 4)
                product = self._buy(
                    rng.choice(need.types), bought_at, joinable=False, need=need.key, gift=statement.gift
                )
                if product is not None:
                    self._complements(product, bought_at)

    def add_ons(self, when: datetime) -> list[DemoProduct]:
        """Whims added to a basket at ``when``: about one per basket."""
        own = [k for k in self.persona.durables if not self.catalog.by_type[k][0].type.large]
        found = []
        while self.rng.random() < 0.5:
            found.append(self.pick(self.rng.choice(own + list(ADD_ONS)), when))
        return found

    def act(self) -> None:
        """Generate everything this customer does."""
        self.needs()
        if self.persona.activity == "cold":
            return
        self.consumable_streams()
        self.occasional()
