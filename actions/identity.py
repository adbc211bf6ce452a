"""Who the customer is: verified from the message's token, never from the sender id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.upsert import insert_for
from store.identity import identity_from_metadata
from store.models import Conversation, Customer


@dataclass(frozen=True)
class CustomerView:
    """The few facts about a signed-in customer the actions use, detached from any session."""

    id: int
    external_id: str
    name: str
    language: str
    personalize: bool = True  # the customer consents to recommendations from their history


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
    return CustomerView(customer.id, customer.external_id, customer.name, customer.language,
                        customer.consent_personalization)


def record_conversation(session: Session, sender_id: str, customer_id: int | None, now: datetime) -> None:
    """Upsert the binding ``sender_id -> customer``; an anonymous turn never unbinds a customer.

    One ``INSERT ... ON CONFLICT`` statement, so two turns racing on a new
    conversation cannot fail each other.
    """
    values = {"sender_id": sender_id, "customer_id": customer_id, "started_at": now, "last_seen_at": now}
    changes: dict[str, object] = {"last_seen_at": now}
    if customer_id is not None:
        changes["customer_id"] = customer_id
    statement = insert_for(session, Conversation).values(**values)
    session.execute(statement.on_conflict_do_update(index_elements=[Conversation.sender_id], set_=changes))


def identify(session: Session, metadata: Any, secret: str, sender_id: str, now: datetime) -> CustomerView | None:
    """Verify the token, look the customer up and record the conversation binding."""
    customer = find_customer(session, external_id_from_metadata(metadata, secret))
    record_conversation(session, sender_id, customer.id if customer else None, now)
    return customer
