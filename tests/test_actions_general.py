"""Catalog, language choice, small talk, bad input, database failures and the conversation binding."""

from __future__ import annotations

import re
import string

import pytest
from rasa_sdk import Action
from sqlalchemy import select

from actions import i18n
from actions.context import ActionContext, set_context
from actions.handoff import ActionHandoff
from actions.orders import ActionDeliveryInfo, ActionOrderStatus
from actions.privacy import ActionCancelDelete, ActionConfirmDelete, ActionDeleteMyData
from actions.products import ActionProductInfo
from actions.recommend import ActionRecommendCoupons, ActionRecommendProducts, ActionRecommendServices
from actions.return_form import ValidateReturnForm
from actions.returns import (
    ActionAskReturnLineId,
    ActionAskReturnReason,
    ActionCancelReturn,
    ActionReturnPolicy,
    ActionSubmitReturn,
)
from actions.smalltalk import ActionFallback, ActionGoodbye, ActionGreet, ActionOutOfScope, ActionThank
from store.db import make_engine, make_session_factory
from store.models import Conversation
from tests.store_factory import ALICE, BOB, make_context, run_action, tracker

ANSWERING_ACTIONS: list[type[Action]] = [
    ActionGreet,
    ActionGoodbye,
    ActionThank,
    ActionOutOfScope,
    ActionFallback,
    ActionOrderStatus,
    ActionDeliveryInfo,
    ActionReturnPolicy,
    ActionAskReturnLineId,
    ActionAskReturnReason,
    ActionCancelReturn,
    ActionProductInfo,
    ActionRecommendProducts,
    ActionRecommendCoupons,
    ActionRecommendServices,
    ActionHandoff,
    ActionConfirmDelete,
    ActionDeleteMyData,
    ActionCancelDelete,
]


def test_every_catalog_key_has_english_and_chinese_with_the_same_placeholders():
    fields = lambda template: sorted(f for _, f, _, _ in string.Formatter().parse(template) if f)  # noqa: E731
    for key, forms in i18n.MESSAGES.items():
        assert set(forms) == {"en", "zh"}, key
        assert forms["en"].strip() and forms["zh"].strip() or key == "list.separator", key
        assert fields(forms["en"]) == fields(forms["zh"]), key
        # No untranslated English left in a Chinese form (placeholders aside).
        assert not re.search(r"[A-Za-z]{3,}", re.sub(r"\{\w+\}", "", forms["zh"])), key


@pytest.mark.parametrize(
    ("text", "slot", "profile", "expected"),
    [
        ("where is my order", "zh", "zh", "en"),
        ("我的订单在哪", "en", "en", "zh"),
        ("推荐个礼物 for my dad", None, "en", "zh"),
        ("I'd like 跑鞋 for running in the park", None, "zh", "en"),
        ("/affirm", "zh", "en", "zh"),
        ("ok", None, "zh", "zh"),
        ("👍", None, None, "en"),
        ("SO12345678", None, "zh", "zh"),
        ("", "xx", "zh-CN", "zh"),
        ("123", None, None, "en"),
    ],
)
def test_language_choice(text, slot, profile, expected):
    assert i18n.choose_language(text, slot, profile) == expected


def test_greet_uses_name_when_signed_in_and_profile_language_when_text_is_neutral(store):
    alice = run_action(ActionGreet(), tracker("hello there", customer=ALICE))
    assert "Alice" in alice.text and alice.slot("lang") == "en" and alice.buttons
    bob = run_action(ActionGreet(), tracker("👋", customer=BOB))
    assert "王波" in bob.text and bob.slot("lang") == "zh"
    anonymous = run_action(ActionGreet(), tracker("hi"))
    assert "Alice" not in anonymous.text and anonymous.slot("lang") == "en"


def test_small_talk_in_both_languages(store):
    for action in (ActionThank, ActionGoodbye, ActionOutOfScope, ActionFallback):
        assert run_action(action(), tracker("thanks a lot, bye")).slot("lang") == "en"
        out = run_action(action(), tracker("今天天气怎么样"))
        assert out.slot("lang") == "zh" and re.search(r"[\u4e00-\u9fff]", out.text)
    assert len(run_action(ActionFallback(), tracker("asdf qwer")).buttons) >= 3


BAD_TEXTS = [
    "",
    None,
    42,
    "x" * 10_000,
    "😀🔥" * 300,
    "a\x00b\x1b[31mc\u202ed",
    "'; DROP TABLE orders; --",
    "SO12345678' OR '1'='1",
    "%s %(x)s {0} {name}",
    '/inform{"line_id": [1,2]}',
    "\n\t  ",
]


def test_no_action_crashes_on_bad_input(store):
    for action in ANSWERING_ACTIONS:
        for text in BAD_TEXTS:
            for customer in (None, ALICE):
                out = run_action(action(), tracker(text, customer=customer, slots={"return_line_id": text}))
                assert out.slot("lang") in ("en", "zh"), (action, text)
                assert out.messages, (action, text)
    for text in BAD_TEXTS:
        out = run_action(ValidateReturnForm(), tracker(text, customer=ALICE, candidates={"return_line_id": text}))
        assert out.slot("return_line_id") is None


def test_submit_return_with_garbage_slots_creates_nothing(store):
    for value in (None, "abc", "-1", "9" * 30, ["1"], {"a": 1}):
        out = run_action(
            ActionSubmitReturn(),
            tracker("ok", customer=ALICE, slots={"return_line_id": value, "return_reason": "too big"}),
        )
        assert out.slot("return_line_id") is None and "registered" not in out.text


def test_over_long_messages_get_asked_to_be_short_and_answer_nothing_else(store):
    out = run_action(ActionOrderStatus(), tracker("a " * 1500 + "SO10000003", customer=ALICE))
    assert "2000" in out.text and "SO1000000" not in out.text
    out = run_action(ActionOrderStatus(), tracker("我的订单" * 600, customer=ALICE))
    assert "2000" in out.text and re.search(r"[\u4e00-\u9fff]", out.text)
    # Just under the limit is read normally.
    out = run_action(ActionOrderStatus(), tracker("a " * 900 + "SO10000004", customer=ALICE))
    assert "SO10000004" in out.text


def test_database_failure_becomes_an_apology_in_the_right_language(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")  # no tables at all
    base = make_context(make_session_factory(engine))
    set_context(
        ActionContext(settings=base.settings, engine=engine, session_factory=base.session_factory, clock=base.clock)
    )
    try:
        for action in ANSWERING_ACTIONS + [ValidateReturnForm]:
            en = run_action(action(), tracker("where is my order?", customer=ALICE))
            zh = run_action(action(), tracker("我的订单在哪", customer=ALICE))
            assert en.text == i18n.t("error.database", "en"), action
            assert zh.text == i18n.t("error.database", "zh"), action
        # Actions that hold conversation state leave it clean rather than half-done.
        for action, slot in (
            (ActionSubmitReturn, "return_line_id"),
            (ValidateReturnForm, "requested_slot"),
            (ActionDeleteMyData, "pending_confirmation"),
        ):
            out = run_action(action(), tracker("yes", customer=ALICE, slots={"return_line_id": "1"}))
            assert out.slot(slot) is None, action
    finally:
        set_context(None)
        engine.dispose()


def test_conversation_binding_is_recorded_and_not_undone_by_anonymous_turns(store, session_factory):
    run_action(ActionGreet(), tracker("hi", customer=ALICE, sender_id="web-7"))
    run_action(ActionGreet(), tracker("hi again", sender_id="web-7"))
    run_action(ActionGreet(), tracker("hi", sender_id="web-8"))
    with session_factory() as s:
        rows = {c.sender_id: c.customer_id for c in s.scalars(select(Conversation))}
    assert rows["web-7"] == store["alice"] and rows["web-8"] is None
