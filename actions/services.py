"""Which services to offer: for the category asked about, else for the products the customer owns.

The rules here decide which services may be offered; the model server's
ranking, when there is one, only decides their order (``in_model_order``)
before the list is cut to its limit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.matching import detect_category
from store.models import Order, OrderLine, OrderStatus, Product, Service, ServicePurchase
from store.rules import load_services, service_applies, services_for_products

if TYPE_CHECKING:
    from actions.base import Turn

SERVICE_LIMIT = 5
# Services that help right after a delivery (kinds as in ``Service.kind``).
AFTER_DELIVERY_KINDS = frozenset({"installation", "warranty", "setup"})
AFTER_DELIVERY_DAYS = 30
AFTER_DELIVERY_LIMIT = 2

# What a customer says -> fragments of a service's kind, code or English name.
_KIND_WORDS: dict[str, tuple[str, ...]] = {
    "warrant": ("warrant",),
    "guarantee": ("warrant",),
    "保修": ("warrant",),
    "质保": ("warrant",),
    "install": ("install", "setup"),
    "set up": ("install", "setup"),
    "setup": ("install", "setup"),
    "安装": ("install", "setup"),
    "wrap": ("wrap", "gift"),
    "包装": ("wrap", "gift"),
    "礼品": ("wrap", "gift"),
}


@dataclass(frozen=True)
class ServiceOffer:
    """A service as shown to the customer."""

    service_id: int
    code: str
    name_en: str
    name_zh: str
    price: Decimal
    for_product: tuple[str, str] | None = None  # (name_en, name_zh) of the customer's product it applies to

    def name(self, lang: str) -> str:
        return self.name_zh if lang == "zh" else self.name_en


def owned_products(session: Session, customer_id: int) -> list[Product]:
    """Products on the customer's orders that were not cancelled."""
    bought = (
        select(OrderLine.product_id)
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.customer_id == customer_id, Order.status != OrderStatus.CANCELLED)
    )
    return list(session.scalars(select(Product).where(Product.id.in_(bought)).order_by(Product.id)))


def _wanted_kinds(text: str) -> tuple[str, ...]:
    lowered = text.lower()
    return tuple(fragment for word, fragments in _KIND_WORDS.items() if word in lowered for fragment in fragments)


def _of_kind(services: list[Service], fragments: tuple[str, ...]) -> list[Service]:
    if not fragments:
        return services
    chosen = [s for s in services if any(f in f"{s.kind} {s.code} {s.name_en}".lower() for f in fragments)]
    return chosen or services


def in_model_order(services: list[Service], ranked_codes: Sequence[str] | None) -> list[Service]:
    """``services`` (those the rules allow) in the model's order.

    The services whose codes the model ranked come first, in its order; the
    others keep their order in ``services`` after them. A code the rules do
    not allow is ignored: the model orders, it never adds. ``None`` (no
    ranking) keeps ``services`` as they are.
    """
    if not ranked_codes:
        return services
    position: dict[str, int] = {}
    for rank, code in enumerate(ranked_codes):
        position.setdefault(code, rank)
    return sorted(services, key=lambda s: position.get(s.code, len(position)))  # stable: ties keep the rules' order


def find_services(session: Session, turn: Turn,
                  ranked_codes: Sequence[str] | None = None) -> tuple[str, str | None, list[ServiceOffer]]:
    """(scope, category name, offers): scope is ``category``, ``owned`` or ``general``.

    ``ranked_codes`` is the model's order (``None``: the rules' order); it
    orders the services the rules allow before the cut to ``SERVICE_LIMIT``.
    """
    services = load_services(session)
    kinds = _wanted_kinds(turn.text)
    category = detect_category(session, turn.text)
    scope, category_name, chosen = "general", None, services
    owned: list[Product] = []  # named next to each service in the "owned" scope
    if category is not None:
        products = list(session.scalars(select(Product).where(Product.category_id == category.id)))
        scope, category_name = "category", category.name_zh if turn.lang == "zh" else category.name_en
        chosen = [s for s in services if any(sc.category_id == category.id for sc in s.scopes)]
        chosen += [s for s in services_for_products(services, products) if s not in chosen]
    elif turn.customer is not None:
        owned = owned_products(session, turn.customer.id)
        fits = services_for_products(services, owned)
        if fits:
            scope, chosen = "owned", fits
    chosen = in_model_order(_of_kind(chosen, kinds), ranked_codes)[:SERVICE_LIMIT]
    return scope, category_name, [_offer(s, _first_covered(s, owned)) for s in chosen]


def _offer(service: Service, product: Product | None = None) -> ServiceOffer:
    names = (product.name_en, product.name_zh) if product is not None else None
    return ServiceOffer(service.id, service.code, service.name_en, service.name_zh, service.price, names)


def _first_covered(service: Service, products: list[Product]) -> Product | None:
    """The last of ``products`` (in the given order) that ``service`` applies to."""
    return next((p for p in reversed(products) if service_applies(service, p)), None)


def delivered_recently(delivered_at: datetime | None, now: datetime) -> bool:
    """Whether an order delivered at ``delivered_at`` is still within ``AFTER_DELIVERY_DAYS``."""
    return delivered_at is not None and now - delivered_at <= timedelta(days=AFTER_DELIVERY_DAYS)


def after_delivery_offers(session: Session, order_id: int, now: datetime,
                          ranked_codes: Sequence[str] | None = None) -> list[ServiceOffer]:
    """Services worth offering for a delivered order: installation, warranty or setup for its products.

    Only within ``AFTER_DELIVERY_DAYS`` of delivery, and never a service
    already bought on that order. ``ranked_codes`` (the model's order;
    ``None``: the rules') orders them before the cut to ``AFTER_DELIVERY_LIMIT``.
    """
    order = session.get(Order, order_id)
    if order is None or order.status != OrderStatus.DELIVERED or not delivered_recently(order.delivered_at, now):
        return []
    bought = set(session.scalars(select(ServicePurchase.service_id).where(ServicePurchase.order_id == order_id)))
    products = [line.product for line in order.lines]
    fitting = [s for s in load_services(session) if s.kind in AFTER_DELIVERY_KINDS and s.id not in bought]
    covered = [(s, _first_covered(s, products)) for s in in_model_order(fitting, ranked_codes)]
    return [_offer(s, product) for s, product in covered if product is not None][:AFTER_DELIVERY_LIMIT]
