"""Greeting, thanks, goodbye, out-of-scope and fallback: short, polite, with a menu."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import ShopAction, Turn, menu_buttons, say


class ActionGreet(ShopAction):
    """Greets by name when the customer is signed in."""

    def name(self) -> str:
        return "action_greet"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if turn.customer and turn.customer.name:
            text = turn.t("greet.named", name=turn.customer.name)
        else:
            text = turn.t("greet.anonymous")
        say(dispatcher, text, menu_buttons(turn.lang))
        return []


class ActionThank(ShopAction):
    """Answers thanks."""

    def name(self) -> str:
        return "action_thank"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        say(dispatcher, turn.t("thank"))
        return []


class ActionGoodbye(ShopAction):
    """Says goodbye."""

    def name(self) -> str:
        return "action_goodbye"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        say(dispatcher, turn.t("goodbye"))
        return []


class ActionOutOfScope(ShopAction):
    """Declines questions unrelated to the shop and shows what the bot can do."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        say(dispatcher, turn.t("out_of_scope"), menu_buttons(turn.lang))
        return []


class ActionFallback(ShopAction):
    """Answers a message the bot did not understand (nlu_fallback, or affirm/deny out of context)."""

    def name(self) -> str:
        return "action_fallback"

    async def answer(
        self, turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        say(dispatcher, turn.t("fallback"), menu_buttons(turn.lang))
        return []
