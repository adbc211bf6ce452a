"""Return policy, and the return form's questions, submission and cancellation."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions import i18n
from actions.base import ShopAction, Turn, say
from actions.return_queries import ReturnableLine, line_name, returnable_lines, submit_return

MAX_LINE_BUTTONS = 10


def clear_form_slots() -> list[dict[str, Any]]:
    """Events that empty the return form, so the next return starts afresh."""
    return [SlotSet("return_line_id", None), SlotSet("return_reason", None), SlotSet(REQUESTED_SLOT, None)]


MAX_ROW_ID = 2**31 - 1  # INTEGER on PostgreSQL; larger values cannot name a row


def parse_line_id(value: Any) -> int | None:
    """A line id from a slot value ("12"), else ``None``."""
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    try:
        line_id = int(str(value).strip())
    except ValueError:
        return None
    return line_id if 0 < line_id <= MAX_ROW_ID else None


def line_buttons(lines: list[ReturnableLine], lang: str) -> list[dict[str, str]]:
    """One numbered button per returnable line; the payload carries the line id as an entity."""
    return [
        {
            "title": i18n.t(
                "return.line_option",
                lang,
                n=n,
                name=line.name(lang),
                order=line.order_number,
                date=i18n.day(line.delivered_at),
            ),
            "payload": "/inform" + json.dumps({"line_id": str(line.line_id)}),
        }
        for n, line in enumerate(lines[:MAX_LINE_BUTTONS], start=1)
    ]


class ActionReturnPolicy(ShopAction):
    """The return window and refund rules, with a button to start a return."""

    def name(self) -> str:
        return "action_return_policy"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        text = turn.t("return.policy", days=turn.context.settings.return_window_days)
        say(dispatcher, text, [{"title": turn.t("return.start_button"), "payload": "/start_return"}])
        return []


class ActionAskReturnLineId(ShopAction):
    """Asks which line to return, listing the customer's returnable lines as buttons."""

    def name(self) -> str:
        return "action_ask_return_line_id"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if turn.customer is None:
            say(dispatcher, turn.t("return.anonymous"))
            return []
        customer_id, window = turn.customer.id, turn.context.settings.return_window_days
        lines = await turn.db(lambda session: returnable_lines(session, customer_id, turn.now, window))
        if not lines:
            say(dispatcher, turn.t("return.none_eligible", days=window))
            return []
        say(dispatcher, turn.t("return.ask_line"), line_buttons(lines, turn.lang))
        return []


class ActionAskReturnReason(ShopAction):
    """Asks why the chosen item is returned."""

    def name(self) -> str:
        return "action_ask_return_reason"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        line_id = parse_line_id(tracker.get_slot("return_line_id"))
        names = None
        if turn.customer is not None and line_id is not None:
            customer_id = turn.customer.id
            names = await turn.db(lambda session: line_name(session, customer_id, line_id))
        name = (names[1] if turn.lang == "zh" else names[0]) if names else turn.t("return.this_item")
        say(dispatcher, turn.t("return.ask_reason", name=name))
        return []


class ActionSubmitReturn(ShopAction):
    """Registers the return once the form is complete; a repeated turn creates nothing new."""

    def name(self) -> str:
        return "action_submit_return"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        line_id = parse_line_id(tracker.get_slot("return_line_id"))
        reason = tracker.get_slot("return_reason")
        if line_id is None or not isinstance(reason, str) or not reason.strip():
            # The validator stopped the form early and already told the customer why.
            return clear_form_slots()
        if turn.customer is None:
            say(dispatcher, turn.t("return.anonymous"))
            return clear_form_slots()
        customer_id, window = turn.customer.id, turn.context.settings.return_window_days
        result = await turn.db(
            lambda session: submit_return(session, customer_id, line_id, reason.strip(), turn.now, window)
        )
        if result.outcome == "created":
            say(dispatcher, turn.t("return.submitted", name=result.name(turn.lang), reference=result.reference))
        elif result.outcome == "already":
            say(dispatcher, turn.t("return.already", name=result.name(turn.lang), reference=result.reference))
        else:
            say(dispatcher, turn.t("return.no_longer"))
        return clear_form_slots()

    def events_after_failure(self) -> list[dict[str, Any]]:
        return clear_form_slots()


class ActionCancelReturn(ShopAction):
    """Confirms that stopping the return form changed nothing."""

    def name(self) -> str:
        return "action_cancel_return"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        say(dispatcher, turn.t("return.cancelled"))
        return clear_form_slots()
