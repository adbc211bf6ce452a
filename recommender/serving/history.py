"""What the model server reads from the store for one request.

``read_history`` builds one customer's ``History`` with exactly the filters
and ordering of ``recommender.dataset.read_store`` (orders not cancelled,
lines by (placed_at, line id), consultations by (created_at, id)), so the
server feeds the model what training fed it. ``read_catalog`` reads the
catalog state the business rules need, once per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from recommender.dataset import History, Note, Purchase, ServiceTake
from recommender.ranking import ProductTable
from store.models import (Category, Consultation, Coupon, Customer, Order, OrderLine, OrderStatus, Product, Service,
                          ServicePurchase)


class ProductRow(NamedTuple):
    """The columns of a ``Product`` that ranking and the rules read (``is_sellable``, ``consumable_due``,
    ``service_applies``, ``product_mask``), read as plain rows: building ~700 ORM objects per batch cost
    more than the model itself, and a frozen dataclass per row still cost a quarter of a lone request."""

    id: int
    sku: str
    name_en: str
    name_zh: str
    category_id: int
    price: Decimal
    stock: int
    active: bool
    repurchase_days: int | None


@dataclass(frozen=True)
class Catalog:
    """Catalog state for one batch.

    ``products`` is aligned with the model's dense item order: entry ``i`` is
    the product whose SKU the model knows as item ``i``, or ``None`` when that
    product no longer exists (it can then never be recommended).
    """

    products: tuple[ProductRow | None, ...]
    services: tuple[Service, ...]
    coupons: tuple[Coupon, ...]
    categories: Mapping[str, int]
    index_of: Mapping[int, int]  # product id -> dense model index
    service_index_of: Mapping[int, int] = field(default_factory=dict)  # service id -> the model's service index
    service_names: Mapping[int, tuple[str, str]] = field(default_factory=dict)  # model's service index -> (en, zh)

    # Derived once per batch, not per request (each is a pass over the whole catalog).
    @cached_property
    def present(self) -> list[int]:
        """Dense indices of the products that still exist."""
        return [i for i, p in enumerate(self.products) if p is not None]

    @cached_property
    def listed(self) -> list[ProductRow]:
        """The existing products, in ``present`` order."""
        return [self.products[i] for i in self.present]  # type: ignore[misc]

    @cached_property
    def slot_of(self) -> dict[int, int]:
        """Dense index -> position in ``present``."""
        return {i: j for j, i in enumerate(self.present)}

    @cached_property
    def table(self) -> ProductTable:
        """The rules' facts about ``listed`` as arrays (``recommender.ranking.product_mask``)."""
        return ProductTable.of(self.listed)  # type: ignore[arg-type]


def read_catalog(session: Session, item_keys: tuple[str, ...], *, services: bool = True,
                 coupons: bool = True, service_keys: tuple[str, ...] = ()) -> Catalog:
    """Products (in the model's item order), category codes, and when asked active services and all coupons.

    A batch of product requests skips services and coupons (their ORM loading costs as much as the model).
    ``service_keys`` are the codes of the model's service tokens (empty: it has none); every service,
    active or not, whose code the model knows gets its index in ``Catalog.service_index_of``.
    """
    columns = [getattr(Product, name) for name in ProductRow._fields]
    by_sku = {row.sku: ProductRow._make(row) for row in session.execute(select(*columns))}
    products = tuple(by_sku.get(key) for key in item_keys)
    index_of = {product.id: i for i, product in enumerate(products) if product is not None}
    active_services = tuple(
        session.scalars(select(Service).where(Service.active.is_(True)).options(selectinload(Service.scopes))
                        .order_by(Service.id))
    ) if services else ()
    all_coupons = tuple(session.scalars(select(Coupon).order_by(Coupon.id))) if coupons else ()
    categories = {code: id_ for id_, code in session.execute(select(Category.id, Category.code))}
    service_index_of: dict[int, int] = {}
    service_names: dict[int, tuple[str, str]] = {}
    if service_keys:
        token_of = {key: i for i, key in enumerate(service_keys)}
        for row in session.execute(select(Service.id, Service.code, Service.name_en, Service.name_zh)):
            if row.code in token_of:
                service_index_of[row.id] = token_of[row.code]
                service_names[token_of[row.code]] = (row.name_en, row.name_zh)
    return Catalog(products=products, services=active_services, coupons=all_coupons, categories=categories,
                   index_of=index_of, service_index_of=service_index_of, service_names=service_names)


def find_customers(session: Session, external_ids: Iterable[str]) -> dict[str, Customer]:
    """The customers with these external ids (unknown ids are simply absent)."""
    wanted = set(external_ids)
    if not wanted:
        return {}
    return {c.external_id: c for c in session.scalars(select(Customer).where(Customer.external_id.in_(wanted)))}


def find_customer(session: Session, external_id: str) -> Customer | None:
    """The customer with this external id, or ``None``."""
    return find_customers(session, [external_id]).get(external_id)


def read_histories(session: Session, customers: Sequence[Customer], index_of: Mapping[int, int],
                   service_index_of: Mapping[int, int] | None = None) -> dict[int, History]:
    """Each customer's history as ``read_store`` builds it, keyed by customer id (three or four queries in all).

    ``index_of`` maps product ids to the model's dense item indices; a line
    whose product the model does not know is left out (it has no token).
    ``service_index_of`` does the same for service takes (None or empty: no takes are read).
    """
    ids = [customer.id for customer in customers]
    purchases: dict[int, list[Purchase]] = {id_: [] for id_ in ids}
    notes: dict[int, list[Note]] = {id_: [] for id_ in ids}
    takes: dict[int, list[ServiceTake]] = {id_: [] for id_ in ids}
    if ids and service_index_of:
        for row in session.execute(
            select(Order.customer_id, Order.placed_at, ServicePurchase.service_id, ServicePurchase.product_id)
            .join(ServicePurchase, ServicePurchase.order_id == Order.id)
            .where(Order.customer_id.in_(ids), Order.status != OrderStatus.CANCELLED)
            .order_by(Order.customer_id, Order.placed_at, ServicePurchase.id)
        ):
            if row.service_id in service_index_of:
                takes[row.customer_id].append(ServiceTake(time=row.placed_at, service=service_index_of[row.service_id],
                                                          item=index_of.get(row.product_id)))
    if ids:
        for row in session.execute(
            select(Order.customer_id, Order.placed_at, OrderLine.product_id)
            .join(OrderLine, OrderLine.order_id == Order.id)
            .where(Order.customer_id.in_(ids), Order.status != OrderStatus.CANCELLED)
            .order_by(Order.customer_id, Order.placed_at, OrderLine.id)
        ):
            if row.product_id in index_of:
                purchases[row.customer_id].append(Purchase(time=row.placed_at, item=index_of[row.product_id]))
        for row in session.execute(
            select(Consultation.customer_id, Consultation.created_at, Consultation.text, Consultation.topic)
            .where(Consultation.customer_id.in_(ids))
            .order_by(Consultation.customer_id, Consultation.created_at, Consultation.id)
        ):
            notes[row.customer_id].append(Note(time=row.created_at, text=row.text, topic=row.topic))
    return {
        customer.id: History(customer=customer.external_id, language=customer.language, tier=customer.tier.value,
                             purchases=tuple(purchases[customer.id]), notes=tuple(notes[customer.id]),
                             services=tuple(takes[customer.id]))
        for customer in customers
    }


def read_history(session: Session, customer: Customer, index_of: Mapping[int, int],
                 service_index_of: Mapping[int, int] | None = None) -> History:
    """One customer's history as ``read_store`` builds it (see ``read_histories``)."""
    return read_histories(session, [customer], index_of, service_index_of)[customer.id]
