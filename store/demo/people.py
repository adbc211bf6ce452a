"""Demo customers: their table rows and the hidden habits that drive their purchases."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from store.models import Tier

# lifestyle -> (consumable types bought on a cycle, other types bought now and then)
LIFESTYLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "coffee": (("coffee_beans", "coffee_capsules", "tea"), ("espresso_machine", "grinder", "milk_frother", "kettle")),
    "parent": (
        ("diapers", "baby_wipes", "formula"),
        ("stroller", "building_blocks", "picture_book", "plush", "board_game"),
    ),
    "cat": (("cat_food", "cat_litter"), ("pet_brush",)),
    "dog": (("dog_food",), ("pet_brush",)),
    "home_office": (
        ("ink_cartridge", "paper", "toner"),
        ("inkjet_printer", "laser_printer", "keyboard", "mouse", "laptop"),
    ),
    "skincare": (("face_cream", "serum", "cleanser", "sunscreen"), ("hair_dryer",)),
    "haircare": (("shampoo", "conditioner"), ("hair_dryer",)),
    "tech": ((), ("smartphone", "laptop", "headphones", "earbuds", "speaker", "power_bank", "charger")),
    "photo": ((), ("mirrorless", "action_cam", "memory_card", "tripod", "camera_bag")),
    "fitness": (("protein", "vitamins"), ("running_shoes", "fitness_tracker", "yoga_mat", "rain_jacket")),
    "home": (
        ("detergent", "dishwasher_tabs"),
        ("washer", "fridge", "dishwasher", "air_fryer", "blender", "sheets", "pillow"),
    ),
    "style": ((), ("down_jacket", "wool_coat", "rain_jacket", "sheets", "duvet")),
    "reader": ((), ("novel", "cookbook")),
    "wellness": (("fish_oil", "vitamins"), ("pillow", "yoga_mat")),
}
# Hidden service habits: habit -> the kinds of service (``services.kind``) a customer with it tends to take.
SERVICE_HABITS: dict[str, tuple[str, ...]] = {
    "protective": ("warranty", "fitting"),
    "hands_off": ("installation", "setup", "recycling", "cleaning"),
    "gift_giver": ("gift_wrapping",),
}
HABIT_OF_KIND: dict[str, str] = {kind: habit for habit, kinds in SERVICE_HABITS.items() for kind in kinds}
SEASONAL = ("heater", "humidifier", "fan", "air_conditioner", "down_jacket", "duvet", "sunscreen", "face_cream")

_EN_FIRST = (
    "James",
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Lucas",
    "Mia",
    "Ethan",
    "Sophie",
    "Daniel",
    "Grace",
    "Ryan",
    "Chloe",
    "Adam",
    "Hannah",
)
_EN_LAST = (
    "Smith",
    "Brown",
    "Taylor",
    "Wilson",
    "Clark",
    "Walker",
    "Lee",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Green",
    "Baker",
    "Evans",
)
_ZH_FAMILY = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_ZH_GIVEN = (
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "艳",
    "勇",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "婷婷",
    "浩然",
    "子涵",
    "欣怡",
    "宇轩",
)
_EN_CITIES = ("Shanghai", "Beijing", "Shenzhen", "Hong Kong", "Singapore", "Guangzhou", "Hangzhou", "Suzhou")
_ZH_CITIES = ("上海", "北京", "深圳", "广州", "杭州", "成都", "南京", "武汉", "西安", "重庆", "苏州", "天津")
DEMO_NAMES = ("Emma Walker", "王芳", "Alex Morgan")
_TIERS = (Tier.BRONZE, Tier.SILVER, Tier.GOLD, Tier.PLATINUM)


@dataclass
class Persona:
    """How one customer shops; never stored, only acted out."""

    id: int
    language: str
    tier: int  # preferred price tier, 0 budget .. 2 premium
    lifestyles: tuple[str, ...]
    activity: str  # "cold", "light", "regular" or "heavy"
    joined: datetime
    brands: dict[int, str] = field(default_factory=dict)  # category id -> loyal brand
    service_habits: tuple[str, ...] = ()  # keys of SERVICE_HABITS

    @property
    def consumables(self) -> list[str]:
        """Consumable types this customer could buy on a cycle."""
        return [t for name in self.lifestyles for t in LIFESTYLES[name][0]]

    @property
    def durables(self) -> list[str]:
        """Types this customer buys now and then."""
        return [t for name in self.lifestyles for t in LIFESTYLES[name][1]]


def service_rng(seed: int, customer_id: int) -> random.Random:
    """The random source of one customer's services: habits, takes and what they say about them.

    Apart from the product stream, so that services can change without
    changing what anyone buys.
    """
    return random.Random(f"{seed}:services:{customer_id}")


def draw_service_habits(rng: random.Random, customer_id: int) -> tuple[str, ...]:
    """Zero to two service habits (about a third of customers have none); the first draw of ``service_rng``.

    Demo customers C00001 and C00002 are hands-off: their washer came with installation.
    """
    roll = rng.random()
    if customer_id in (1, 2):
        return ("hands_off",)
    count = 0 if roll < 0.34 else 1 if roll < 0.8 else 2
    return tuple(sorted(rng.sample(list(SERVICE_HABITS), count)))


def _name(rng: random.Random, language: str) -> str:
    if language == "zh":
        return rng.choice(_ZH_FAMILY) + rng.choice(_ZH_GIVEN)
    return f"{rng.choice(_EN_FIRST)} {rng.choice(_EN_LAST)}"


def _customer(rng: random.Random, cid: int, language: str, tier: Tier, joined: datetime) -> dict:
    return {
        "id": cid,
        "external_id": f"C{cid:05d}",
        "name": _name(rng, language),
        "email": f"customer{cid:05d}@example.com",
        "tier": tier,
        "language": language,
        "city": rng.choice(_ZH_CITIES if language == "zh" else _EN_CITIES),
        "consent_marketing": rng.random() < 0.55,
        "consent_personalization": rng.random() < 0.9,
        "created_at": joined,
    }


def make_people(rng: random.Random, n: int, start: datetime, now: datetime) -> tuple[list[dict], list[Persona]]:
    """``n`` customer rows and their personas; ids 1-3 are the fixed demo customers."""
    rows: list[dict] = []
    personas: list[Persona] = []
    span = (now - start).total_seconds()
    names = list(LIFESTYLES)
    for cid in range(1, n + 1):
        language = "zh" if cid == 2 else "en" if cid in (1, 3) else ("zh" if rng.random() < 0.6 else "en")
        tier_index = min(3, int(rng.paretovariate(2.0)) - 1)
        # Most customers are there from the start; the others join over time.
        offset = -rng.uniform(0, 2 * 365 * 86400) if rng.random() < 0.6 else rng.uniform(0, span * 0.95)
        joined = start + timedelta(seconds=offset)
        roll = rng.random()
        activity = "cold" if roll < 0.05 else "light" if roll < 0.33 else "regular" if roll < 0.85 else "heavy"
        if cid <= 3:
            joined = min(joined, start)
            tier_index = (2, 1, 0)[cid - 1]
            activity = "cold" if cid == 3 else "regular"
        tier = _TIERS[tier_index]
        price_tier = min(2, max(0, tier_index - 1 + (1 if rng.random() < 0.5 else 0)))
        lifestyles = tuple(rng.sample(names, rng.choice((1, 2, 2, 3))))
        rows.append(_customer(rng, cid, language, tier, joined))
        if cid <= 3:
            rows[-1]["name"] = DEMO_NAMES[cid - 1]
        personas.append(Persona(cid, language, price_tier, lifestyles, activity, joined))
    return rows, personas
