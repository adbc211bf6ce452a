"""The store's tables as SQLAlchemy 2.0 typed models.

One module owns the schema; alembic migrations in ``store/migrations`` are
generated from it. Money is ``Numeric(10, 2)``; times are UTC, naive.
Rasa's own ``events`` table (its SQL tracker store) lives in the same
database but is not part of this metadata.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

Money = Numeric(10, 2)


class Base(DeclarativeBase):
    """Declarative base of every store table."""


def _enum(cls: type[enum.Enum]) -> Enum:
    # Store the value ("paid"), not the member name, with a portable CHECK.
    return Enum(cls, values_callable=lambda e: [m.value for m in e], native_enum=False, length=20)


class Tier(str, enum.Enum):
    """Loyalty tier, ordered from lowest to highest."""

    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"

    @property
    def rank(self) -> int:
        return list(Tier).index(self)


class OrderStatus(str, enum.Enum):
    PAID = "paid"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    RETURNED = "returned"
    CANCELLED = "cancelled"


class LineStatus(str, enum.Enum):
    OK = "ok"
    RETURN_REQUESTED = "return_requested"
    RETURNED = "returned"


class ItemKind(str, enum.Enum):
    PRODUCT = "product"
    SERVICE = "service"
    COUPON = "coupon"


class RecEventType(str, enum.Enum):
    SHOWN = "shown"
    CLICKED = "clicked"
    DISMISSED = "dismissed"
    PURCHASED = "purchased"
    GRANTED = "granted"
    REDEEMED = "redeemed"
    # The order behind a purchased / redeemed event was cancelled: same item, negative revenue.
    PURCHASE_CANCELLED = "purchase_cancelled"
    REDEMPTION_CANCELLED = "redemption_cancelled"


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(String(128))
    name_zh: Mapped[str] = mapped_column(String(128))

    products: Mapped[list[Product]] = relationship(back_populates="category")


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(String(256))
    name_zh: Mapped[str] = mapped_column(String(256))
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    category_id: Mapped[int] = mapped_column(ForeignKey("categories.id", ondelete="RESTRICT"), index=True)
    brand: Mapped[str] = mapped_column(String(128), default="")
    price: Mapped[Decimal] = mapped_column(Money)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # A consumable is bought again after about ``repurchase_days``.
    repurchase_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    category: Mapped[Category] = relationship(back_populates="products")


class Service(Base):
    """A sellable service: warranty, installation, gift wrapping, ..."""

    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    name_en: Mapped[str] = mapped_column(String(256))
    name_zh: Mapped[str] = mapped_column(String(256))
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    price: Mapped[Decimal] = mapped_column(Money)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    scopes: Mapped[list[ServiceScope]] = relationship(back_populates="service", cascade="all, delete-orphan")


class ServiceScope(Base):
    """One category or one product a service applies to (either, not both)."""

    __tablename__ = "service_scopes"

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))

    service: Mapped[Service] = relationship(back_populates="scopes")


class Coupon(Base):
    """A coupon and its rules; see ``store.coupons`` for how they are applied."""

    __tablename__ = "coupons"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name_en: Mapped[str] = mapped_column(String(256))
    name_zh: Mapped[str] = mapped_column(String(256))
    discount_type: Mapped[str] = mapped_column(String(16))  # "percent" or "amount"
    discount_value: Mapped[Decimal] = mapped_column(Money)
    min_spend: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    valid_from: Mapped[datetime] = mapped_column(DateTime)
    valid_to: Mapped[datetime] = mapped_column(DateTime)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="SET NULL"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    min_tier: Mapped[Tier] = mapped_column(_enum(Tier), default=Tier.BRONZE)
    per_customer_limit: Mapped[int] = mapped_column(Integer, default=1)
    stackable: Mapped[bool] = mapped_column(Boolean, default=False)
    # A make-good coupon is only granted after a resolved complaint.
    make_good: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    email: Mapped[str] = mapped_column(String(256), default="")
    tier: Mapped[Tier] = mapped_column(_enum(Tier), default=Tier.BRONZE)
    language: Mapped[str] = mapped_column(String(8), default="en")
    city: Mapped[str] = mapped_column(String(64), default="")
    consent_marketing: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_personalization: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)

    orders: Mapped[list[Order]] = relationship(back_populates="customer", passive_deletes=True)


class ShippingMethod(Base):
    __tablename__ = "shipping_methods"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_en: Mapped[str] = mapped_column(String(128))
    name_zh: Mapped[str] = mapped_column(String(128))
    days_min: Mapped[int] = mapped_column(Integer)
    days_max: Mapped[int] = mapped_column(Integer)
    fee: Mapped[Decimal] = mapped_column(Money)
    free_over: Mapped[Decimal | None] = mapped_column(Money, nullable=True)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(32), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus), default=OrderStatus.PAID)
    placed_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    shipping_method_id: Mapped[int | None] = mapped_column(ForeignKey("shipping_methods.id", ondelete="SET NULL"))
    carrier: Mapped[str] = mapped_column(String(64), default="")
    tracking_number: Mapped[str] = mapped_column(String(64), default="")
    total: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))

    customer: Mapped[Customer] = relationship(back_populates="orders")
    lines: Mapped[list[OrderLine]] = relationship(back_populates="order", cascade="all, delete-orphan")


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="RESTRICT"), index=True)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    status: Mapped[LineStatus] = mapped_column(_enum(LineStatus), default=LineStatus.OK)

    order: Mapped[Order] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


class ServicePurchase(Base):
    """A service bought with an order (e.g. installation of a washer)."""

    __tablename__ = "service_purchases"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id", ondelete="RESTRICT"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    price: Mapped[Decimal] = mapped_column(Money)


class ReturnRequest(Base):
    __tablename__ = "return_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="requested")
    created_at: Mapped[datetime] = mapped_column(DateTime)


class Consultation(Base):
    """A past customer-service conversation or ticket."""

    __tablename__ = "consultations"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    channel: Mapped[str] = mapped_column(String(16), default="chat")
    language: Mapped[str] = mapped_column(String(8), default="en")
    topic: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(32), default="resolved")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), nullable=True)


class CouponGrant(Base):
    __tablename__ = "coupon_grants"
    __table_args__ = (UniqueConstraint("idempotency_key", name="uq_coupon_grant_idempotency"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    granted_at: Mapped[datetime] = mapped_column(DateTime)
    source: Mapped[str] = mapped_column(String(32), default="bot")
    # The same key twice (a retried turn) never grants twice.
    idempotency_key: Mapped[str] = mapped_column(String(128))


class CouponRedemption(Base):
    """A grant used on an order; ``released_at`` is set when the order is cancelled and frees the grant again."""

    __tablename__ = "coupon_redemptions"
    __table_args__ = (
        # A grant is used by at most one live (unreleased) redemption; released ones stay as history.
        Index("uq_coupon_redemptions_live_grant", "grant_id", unique=True,
              sqlite_where=text("released_at IS NULL"), postgresql_where=text("released_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("coupon_grants.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    redeemed_at: Mapped[datetime] = mapped_column(DateTime)
    discount: Mapped[Decimal] = mapped_column(Money)
    released_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Conversation(Base):
    """Which customer a Rasa conversation (sender id) was verified to belong to."""

    __tablename__ = "conversations"

    sender_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)


class RecommendationEvent(Base):
    """A recommendation shown, clicked, dismissed, granted, redeemed or purchased (or that purchase cancelled)."""

    __tablename__ = "recommendation_events"
    __table_args__ = (Index("ix_rec_events_customer_time", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    sender_id: Mapped[str] = mapped_column(String(255), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[ItemKind] = mapped_column(_enum(ItemKind))
    item_id: Mapped[int] = mapped_column(Integer)
    event: Mapped[RecEventType] = mapped_column(_enum(RecEventType))
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    score: Mapped[float | None] = mapped_column(nullable=True)
    model_version: Mapped[str] = mapped_column(String(64), default="")
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str] = mapped_column(Text, default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"), nullable=True)
    revenue: Mapped[Decimal | None] = mapped_column(Money, nullable=True)


class Handoff(Base):
    """A request for a person, with a short summary for staff."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(255), index=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    reason: Mapped[str] = mapped_column(String(32))
    summary: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
