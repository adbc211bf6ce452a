"""Recommendation events that follow an earlier one (a click, a purchase, a redemption)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from store.models import RecEventType, RecommendationEvent


def follow_up(source: RecommendationEvent, event: RecEventType, *, now: datetime, reason: str,
              **columns: Any) -> RecommendationEvent:
    """A new event of type ``event`` for the same customer, conversation, item, rank and model as ``source``.

    ``columns`` set or override any other column (``order_id``, ``revenue``, ``customer_id``...).
    """
    values: dict[str, Any] = dict(
        customer_id=source.customer_id, sender_id=source.sender_id, created_at=now, kind=source.kind,
        item_id=source.item_id, event=event, rank=source.rank, score=source.score,
        model_version=source.model_version, fallback=source.fallback, reason=reason,
    )
    values.update(columns)
    return RecommendationEvent(**values)
