"""What every action shares: one turn's identity, language and database access.

``open_turn`` verifies the customer's token, records the conversation and
picks the language; ``ShopAction`` wraps an action's ``answer`` so that a
database failure becomes a polite apology in the right language and every
action sets the ``lang`` slot.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions import i18n
from actions.context import ActionContext, get_context
from actions.identity import CustomerView, identify
from actions.textparse import clean_text
from store.db import transaction

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Bound on one unit of database work; Rasa itself would wait five minutes.
DB_TIMEOUT_S = 15.0
SENDER_ID_MAX = 255

Button = dict[str, str]


class TurnFailed(Exception):
    """The database could not serve this turn; the customer gets an apology."""


@dataclass(frozen=True)
class Turn:
    """One action call: the cleaned message, its sender, customer and reply language."""

    context: ActionContext
    sender_id: str
    text: str
    lang: str
    customer: CustomerView | None
    now: datetime

    @property
    def anonymous(self) -> bool:
        return self.customer is None

    def t(self, key: str, **values: object) -> str:
        """The catalog message ``key`` in this turn's language."""
        return i18n.t(key, self.lang, **values)

    def money(self, amount: Any) -> str:
        return i18n.money(amount, self.context.settings.currency)

    async def db(self, work: Callable[[Session], T]) -> T:
        """Run ``work(session)`` in one transaction on a worker thread, bounded in time."""
        return await run_in_transaction(self.context, work)


async def run_in_transaction(context: ActionContext, work: Callable[[Session], T]) -> T:
    """``work(session)`` in one transaction off the event loop; ``TurnFailed`` on any database error."""

    def unit() -> T:
        with transaction(context.session_factory) as session:
            return work(session)

    try:
        return await asyncio.wait_for(asyncio.to_thread(unit), timeout=DB_TIMEOUT_S)
    except SQLAlchemyError as error:
        logger.error("database error in an action: %s", error)
        raise TurnFailed(str(error)) from error
    except TimeoutError as error:
        logger.error("database work took longer than %ss", DB_TIMEOUT_S)
        raise TurnFailed("timeout") from error


def latest_text(tracker: Tracker, max_chars: int) -> str:
    """The latest user message, cleaned and cut to ``max_chars``."""
    latest = tracker.latest_message if isinstance(tracker.latest_message, dict) else {}
    return clean_text(latest.get("text"), max_chars)


def message_too_long(tracker: Tracker, max_chars: int) -> bool:
    """Whether the latest user message is longer than the bot reads."""
    latest = tracker.latest_message if isinstance(tracker.latest_message, dict) else {}
    text = latest.get("text")
    return isinstance(text, str) and len(text) > max_chars


def first_language(tracker: Tracker) -> str:
    """The reply language when the database cannot tell the customer's profile."""
    return i18n.choose_language(
        latest_text(tracker, get_context().settings.max_message_chars), tracker.get_slot("lang")
    )


async def open_turn(tracker: Tracker) -> Turn:
    """Verify identity, record the conversation and choose the language for this call.

    Raises ``TurnFailed`` when the database cannot be used; the caller then
    apologizes in ``first_language``.
    """
    context = get_context()
    settings = context.settings
    latest = tracker.latest_message if isinstance(tracker.latest_message, dict) else {}
    text = latest_text(tracker, settings.max_message_chars)
    sender_id = str(tracker.sender_id)[:SENDER_ID_MAX]
    now = context.clock()
    secret = settings.token_secret.get_secret_value()
    metadata = latest.get("metadata")
    customer = await run_in_transaction(context, lambda session: identify(session, metadata, secret, sender_id, now))
    lang = i18n.choose_language(text, tracker.get_slot("lang"), customer.language if customer else None)
    return Turn(context=context, sender_id=sender_id, text=text, lang=lang, customer=customer, now=now)


def say(dispatcher: CollectingDispatcher, text: str, buttons: list[Button] | None = None) -> None:
    """Send one message, with buttons when given."""
    if buttons:
        dispatcher.utter_message(text=text, buttons=buttons)
    else:
        dispatcher.utter_message(text=text)


def apologize(dispatcher: CollectingDispatcher, lang: str) -> list[dict[str, Any]]:
    """The reply when the database failed: an apology, and the language kept."""
    say(dispatcher, i18n.t("error.database", lang))
    return [SlotSet("lang", lang)]


def menu_buttons(lang: str) -> list[Button]:
    """Buttons for the main things the bot can do."""
    return [
        {"title": i18n.t("menu.order_status", lang), "payload": "/order_status"},
        {"title": i18n.t("menu.recommend", lang), "payload": "/ask_recommendation"},
        {"title": i18n.t("menu.returns", lang), "payload": "/return_policy"},
        {"title": i18n.t("menu.human", lang), "payload": "/request_human"},
    ]


# Actions that may run while a deletion awaits its yes/no; any other action
# cancels the pending question, so a later unrelated "yes" erases nothing.
CONFIRMATION_ACTIONS = frozenset({"action_confirm_delete", "action_delete_my_data", "action_cancel_delete"})


class ShopAction(Action, ABC):
    """An action that answers one turn; subclasses implement ``name`` and ``answer``."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        limit = get_context().settings.max_message_chars
        if message_too_long(tracker, limit):
            # NLU guessed an intent from a cut-off wall of text; answering it would be a guess too.
            lang = first_language(tracker)
            say(dispatcher, i18n.t("input.too_long", lang, limit=limit))
            return [SlotSet("lang", lang), *self.events_after_failure()]
        try:
            turn = await open_turn(tracker)
        except TurnFailed:
            return apologize(dispatcher, first_language(tracker)) + self.events_after_failure()
        try:
            events = await self.answer(turn, dispatcher, tracker, domain)
        except TurnFailed:
            return apologize(dispatcher, turn.lang) + self.events_after_failure()
        if tracker.get_slot("pending_confirmation") and self.name() not in CONFIRMATION_ACTIONS:
            events = [*events, SlotSet("pending_confirmation", None)]
        return [SlotSet("lang", turn.lang), *events]

    @abstractmethod
    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        """Reply to the turn through ``dispatcher`` and return the events to apply."""

    def events_after_failure(self) -> list[dict[str, Any]]:
        """Events to return when the database failed mid-answer (e.g. clearing a form)."""
        return []
