"""What a ranked recommendation says: its catalog entry and the events that explain it.

Evidence from ``recommender.evidence.explain`` names events by position;
here they become references a person can read: the purchase's product name
and date, the consultation's text snippet and date, or "this conversation".
"""

from __future__ import annotations

from typing import Any

import numpy as np

from recommender.dataset import History
from recommender.evidence import CONVERSATION, Evidence
from recommender.serving.history import Catalog, ProductRow
from store.rules import service_applies

SNIPPET_CHARS = 80


def best_product(catalog: Catalog, present: list[int], sub_logp: np.ndarray, owned: list[ProductRow],
                 service: Any) -> int | None:
    """The product that gave ``service`` its score (see ``recommender.ranking.service_scores``)."""
    owned_ids = {p.id for p in owned}
    best, best_score = None, -np.inf
    for j, i in enumerate(present):
        product = catalog.products[i]
        if product is not None and service_applies(service, product):
            score = 0.0 if product.id in owned_ids else float(sub_logp[j])
            if score > best_score:
                best, best_score = i, score
    return best


def covered_product(catalog: Catalog, present: list[int], product_logp: np.ndarray, coupon: Any) -> int | None:
    """The likeliest product ``coupon`` can be used for."""
    covered = [i for i in present
               if (coupon.category_id is None or catalog.products[i].category_id == coupon.category_id)  # type: ignore[union-attr]
               and (coupon.product_id is None or catalog.products[i].id == coupon.product_id)]  # type: ignore[union-attr]
    return max(covered, key=lambda i: product_logp[i]) if covered else None


def describe(catalog: Catalog, ranked: Any, evidence: list[Evidence], history: History | None,
             language: str) -> dict[str, Any]:
    """One ranked entry (a ``recommender.ranking.Ranked``) as the API returns it, evidence as references."""
    zh = language == "zh"
    if ranked.kind == "product":
        entry: Any = catalog.products[ranked.index]
        ident, price = entry.sku, float(entry.price)
    elif ranked.kind == "service":
        entry = catalog.services[ranked.index]
        ident, price = entry.code, float(entry.price)
    else:
        entry = catalog.coupons[ranked.index]
        ident, price = entry.code, None
    return {
        "id": ident,
        "name": entry.name_zh if zh else entry.name_en,
        "score": ranked.score,
        "price": price,
        "evidence": [reference(catalog, e, history, zh) for e in evidence],
    }


def reference(catalog: Catalog, evidence: Evidence, history: History | None, zh: bool) -> dict[str, Any]:
    """A purchase (of a product or a service) as its name and date, a consultation as a snippet and date,
    or "this conversation"."""
    if evidence.kind == CONVERSATION or history is None:
        return {"type": "conversation", "text": "this conversation", "date": None, "weight": evidence.drop}
    date = evidence.time.date().isoformat() if evidence.time else None
    if evidence.kind == "purchase":
        product = catalog.products[history.purchases[evidence.position].item]
        name = (product.name_zh if zh else product.name_en) if product is not None else "a past purchase"
        return {"type": "purchase", "text": name, "date": date, "weight": evidence.drop}
    if evidence.kind == "service":
        names = catalog.service_names.get(history.services[evidence.position].service)
        name = (names[1] if zh else names[0]) if names else "a past purchase"
        return {"type": "purchase", "text": name, "date": date, "weight": evidence.drop}
    text = history.notes[evidence.position].text
    snippet = text if len(text) <= SNIPPET_CHARS else text[: SNIPPET_CHARS - 1] + "…"
    return {"type": "consultation", "text": snippet, "date": date, "weight": evidence.drop}
