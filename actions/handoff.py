"""Handing the conversation to a person: a ``Handoff`` row with a summary for staff."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.base import ShopAction, Turn, say
from actions.coupon_grants import grant_make_good
from actions.coupon_text import describe_coupon
from actions.textparse import clean_text, is_payload
from store.models import Handoff, Order

RECENT_MESSAGES = 5
MESSAGE_CHARS = 200
SUMMARY_CHARS = 1500


def recent_user_messages(events: list[dict[str, Any]], limit: int = RECENT_MESSAGES) -> list[str]:
    """The last typed user messages of this conversation (button payloads left out), oldest first."""
    texts: list[str] = []
    for event in reversed(events or []):
        if not isinstance(event, dict):
            continue
        if event.get("event") == "session_started":
            break
        if event.get("event") == "user":
            text = clean_text(event.get("text"), MESSAGE_CHARS)
            if text and not is_payload(text):
                texts.append(text)
            if len(texts) >= limit:
                break
    return list(reversed(texts))


def latest_intent(tracker: Tracker) -> str | None:
    """The NLU intent of the latest message, if any."""
    intent = tracker.latest_message.get("intent") if isinstance(tracker.latest_message, dict) else None
    name = intent.get("name") if isinstance(intent, dict) else None
    return name if isinstance(name, str) else None


def latest_order_number(session: Session, customer_id: int) -> str | None:
    """The number of the customer's most recent order."""
    return session.scalar(
        select(Order.order_number)
        .where(Order.customer_id == customer_id)
        .order_by(Order.placed_at.desc(), Order.id.desc())
        .limit(1)
    )


def build_summary(reason: str, customer_ref: str, order_number: str | None, messages: list[str]) -> str:
    """A short note for staff: why, who, their latest order, and what they said."""
    said = " | ".join(messages) if messages else "-"
    summary = f"[{reason}] customer: {customer_ref}; latest order: {order_number or '-'}; said: {said}"
    return summary[:SUMMARY_CHARS]


def open_handoff(session: Session, turn: Turn, reason: str, messages: list[str]) -> int:
    """Create the handoff, or refresh this conversation's open one; returns its id."""
    customer_id = turn.customer.id if turn.customer else None
    order_number = latest_order_number(session, customer_id) if customer_id else None
    customer_ref = f"#{customer_id} ({turn.customer.external_id})" if turn.customer else "anonymous"
    summary = build_summary(reason, customer_ref, order_number, messages)
    existing = session.scalar(
        select(Handoff).where(Handoff.sender_id == turn.sender_id, Handoff.status == "open").order_by(Handoff.id.desc())
    )
    if existing is not None:
        # A repeated request in the same conversation updates the ticket rather than queueing a second one.
        existing.summary, existing.reason, existing.customer_id = summary, reason, customer_id or existing.customer_id
        return existing.id
    handoff = Handoff(
        sender_id=turn.sender_id,
        customer_id=customer_id,
        created_at=turn.now,
        reason=reason,
        summary=summary,
        status="open",
    )
    session.add(handoff)
    session.flush()
    return handoff.id


def make_good_text(session: Session, turn: Turn) -> str | None:
    """Grant (once per conversation, within the store's limit) a make-good coupon; its description, or ``None``."""
    assert turn.customer is not None
    settings = turn.context.settings
    result = grant_make_good(session, customer_id=turn.customer.id, sender_id=turn.sender_id, now=turn.now,
                             limit=settings.make_good_limit, period_days=settings.make_good_period_days)
    return describe_coupon(result.coupon, turn) if result is not None else None


class ActionHandoff(ShopAction):
    """Complaints and requests for a person: records the handoff and tells when staff answer."""

    def name(self) -> str:
        return "action_handoff"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        reason = "complaint" if latest_intent(tracker) == "complain" else "request"
        messages = recent_user_messages(tracker.events)
        await turn.db(lambda session: open_handoff(session, turn, reason, messages))
        settings = turn.context.settings
        hours = settings.handoff_hours_zh if turn.lang == "zh" else settings.handoff_hours_en
        text = turn.t("handoff.done", hours=hours)
        if reason == "complaint":
            text = turn.t("handoff.complaint") + ("" if turn.lang == "zh" else " ") + text
        say(dispatcher, text)
        if reason == "complaint" and turn.customer is not None:
            coupon = await turn.db(lambda session: make_good_text(session, turn))
            if coupon is not None:
                say(dispatcher, "\n".join([turn.t("coupon.make_good"), coupon]))
        # A handoff ends any return in progress: the next return must not reuse its answers.
        return [SlotSet("return_line_id", None), SlotSet("return_reason", None)]
