"""Signed click-tracking links for recommended products.

A chat card links to ``<public_url>/r/{event_id}?sig=...`` (the store API
as customers' browsers reach it, ``Settings.store_api_public_url``) instead
of the product page; the signature (the first 16 hex digits of
HMAC-SHA256(store_api_token, str(event_id))) lets the API trust the id
without a login, so a link cannot be forged for another customer's
recommendation. A click records a ``clicked`` event and redirects to the
product page. A repeated click (a double click, a reload, the card opened
again) of the same item in the same conversation within
``click_dedup_seconds`` of the last recorded click is redirected but not
recorded again, so clicks count interest rather than page loads.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.api.errors import ApiError
from store.events import follow_up
from store.locks import lock_row
from store.models import ItemKind, Product, RecEventType, RecommendationEvent
from store.settings import Settings

SIG_CHARS = 16


def sign_click(settings: Settings, event_id: int) -> str:
    """The signature of a click link for the shown event ``event_id``."""
    key = settings.store_api_token.get_secret_value().encode()
    return hmac.new(key, str(event_id).encode(), hashlib.sha256).hexdigest()[:SIG_CHARS]


def click_url(settings: Settings, event_id: int) -> str:
    """The tracking link a chat card shows for the shown event ``event_id``."""
    return f"{settings.store_api_public_url}/r/{event_id}?sig={sign_click(settings, event_id)}"


def signature_ok(settings: Settings, event_id: int, sig: str) -> bool:
    """Whether ``sig`` signs ``event_id`` (compared in constant time)."""
    return hmac.compare_digest(sig.encode(), sign_click(settings, event_id).encode())


def product_link(settings: Settings, sku: str) -> str:
    """The product page of ``sku``."""
    return settings.product_url.replace("{sku}", quote(sku, safe=""))


def record_click(session: Session, event_id: int, *, now: datetime, dedup_seconds: int) -> str:
    """Record a ``clicked`` event for the shown product event ``event_id``; returns the product's SKU.

    The click copies the shown event's customer, sender, kind, item, rank,
    score, model version and fallback flag. Nothing is recorded when the
    same conversation already has a ``clicked`` event for the item at most
    ``dedup_seconds`` before ``now`` (0: always record); clicks of one link
    racing each other are counted one after the other (the shown event's row
    is locked first). Raises ``ApiError`` 404 when no shown product
    recommendation has that id (or its product is gone).
    """
    lock_row(session, RecommendationEvent, event_id)
    shown = session.get(RecommendationEvent, event_id)
    if shown is None or shown.event is not RecEventType.SHOWN or shown.kind is not ItemKind.PRODUCT:
        raise ApiError(404, "not_found", "event_id", f"no shown product recommendation has the id {event_id}")
    product = session.get(Product, shown.item_id)
    if product is None:
        raise ApiError(404, "not_found", "event_id", f"the product of recommendation {event_id} no longer exists")
    if dedup_seconds and recent_click(session, shown, since=now - timedelta(seconds=dedup_seconds)):
        return product.sku
    session.add(follow_up(shown, RecEventType.CLICKED, now=now, reason=f"clicked shown event {shown.id}"))
    return product.sku


def recent_click(session: Session, shown: RecommendationEvent, *, since: datetime) -> bool:
    """Whether ``shown``'s conversation recorded a click of the same item at or after ``since``."""
    return session.scalar(
        select(RecommendationEvent.id)
        .where(
            RecommendationEvent.sender_id == shown.sender_id,
            RecommendationEvent.kind == shown.kind,
            RecommendationEvent.item_id == shown.item_id,
            RecommendationEvent.event == RecEventType.CLICKED,
            RecommendationEvent.created_at >= since,
        )
        .limit(1)
    ) is not None
