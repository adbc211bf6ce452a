"""Erasure of a customer's data (counts, other customers untouched), and handoff rows."""

from __future__ import annotations

from sqlalchemy import func, select, text

from actions.handoff import ActionHandoff
from actions.privacy import ActionCancelDelete, ActionConfirmDelete, ActionDeleteMyData
from store.models import Consultation, Conversation, Handoff, RecommendationEvent
from tests.store_factory import ALICE, BOB, run_action, tracker


def count(factory, model, **where) -> int:
    with factory() as s:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return s.scalar(query)


def add_rasa_events(engine, rows: list[tuple[str, str]]) -> None:
    """A stand-in for Rasa's ``events`` table with (sender_id, type_name) rows."""
    with engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), type_name VARCHAR(255))")
        )
        for i, (sender, kind) in enumerate(rows, start=1):
            connection.execute(
                text("INSERT INTO events (id, sender_id, type_name) VALUES (:i, :s, :k)"),
                {"i": i, "s": sender, "k": kind},
            )


def test_confirm_asks_with_buttons_and_sets_pending(store):
    out = run_action(ActionConfirmDelete(), tracker("删除我的数据", customer=ALICE))
    assert out.slot("pending_confirmation") == "delete" and out.slot("lang") == "zh"
    assert [b["payload"] for b in out.buttons] == ["/affirm", "/deny"]


def test_cancel_deletes_nothing(store, session_factory):
    out = run_action(ActionCancelDelete(), tracker("no", customer=ALICE, slots={"pending_confirmation": "delete"}))
    assert out.slot("pending_confirmation") is None and "nothing" in out.text.lower()
    assert count(session_factory, Consultation, customer_id=store["alice"]) == 2


def test_delete_erases_customer_rows_and_reports_counts(store, session_factory, engine):
    add_rasa_events(engine, [("alice-old", "user"), ("alice-old", "bot"), ("bob-old", "user"), ("conv-1", "user")])
    out = run_action(
        ActionDeleteMyData(), tracker("/affirm", customer=ALICE, slots={"lang": "en", "pending_confirmation": "delete"})
    )
    assert out.slot("conversation_erased") is True and out.slot("pending_confirmation") is None
    # Seeded for Alice: 2 consultations, 3 recommendation events, 1 handoff, 1 other conversation with 2 messages.
    for number in ("consultations 2", "records 3", "requests 1", "conversations 1", "2 stored messages"):
        assert number in out.text, number
    alice = store["alice"]
    for model in (Consultation, RecommendationEvent, Handoff, Conversation):
        assert count(session_factory, model, customer_id=alice) == 0, model
    with engine.connect() as connection:
        left = connection.execute(text("SELECT sender_id FROM events ORDER BY id")).scalars().all()
    # Bob's conversation stays; this conversation's own rows are left to the tracker store.
    assert left == ["bob-old", "conv-1"]
    bob = store["bob"]
    assert count(session_factory, Consultation, customer_id=bob) == 1
    assert count(session_factory, RecommendationEvent, customer_id=bob) == 2
    assert count(session_factory, Handoff, customer_id=bob) == 1
    assert count(session_factory, Conversation, customer_id=bob) == 1


def test_delete_without_events_table_still_works_in_chinese(store, session_factory):
    out = run_action(
        ActionDeleteMyData(), tracker("/affirm", customer=BOB, slots={"lang": "zh", "pending_confirmation": "delete"})
    )
    assert out.slot("lang") == "zh" and "历史咨询 1 条" in out.text
    assert count(session_factory, Consultation, customer_id=store["bob"]) == 0
    assert count(session_factory, Consultation, customer_id=store["alice"]) == 2


def test_anonymous_delete_erases_only_this_conversation(store, session_factory):
    out = run_action(
        ActionDeleteMyData(), tracker("/affirm", sender_id="visitor-9", slots={"pending_confirmation": "delete"})
    )
    assert out.slot("conversation_erased") is True and "not signed in" in out.text
    assert count(session_factory, Consultation) == 3
    assert count(session_factory, Conversation, sender_id="visitor-9") == 0


def test_handoff_records_reason_summary_customer_and_latest_order(store, session_factory):
    history = [
        {"event": "user", "text": "my kettle arrived broken"},
        {"event": "bot", "text": "..."},
        {"event": "user", "text": "/affirm"},
    ]
    out = run_action(
        ActionHandoff(),
        tracker("this is unacceptable!", customer=ALICE, intent="complain", events=history, sender_id="conv-h"),
    )
    assert "9:00-21:00" in out.text and "sorry" in out.text.lower()
    with session_factory() as s:
        handoff = s.scalars(select(Handoff).where(Handoff.sender_id == "conv-h")).one()
    assert handoff.reason == "complaint" and handoff.customer_id == store["alice"]
    assert "kettle arrived broken" in handoff.summary and "unacceptable" in handoff.summary
    assert "SO10000004" in handoff.summary and "/affirm" not in handoff.summary


def test_repeated_handoff_in_one_conversation_keeps_one_open_ticket(store, session_factory):
    for _ in range(2):
        out = run_action(ActionHandoff(), tracker("转人工", intent="request_human", sender_id="conv-z"))
    assert out.slot("lang") == "zh" and "每天 9:00-21:00" in out.text
    with session_factory() as s:
        rows = s.scalars(select(Handoff).where(Handoff.sender_id == "conv-z")).all()
    assert len(rows) == 1 and rows[0].reason == "request" and rows[0].customer_id is None


def test_a_failure_midway_erases_nothing(store, session_factory, engine):
    # An `events` table without `sender_id` makes the last DELETE fail after the others ran.
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, type_name VARCHAR(255))"))
    out = run_action(
        ActionDeleteMyData(), tracker("/affirm", customer=ALICE, slots={"lang": "en", "pending_confirmation": "delete"})
    )
    assert out.slot("conversation_erased") == "<unset>" and "sorry" in out.text.lower()
    alice = store["alice"]
    assert count(session_factory, Consultation, customer_id=alice) == 2
    assert count(session_factory, RecommendationEvent, customer_id=alice) == 3
    assert count(session_factory, Conversation, sender_id="alice-old") == 1


def test_delete_without_a_pending_question_erases_nothing(store, session_factory):
    out = run_action(ActionDeleteMyData(), tracker("yes", customer=ALICE, slots={"lang": "en"}))
    assert out.slot("conversation_erased", None) is None
    assert count(session_factory, Consultation, customer_id=store["alice"]) == 2


def test_any_other_action_cancels_a_pending_deletion(store):
    from actions.smalltalk import ActionGreet

    out = run_action(ActionGreet(), tracker("hi", customer=ALICE, slots={"pending_confirmation": "delete"}))
    assert out.slot("pending_confirmation") is None  # set to None, not merely left unset
