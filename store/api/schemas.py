"""The store API's request bodies, validated at the boundary (pydantic v2, strict, unknown fields refused).

Money is accepted as a JSON number or string with at most two decimals
(answers carry it as a string, "123.40", so no float rounding creeps in).
Times are ISO 8601; one with an offset is converted to UTC, one without is
taken as UTC (the store keeps naive UTC times).
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

MAX_LINES = 100
MAX_SERVICES = 50
MAX_QUANTITY = 999

Money = Annotated[Decimal, Field(ge=0, max_digits=10, decimal_places=2)]
Code = Annotated[str, Field(min_length=1, max_length=64)]


def to_utc_naive(value: datetime | None) -> datetime | None:
    """The same instant as a naive UTC time (naive input is already UTC)."""
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LineBody(_Strict):
    """One product line: SKU, quantity, and a unit price (default: the product's price)."""

    sku: Code
    quantity: int = Field(ge=1, le=MAX_QUANTITY)
    unit_price: Money | None = None


class ServiceBody(_Strict):
    """One service bought with the order, optionally for a product (by SKU), at a price (default: list price)."""

    code: Code
    sku: Code | None = None
    price: Money | None = None


class OrderBody(_Strict):
    """``POST /v1/orders``."""

    order_number: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")
    customer_id: Code
    placed_at: datetime | None = None
    status: Literal["paid", "shipped", "delivered"] = "paid"
    lines: list[LineBody] = Field(default_factory=list, max_length=MAX_LINES)
    services: list[ServiceBody] = Field(default_factory=list, max_length=MAX_SERVICES)
    coupon_code: Code | None = None

    _utc = field_validator("placed_at")(to_utc_naive)


class StatusBody(_Strict):
    """``PATCH /v1/orders/{order_number}``: the new status, when it happened (default now), shipping details."""

    status: Literal["shipped", "delivered", "cancelled"]
    at: datetime | None = None
    carrier: str | None = Field(default=None, max_length=64)
    tracking_number: str | None = Field(default=None, max_length=64)

    _utc = field_validator("at")(to_utc_naive)


def first_error(error: ValidationError) -> tuple[str, str]:
    """The field and message of the first problem pydantic found (a JSON syntax error names ``body``)."""
    problem = error.errors()[0]
    return ".".join(str(part) for part in problem["loc"]) or "body", problem["msg"]
