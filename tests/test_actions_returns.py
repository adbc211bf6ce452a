"""Return policy and the return form: listing lines, validation, submission, idempotency, cancellation."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from actions.context import set_context
from actions.return_form import ValidateReturnForm
from actions.returns import (
    ActionAskReturnLineId,
    ActionAskReturnReason,
    ActionCancelReturn,
    ActionReturnPolicy,
    ActionSubmitReturn,
)
from store.models import LineStatus, OrderLine, ReturnRequest
from tests.store_factory import ALICE, BOB, CAROL, build_store, make_context, run_action, tracker

FORM = "return_form"


def button_line_ids(out) -> list[int]:
    return [int(json.loads(b["payload"][len("/inform") :])["line_id"]) for b in out.buttons]


def validate(text, *, customer=ALICE, candidates=None, entities=None, slots=None):
    track = tracker(
        text,
        customer=customer,
        active_loop=FORM,
        candidates=candidates,
        entities=entities,
        slots={"requested_slot": "return_line_id", **(slots or {})},
    )
    return run_action(ValidateReturnForm(), track)


def test_policy_states_the_configured_window_and_offers_to_start(session_factory):
    build_store(session_factory)
    set_context(make_context(session_factory, return_window_days=14))
    try:
        out = run_action(ActionReturnPolicy(), tracker("can I return shoes?"))
    finally:
        set_context(None)
    assert "14" in out.text
    assert [b["payload"] for b in out.buttons] == ["/start_return"]


def test_ask_lists_only_eligible_lines_as_buttons(store):
    out = run_action(ActionAskReturnLineId(), tracker("I want to return something", customer=ALICE))
    # Delivered within 30 days, line ok and no return yet: only the two lines of SO10000001.
    assert sorted(button_line_ids(out)) == sorted([store["l_trail"], store["l_socks"]])
    assert "Trail Running Shoes" in " ".join(b["title"] for b in out.buttons)


def test_ask_in_chinese_uses_chinese_names(store):
    out = run_action(ActionAskReturnLineId(), tracker("我要退货", customer=ALICE))
    assert out.slot("lang") == "zh" and "越野跑鞋" in " ".join(b["title"] for b in out.buttons)


def test_activation_stops_form_for_anonymous_and_for_nothing_eligible(store):
    anonymous = validate("I want to return my shoes", customer=None)
    assert anonymous.slot("requested_slot") is None and "sign in" in anonymous.text.lower()
    carol = validate("I want to return my shoes", customer=CAROL)
    assert carol.slot("requested_slot") is None and "30 days" in carol.text


def test_nothing_to_validate_returns_no_events_so_rasa_can_reject_the_form(store):
    # At activation, and on a "no" the form does not map: any SlotSet (even `lang`)
    # would count as a validated answer and keep the form from handing over to the rules.
    for text in ("I want to return my shoes", "no, forget it", "我要退货"):
        out = validate(text)
        assert out.events == [] and out.messages == [], text


def test_button_payload_line_is_accepted(store):
    line = store["l_trail"]
    out = validate(
        f'/inform{{"line_id":"{line}"}}',
        candidates={"return_line_id": str(line)},
        entities=[{"entity": "line_id", "value": str(line)}],
    )
    assert out.slot("return_line_id") == str(line) and out.messages == []


def test_lines_not_owned_or_not_eligible_are_rejected_clearly(store):
    for line in ["l_bob_kettle", "l_speaker_old", "l_requested", "l_road", "l_returned", "l_earbuds"]:
        forged = str(store[line])
        out = validate(
            f'/inform{{"line_id":"{forged}"}}',
            candidates={"return_line_id": forged},
            entities=[{"entity": "line_id", "value": forged}],
        )
        assert out.slot("return_line_id") is None, line
        assert "not eligible" in out.text, line


def test_payload_without_entity_still_resolves(store):
    text = f'/inform{{"line_id": "{store["l_socks"]}"}}'
    out = validate(text, candidates={"return_line_id": text})
    assert out.slot("return_line_id") == str(store["l_socks"])


TYPED = [
    ("2", "l_socks"),
    ("#1", "l_trail"),
    ("the running socks", "l_socks"),
    ("跑步袜", "l_socks"),
    ("trail shoes", "l_trail"),
    ("SO10000001 socks", "l_socks"),
    ("the blue one", None),
    ("7", None),
    ("", None),
    ("'; DROP TABLE orders; --", None),
    ("😀" * 50, None),
]


def test_typed_answers_resolve_by_number_or_fuzzy_name(store):
    for typed, expected in TYPED:
        out = validate(typed, candidates={"return_line_id": typed})
        assert out.slot("return_line_id") == (str(store[expected]) if expected else None), typed
        if expected is None:
            assert out.text, typed  # the customer is told what went wrong


REASONS = [
    ("too small", True),
    ("太小了", True),
    ("x" * 500, True),
    ("ab", False),
    ("x" * 501, False),
    ("/deny", False),
    ("   \x00\x01  ", False),
    (None, False),
]


def test_reason_length_is_checked(store):
    for reason, ok in REASONS:
        out = validate(
            reason,
            candidates={"return_reason": reason},
            slots={"return_line_id": str(store["l_trail"]), "requested_slot": "return_reason"},
        )
        assert (out.slot("return_reason") is not None) == ok, reason
        assert bool(out.messages) != ok, reason


def test_ask_reason_names_the_chosen_product(store):
    out = run_action(
        ActionAskReturnReason(), tracker("2", customer=ALICE, slots={"return_line_id": str(store["l_socks"])})
    )
    assert "Running Socks" in out.text


def count_requests(factory, line_id) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(ReturnRequest).where(ReturnRequest.order_line_id == line_id))


def test_submit_creates_once_and_is_idempotent(store, session_factory):
    line = store["l_trail"]
    slots = {"return_line_id": str(line), "return_reason": "it is too small"}
    first = run_action(ActionSubmitReturn(), tracker("it is too small", customer=ALICE, slots=slots))
    second = run_action(ActionSubmitReturn(), tracker("it is too small", customer=ALICE, slots=slots))
    assert count_requests(session_factory, line) == 1
    with session_factory() as s:
        assert s.get(OrderLine, line).status == LineStatus.RETURN_REQUESTED
        reference = f"R{s.scalar(select(ReturnRequest.id).where(ReturnRequest.order_line_id == line)):06d}"
    assert reference in first.text and reference in second.text
    assert first.text != second.text
    for out in (first, second):
        assert out.slot("return_line_id") is None and out.slot("return_reason") is None


def test_submit_refuses_another_customers_line(store, session_factory):
    line = store["l_bob_kettle"]
    out = run_action(
        ActionSubmitReturn(),
        tracker("broken", customer=ALICE, slots={"return_line_id": str(line), "return_reason": "broken"}),
    )
    assert count_requests(session_factory, line) == 0
    assert "Kettle" not in out.text
    with session_factory() as s:
        assert s.get(OrderLine, line).status == LineStatus.OK


def test_submit_after_early_stop_is_silent_and_clears(store):
    out = run_action(ActionSubmitReturn(), tracker("I want to return", customer=None))
    assert out.messages == [] and out.slot("return_line_id") is None


def test_bob_submits_in_chinese(store, session_factory):
    line = store["l_bob_kettle"]
    out = run_action(
        ActionSubmitReturn(),
        tracker("坏了不能用", customer=BOB, slots={"return_line_id": str(line), "return_reason": "坏了不能用"}),
    )
    assert out.slot("lang") == "zh" and "电热水壶" in out.text
    assert count_requests(session_factory, line) == 1


def test_cancel_confirms_nothing_changed(store, session_factory):
    out = run_action(
        ActionCancelReturn(), tracker("no, stop", customer=ALICE, slots={"return_line_id": str(store["l_trail"])})
    )
    assert "Nothing was changed" in out.text
    assert out.slot("return_line_id") is None and out.slot("requested_slot") is None
    assert count_requests(session_factory, store["l_trail"]) == 0


def test_concurrent_submissions_create_one_request(store, session_factory):
    line = store["l_socks"]
    slots = {"return_line_id": str(line), "return_reason": "wrong size"}
    with ThreadPoolExecutor(max_workers=4) as pool:
        outs = list(
            pool.map(
                lambda n: run_action(ActionSubmitReturn(), tracker("wrong size", customer=ALICE, slots=slots)),
                range(4),
            )
        )
    assert count_requests(session_factory, line) == 1
    replies = [out.text for out in outs]
    assert sum("is registered" in reply for reply in replies) == 1, replies
    # The others see the request already made or, on SQLite's single writer, get the apology.
    assert all("is registered" in r or "already requested" in r or "Sorry" in r for r in replies), replies
