"""Erasing a customer's data on request, after an explicit confirmation.

The action deletes, in one transaction, the customer's consultations,
recommendation events, handoffs, conversation bindings and the stored
messages (Rasa's ``events`` rows) of their other conversations. This
conversation's own messages are erased by the project's tracker store when
it sees ``conversation_erased`` set, because Rasa would write them back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy import column, delete, inspect, or_, select, table
from sqlalchemy.orm import Session

from actions.base import ShopAction, Turn, say
from store.models import Consultation, Conversation, Handoff, RecommendationEvent

RASA_EVENTS = table("events", column("sender_id"))


@dataclass(frozen=True)
class ErasureCounts:
    """How many rows of each kind were erased."""

    consultations: int
    recommendations: int
    handoffs: int
    conversations: int
    messages: int


def erase_customer(session: Session, customer_id: int, current_sender_id: str) -> ErasureCounts:
    """Delete the customer's personal history; orders and returns stay (accounting).

    ``conversations`` counts the customer's conversations other than the
    current one; ``messages`` the ``events`` rows deleted for them (the
    table is skipped where Rasa has not created it).
    """
    senders = set(session.scalars(select(Conversation.sender_id).where(Conversation.customer_id == customer_id)))
    other_senders = sorted(senders - {current_sender_id})
    all_senders = sorted(senders | {current_sender_id})
    consultations = session.execute(delete(Consultation).where(Consultation.customer_id == customer_id)).rowcount
    recommendations = session.execute(
        delete(RecommendationEvent).where(
            or_(RecommendationEvent.customer_id == customer_id, RecommendationEvent.sender_id.in_(all_senders))
        )
    ).rowcount
    handoffs = session.execute(
        delete(Handoff).where(or_(Handoff.customer_id == customer_id, Handoff.sender_id.in_(all_senders)))
    ).rowcount
    session.execute(delete(Conversation).where(Conversation.customer_id == customer_id))
    messages = 0
    if other_senders and inspect(session.connection()).has_table("events"):
        messages = session.execute(delete(RASA_EVENTS).where(RASA_EVENTS.c.sender_id.in_(other_senders))).rowcount
    return ErasureCounts(consultations, recommendations, handoffs, len(other_senders), messages)


def erase_anonymous(session: Session, sender_id: str) -> None:
    """What a visitor's own conversation left in the store tables (its messages go with the tracker)."""
    session.execute(
        delete(RecommendationEvent).where(
            RecommendationEvent.sender_id == sender_id, RecommendationEvent.customer_id.is_(None)
        )
    )
    session.execute(delete(Handoff).where(Handoff.sender_id == sender_id, Handoff.customer_id.is_(None)))
    session.execute(delete(Conversation).where(Conversation.sender_id == sender_id, Conversation.customer_id.is_(None)))


class ActionConfirmDelete(ShopAction):
    """Asks for confirmation before erasing anything."""

    def name(self) -> str:
        return "action_confirm_delete"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        buttons = [
            {"title": turn.t("delete.yes"), "payload": "/affirm"},
            {"title": turn.t("delete.no"), "payload": "/deny"},
        ]
        say(dispatcher, turn.t("delete.confirm"), buttons)
        return [SlotSet("pending_confirmation", "delete")]


class ActionDeleteMyData(ShopAction):
    """Erases the customer's data (or a visitor's conversation) and reports what was erased."""

    def name(self) -> str:
        return "action_delete_my_data"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if tracker.get_slot("pending_confirmation") != "delete":
            # Only a yes to our own question erases anything.
            say(dispatcher, turn.t("delete.not_confirmed"))
            return [SlotSet("pending_confirmation", None)]
        done = [SlotSet("pending_confirmation", None), SlotSet("conversation_erased", True)]
        if turn.customer is None:
            await turn.db(lambda session: erase_anonymous(session, turn.sender_id))
            say(dispatcher, turn.t("delete.anonymous"))
            return done
        customer_id = turn.customer.id
        counts = await turn.db(lambda session: erase_customer(session, customer_id, turn.sender_id))
        say(
            dispatcher,
            turn.t(
                "delete.done",
                consultations=counts.consultations,
                recommendations=counts.recommendations,
                handoffs=counts.handoffs,
                conversations=counts.conversations,
                messages=counts.messages,
            ),
        )
        return done

    def events_after_failure(self) -> list[dict[str, Any]]:
        return [SlotSet("pending_confirmation", None)]


class ActionCancelDelete(ShopAction):
    """Confirms that nothing was deleted."""

    def name(self) -> str:
        return "action_cancel_delete"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        say(dispatcher, turn.t("delete.cancelled"))
        return [SlotSet("pending_confirmation", None)]
