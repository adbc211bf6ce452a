"""``validate_return_form``: resolves which line the customer means and checks the reason.

A line arrives as a button payload (its id as the ``line_id`` entity), as a
number from the list, or as a product name typed in either language. Only
the customer's own returnable lines are accepted. An anonymous visitor, or a
customer with nothing returnable, is told so and the form stops at once.
"""

from __future__ import annotations

import re
from typing import Any

from rapidfuzz import fuzz, utils
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.base import Turn, TurnFailed, apologize, first_language, open_turn, say
from actions.matching import product_query
from actions.return_queries import ReturnableLine, returnable_lines
from actions.returns import clear_form_slots, parse_line_id
from actions.textparse import ORDER_NUMBER, clean_text, find_order_number, is_payload, payload_entities

REASON_MIN, REASON_MAX = 3, 500
NAME_MATCH_SCORE = 75.0
_LIST_NUMBER = re.compile(r"^\s*(?:#|no\.?|number|第)?\s*(\d{1,3})\s*(?:个|件|号|st|nd|rd|th)?\s*$", re.IGNORECASE)


def resolve_line(value: Any, entity_id: Any, lines: list[ReturnableLine]) -> tuple[int | None, str]:
    """The returnable line meant by the answer, and a verdict: ``ok``, ``invalid`` or ``unclear``.

    ``entity_id`` is the id from a button payload; a payload id that is not
    one of ``lines`` (another customer's, or not returnable) is ``invalid``.
    """
    ids = [line.line_id for line in lines]
    text = value if isinstance(value, str) else ""
    if entity_id is None and is_payload(text):
        entity_id = payload_entities(text).get("line_id")
    if entity_id is not None:
        line_id = parse_line_id(entity_id)
        return (line_id, "ok") if line_id in ids else (None, "invalid")
    number = _LIST_NUMBER.match(text)
    if number:
        n = int(number.group(1))
        return (ids[n - 1], "ok") if 1 <= n <= len(ids) else (None, "unclear")
    order_number = find_order_number(text)
    candidates = [line for line in lines if line.order_number == order_number] if order_number else lines
    if order_number and len(candidates) == 1:
        return candidates[0].line_id, "ok"
    query = product_query(ORDER_NUMBER.sub(" ", text))
    if len(utils.default_process(query)) < 2:
        return None, "unclear"
    scored = sorted(
        ((max(_score(query, line.name_en), _score(query, line.name_zh)), line.line_id) for line in candidates),
        reverse=True,
    )
    if scored and scored[0][0] >= NAME_MATCH_SCORE and (len(scored) == 1 or scored[1][0] < scored[0][0] - 5):
        return scored[0][1], "ok"
    return None, "unclear"


def _score(query: str, name: str) -> float:
    return float(fuzz.WRatio(query, name, processor=utils.default_process)) if name else 0.0


def check_reason(value: Any, max_chars: int) -> str | None:
    """The reason, cleaned, when it has 3-500 characters and is not a button payload; else ``None``."""
    text = clean_text(value, max_chars)
    if is_payload(text) or not REASON_MIN <= len(text) <= REASON_MAX:
        return None
    return text


class ValidateReturnForm(FormValidationAction):
    """Validates ``return_line_id`` and ``return_reason`` of ``return_form``."""

    def name(self) -> str:
        return "validate_return_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[dict[str, Any]]:
        try:
            turn = await open_turn(tracker)
            # No `lang` SlotSet here: Rasa counts any SlotSet from the validator as a
            # validated answer, and would then never hand a "no" over to the rules.
            return await self._validate(turn, dispatcher, tracker)
        except TurnFailed:
            return apologize(dispatcher, first_language(tracker)) + clear_form_slots()

    async def _validate(self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
        candidates = tracker.slots_to_validate()
        needs_lines = "return_line_id" in candidates or tracker.get_slot("return_line_id") is None
        events: list[dict[str, Any]] = []
        if needs_lines:
            if turn.customer is None:
                say(dispatcher, turn.t("return.anonymous"))
                return clear_form_slots()
            customer_id, window = turn.customer.id, turn.context.settings.return_window_days
            lines = await turn.db(lambda session: returnable_lines(session, customer_id, turn.now, window))
            if not lines:
                say(dispatcher, turn.t("return.none_eligible", days=window))
                return clear_form_slots()
            if "return_line_id" in candidates:
                events.append(self._line_event(turn, dispatcher, tracker, candidates["return_line_id"], lines))
        if "return_reason" in candidates:
            reason = check_reason(candidates["return_reason"], turn.context.settings.max_message_chars)
            if reason is None:
                say(dispatcher, turn.t("return.reason_invalid", min=REASON_MIN, max=REASON_MAX))
            events.append(SlotSet("return_reason", reason))
        return events

    @staticmethod
    def _line_event(
        turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, value: Any, lines: list[ReturnableLine]
    ) -> dict[str, Any]:
        entity_id = next(
            (
                e.get("value")
                for e in tracker.latest_message.get("entities") or []
                if isinstance(e, dict) and e.get("entity") == "line_id"
            ),
            None,
        )
        line_id, verdict = resolve_line(value, entity_id, lines)
        if verdict == "invalid":
            say(dispatcher, turn.t("return.line_invalid"))
        elif verdict == "unclear":
            say(dispatcher, turn.t("return.line_unclear"))
        return SlotSet("return_line_id", str(line_id) if line_id is not None else None)
