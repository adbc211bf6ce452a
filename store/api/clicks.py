"""Signed click-tracking links for recommended products.

A chat card links to ``<public_url>/r/{event_id}?sig=...`` (the store API
as customers' browsers reach it, ``Settings.store_api_public_url``) instead
of the product page; the signature (the first 16 hex digits of
HMAC-SHA256(store_api_token, str(event_id))) lets the API trust the id
without a login, so a link cannot be forged for another customer's
recommendation. A click records a ``clicked`` event and redirects to the
product page.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime
from urllib.parse import quote

from sqlalchemy.orm import Session

from store.api.errors import ApiError
from store.events import follow_up
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


def record_click(session: Session, event_id: int, *, now: datetime) -> str:
    """Record a ``clicked`` event for the shown product event ``event_id``; returns the product's SKU.

    The click copies the shown event's customer, sender, kind, item, rank,
    score, model version and fallback flag. Raises ``ApiError`` 404 when no
    shown product recommendation has that id (or its product is gone).
    """
    shown = session.get(RecommendationEvent, event_id)
    if shown is None or shown.event is not RecEventType.SHOWN or shown.kind is not ItemKind.PRODUCT:
        raise ApiError(404, "not_found", "event_id", f"no shown product recommendation has the id {event_id}")
    product = session.get(Product, shown.item_id)
    if product is None:
        raise ApiError(404, "not_found", "event_id", f"the product of recommendation {event_id} no longer exists")
    session.add(follow_up(shown, RecEventType.CLICKED, now=now, reason=f"clicked shown event {shown.id}"))
    return product.sku
