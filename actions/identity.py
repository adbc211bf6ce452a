"""Who the customer is: verified from the message's token, never from the sender id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from store.identity import identity_from_metadata
from store.models import Conversation, Customer


@dataclass(frozen=True)
class CustomerView:
    """The few facts about a signed-in customer the actions use, detached from any session."""

    id: int
    external_id: str
    name: str
    language: str


def external_id_from_metadata(metadata: Any, secret: str) -> str | None:
    """The customer external id a valid token in ``metadata`` vouches for, else ``None``."""
    return identity_from_metadata(metadata, secret).customer_external_id


def find_customer(session: Session, external_id: str | None) -> CustomerView | None:
    """The customer with that external id, or ``None`` (anonymous) when there is none."""
    if not external_id:
        return None
    customer = session.scalar(select(Customer).where(Customer.external_id == external_id))
    if customer is None:
        return None
    return CustomerView(customer.id, customer.external_id, customer.name, customer.language)


def record_conversation(session: Session, sender_id: str, customer_id: int | None, now: datetime) -> None:
    """Upsert the binding ``sender_id -> customer``; an anonymous turn never unbinds a customer."""
    row = session.get(Conversation, sender_id)
    if row is None:
        try:
            with session.begin_nested():
                session.add(Conversation(sender_id=sender_id, customer_id=customer_id, started_at=now, last_seen_at=now))
            return
        except IntegrityError:
            # Another turn of the same conversation inserted it first.
            row = session.get(Conversation, sender_id)
            if row is None:
                raise
    row.last_seen_at = now
    if customer_id is not None:
        row.customer_id = customer_id


def identify(session: Session, metadata: Any, secret: str, sender_id: str, now: datetime) -> CustomerView | None:
    """Verify the token, look the customer up and record the conversation binding."""
    customer = find_customer(session, external_id_from_metadata(metadata, secret))
    record_conversation(session, sender_id, customer.id if customer else None, now)
    return customer
