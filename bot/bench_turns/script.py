"""What the benchmark's customers say: plain custom-action turns and recommendation turns, in two languages.

Plain turns are custom actions that answer from the store's data and never
call the model server. (An order-status answer about a recently delivered
order now asks the model to order its service offers, so it is not plain.)
"""

from __future__ import annotations

from dataclasses import dataclass

PLAIN = "plain"
RECOMMEND = "recommend"
KINDS = (PLAIN, RECOMMEND)
LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class Line:
    """One user message, its turn kind and the custom action the bot must run for it."""

    kind: str
    text: str
    expected_action: str


LINES: dict[str, dict[str, tuple[Line, ...]]] = {
    "en": {
        PLAIN: (
            Line(PLAIN, "what are your delivery options?", "action_delivery_info"),
            Line(PLAIN, "what is your return policy?", "action_return_policy"),
        ),
        RECOMMEND: (
            Line(RECOMMEND, "can you recommend something for me?", "action_recommend_products"),
            Line(RECOMMEND, "any gift ideas under 300?", "action_recommend_products"),
        ),
    },
    "zh": {
        PLAIN: (
            Line(PLAIN, "你们有哪些配送方式？", "action_delivery_info"),
            Line(PLAIN, "退货政策是什么？", "action_return_policy"),
        ),
        RECOMMEND: (
            Line(RECOMMEND, "有什么推荐的吗？", "action_recommend_products"),
            Line(RECOMMEND, "300以内有什么礼物推荐？", "action_recommend_products"),
        ),
    },
}


@dataclass(frozen=True)
class PlannedTurn:
    """A line to send at ``position`` in its conversation; warm-up turns are not timed in the results."""

    position: int
    line: Line
    warmup: bool


def conversation_language(index: int) -> str:
    """Conversations alternate languages: even ones English, odd ones Chinese."""
    return LANGUAGES[index % len(LANGUAGES)]


def conversation_plan(index: int, warmup_turns: int, turns: int) -> list[PlannedTurn]:
    """The turns of conversation ``index``: kinds alternate, and half the conversations start with each kind,
    so at any moment of the run both kinds are in flight; the phrasing rotates within a kind."""
    if warmup_turns < 0 or turns < 1:
        raise ValueError(f"need warmup_turns >= 0 and turns >= 1, got {warmup_turns} and {turns}")
    lines = LINES[conversation_language(index)]
    first = (index // len(LANGUAGES)) % len(KINDS)
    plan = []
    for position in range(warmup_turns + turns):
        kind = KINDS[(first + position) % len(KINDS)]
        choices = lines[kind]
        plan.append(PlannedTurn(position, choices[(position // len(KINDS)) % len(choices)], position < warmup_turns))
    return plan
