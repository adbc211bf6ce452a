"""Finding products and categories named in free text, in English and Chinese.

Product names are matched fuzzily (rapidfuzz) against ``name_en``,
``name_zh`` and ``sku``; categories by their names, codes and a small
synonym map, so "sneakers" or "跑鞋" find a shoes category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz, utils
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Category, Product

# Scores are 0-100: a match must reach MATCH_SCORE; others within CLOSE_GAP of
# the best are close enough that we ask which one was meant.
MATCH_SCORE = 75.0
EXACT_SCORE = 97.0
CLOSE_GAP = 6.0

# Words that say what is asked about, not which product: removed before matching.
_FILLERS_EN = re.compile(
    r"(?i)\b(how much (is|are|does|do)|how many|what'?s|what is|what are|tell me about|info(rmation)? (on|about)|"
    r"price of|the price|price|cost(s)?|in stock|stock|available|availability|do you have|have you got|"
    r"is|are|the|a|an|of|for|it|please|size(s)?|features?|details?|specs?|any|left|there)\b"
)
_FILLERS_ZH = re.compile(
    r"多少钱|什么价|价格|价钱|售价|有货吗|有货|库存|还有吗|还有|有没有|怎么样|介绍一下|介绍|请问|尺码|参数|规格|的|吗|呢|吧|一下|这个|那个"
)

# User words -> words that appear in category names or codes.
CATEGORY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "sneaker": ("shoe",),
    "trainer": ("shoe",),
    "鞋": ("shoe",),
    "跑鞋": ("shoe",),
    "run": ("sport", "running", "shoe"),
    "跑步": ("sport", "running"),
    "运动": ("sport",),
    "健身": ("sport", "fitness"),
    "yoga": ("sport", "fitness"),
    "瑜伽": ("sport", "fitness"),
    "phone": ("phone", "electronic"),
    "手机": ("phone", "electronic"),
    "耳机": ("audio", "electronic", "headphone"),
    "headphone": ("audio", "electronic"),
    "earbud": ("audio", "electronic"),
    "laptop": ("computer", "electronic"),
    "电脑": ("computer", "electronic"),
    "数码": ("electronic",),
    "电子": ("electronic",),
    "gadget": ("electronic",),
    "衣服": ("cloth", "apparel"),
    "服装": ("cloth", "apparel"),
    "shirt": ("cloth", "apparel"),
    "jacket": ("cloth", "apparel"),
    "dress": ("cloth", "apparel"),
    "护肤": ("beauty", "skin"),
    "化妆": ("beauty",),
    "makeup": ("beauty",),
    "skincare": ("beauty", "skin"),
    "cream": ("beauty",),
    "厨房": ("kitchen", "home"),
    "cook": ("kitchen",),
    "家居": ("home",),
    "家电": ("appliance", "home"),
    "washer": ("appliance",),
    "洗衣机": ("appliance",),
    "书": ("book",),
    "玩具": ("toy",),
    "宠物": ("pet",),
    "食品": ("food", "grocery"),
    "零食": ("food", "snack"),
    "coffee": ("food", "grocery", "coffee"),
    "咖啡": ("food", "coffee"),
    "茶": ("food", "tea"),
}


_STOPWORDS = frozenset({"and", "&", "other", "more", "item", "good", "product", "for", "the"})


@dataclass(frozen=True)
class ProductMatch:
    """A product and how well the text named it (0-100)."""

    product: Product
    score: float


def product_query(text: str) -> str:
    """The part of the message that names a product (fillers removed)."""
    text = _FILLERS_ZH.sub(" ", _FILLERS_EN.sub(" ", text or ""))
    return " ".join(re.sub(r"[?？!！,，.。:：;；\"'“”]", " ", text).split())


def _score(query: str, choice: str) -> float:
    if not choice:
        return 0.0
    return float(fuzz.WRatio(query, choice, processor=utils.default_process))


def match_products(session: Session, text: str, *, limit: int = 3) -> list[ProductMatch]:
    """Active products named by the text, best first: one when clear, up to ``limit`` close ones."""
    query = product_query(text)
    if len(utils.default_process(query)) < 2:
        return []
    scored: list[ProductMatch] = []
    for product in session.scalars(select(Product).where(Product.active.is_(True))):
        score = max(_score(query, product.name_en), _score(query, product.name_zh), _score(query, product.sku))
        if score >= MATCH_SCORE:
            scored.append(ProductMatch(product, score))
    if not scored:
        return []
    scored.sort(key=lambda match: (-match.score, match.product.id))
    best = scored[0].score
    close = [match for match in scored if best - match.score <= CLOSE_GAP]
    if best >= EXACT_SCORE and (len(close) == 1 or _names_exactly(query, scored[0].product)):
        return scored[:1]
    return close[:limit]


def _names_exactly(query: str, product: Product) -> bool:
    wanted = utils.default_process(query)
    return any(utils.default_process(name) == wanted for name in (product.name_en, product.name_zh, product.sku))


def _words(text: str) -> set[str]:
    lowered = (text or "").lower()
    return {word.rstrip("s") for word in re.findall(r"[a-z]+", lowered)}


def detect_category(session: Session, text: str) -> Category | None:
    """The category the text mentions, by name (either language), code or synonym; else ``None``.

    The most specific mention wins: the longest Chinese name found in the
    text, else the most English name words shared, else a synonym hint.
    """
    if not text:
        return None
    lowered = text.lower()
    words = _words(text)
    categories = list(session.scalars(select(Category).order_by(Category.id)))
    best: tuple[float, Category] | None = None
    for category in categories:
        score = 0.0
        if category.name_zh and category.name_zh in text:
            score = 10.0 + len(category.name_zh)
        else:
            names = _words(category.name_en) | _words(category.code.replace("_", " ").replace("-", " "))
            score = float(len((names - _STOPWORDS) & words))
        if score > 0 and (best is None or score > best[0]):
            best = (score, category)
    if best is not None:
        return best[1]
    hints = [hint for key, values in CATEGORY_SYNONYMS.items() if _mentions(key, lowered, words) for hint in values]
    for hint in hints:
        for category in categories:
            haystack = f"{category.code} {category.name_en}".lower()
            if hint in haystack or hint in category.name_zh:
                return category
    return None


def _mentions(key: str, lowered: str, words: set[str]) -> bool:
    if re.search(r"[a-z]", key):
        return key in words or any(word.startswith(key) for word in words)
    return key in lowered
