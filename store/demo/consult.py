"""Consultations (past chats and tickets) tied to what happened to orders."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from store.demo.orders import DemoOrder
from store.demo.service_needs import ServiceStatement
from store.demo.shopping import DAY, Statement
from store.demo.talk import outcome_for, service_text
from store.models import OrderStatus

_HOUR = timedelta(hours=1)


@dataclass
class DemoConsultation:
    customer_id: int
    created_at: datetime
    language: str
    topic: str
    text: str
    outcome: str
    order: DemoOrder | None = None
    channel: str = "chat"


def _between(rng: random.Random, low: datetime, high: datetime) -> datetime:
    return (low + (high - low) * rng.random()).replace(microsecond=0)


class Consultations:
    """Collects the consultations of every customer."""

    def __init__(self, rng: random.Random, end: datetime) -> None:
        self.rng, self.end = rng, end
        self.items: list[DemoConsultation] = []

    def _add(self, customer_id: int, when: datetime, language: str, topic: str, order: DemoOrder | None) -> None:
        rng = self.rng
        text = service_text(rng, topic, language, order.number if order else "")
        channel = rng.choices(("chat", "email", "phone"), (70, 20, 10))[0]
        self.items.append(
            DemoConsultation(
                customer_id,
                min(when, self.end).replace(microsecond=0),
                language,
                topic,
                text,
                outcome_for(rng, topic),
                order,
                channel,
            )
        )

    def statements(self, customer_id: int, language: str, statements: list[Statement]) -> None:
        """Need statements: product advice asked before a purchase."""
        for statement in statements:
            self.items.append(
                DemoConsultation(
                    customer_id,
                    statement.time.replace(microsecond=0),
                    language,
                    "product_advice",
                    statement.text,
                    "advised",
                )
            )

    def service_statements(self, customer_id: int, language: str, statements: list[ServiceStatement]) -> None:
        """Service needs stated before an order (they draw nothing from ``self.rng``)."""
        for statement in statements:
            self.items.append(
                DemoConsultation(
                    customer_id,
                    statement.time,
                    language,
                    "service_advice",
                    statement.text,
                    "advised",
                    channel=statement.channel,
                )
            )

    def general(self, customer_id: int, language: str, start: datetime, count: int) -> None:
        """Questions about the shop itself, tied to no order."""
        for _ in range(count):
            self._add(customer_id, _between(self.rng, start, self.end), language, "general", None)

    def about(self, order: DemoOrder, language: str) -> None:
        """Service talk an order gave rise to, consistent with its status and times."""
        rng, cid, end = self.rng, order.customer_id, self.end
        status = order.status
        if status is OrderStatus.CANCELLED:
            if rng.random() < 0.6:
                self._add(cid, order.placed_at + _HOUR * rng.uniform(0.2, 5), language, "cancel_order", order)
            return
        if status is OrderStatus.PAID and rng.random() < 0.15:
            self._add(cid, _between(rng, order.placed_at, end), language, "change_address", order)
        if order.shipped_at is not None:
            arrived = order.delivered_at or end
            if rng.random() < (0.3 if order.delivered_at is None else 0.06):
                self._add(cid, _between(rng, order.shipped_at, arrived), language, "delivery_status", order)
            if order.large and rng.random() < 0.3:
                self._add(cid, _between(rng, order.placed_at, arrived), language, "installation", order)
        if order.delivered_at is not None:
            if order.late and rng.random() < 0.6:
                self._add(
                    cid,
                    _between(rng, order.delivered_at, min(end, order.delivered_at + DAY * 2)),
                    language,
                    "late_delivery",
                    order,
                )
            for _line, asked, state in order.returns[:1]:
                topic = "damaged_item" if state == "refunded" and rng.random() < 0.25 else "return_request"
                self._add(cid, max(order.delivered_at, asked - _HOUR * rng.uniform(0.5, 12)), language, topic, order)
            if rng.random() < 0.03:
                self._add(cid, _between(rng, order.delivered_at, end), language, "invoice", order)
