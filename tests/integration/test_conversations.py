"""Whole conversations over HTTP against the real Rasa server and action server.

Assertions are on facts from the database (order numbers, statuses, rows
written), never on exact wording, so rephrasing the bot does not break them
and a wrong answer cannot pass.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from store.models import Customer, Handoff, Order, OrderLine, ReturnRequest

pytestmark = pytest.mark.integration

CJK = re.compile(r"[\u4e00-\u9fff]")
ORDER_NUMBER = re.compile(r"SO\d{8}")


def latest_order(factory: sessionmaker[Session], external_id: str) -> Order:
    with factory() as session:
        return session.scalars(
            select(Order).join(Customer).where(Customer.external_id == external_id).order_by(Order.placed_at.desc())
        ).first()


def events_for(factory: sessionmaker[Session], sender: str) -> int:
    with factory() as session:
        return session.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar_one()


def test_signed_in_order_status_in_english(chat_as, it_store):
    order = latest_order(it_store, "C00001")
    reply = chat_as("C00001").text("where is my order?")
    assert order.order_number in reply
    assert not CJK.search(reply)


def test_signed_in_order_status_in_chinese(chat_as, it_store):
    order = latest_order(it_store, "C00002")
    reply = chat_as("C00002").text("我的订单到哪了？")
    assert order.order_number in reply
    assert CJK.search(reply)


def test_anonymous_visitor_sees_no_order(chat_as, it_store):
    reply = chat_as(None).text("where is my order?")
    assert not ORDER_NUMBER.search(reply)


def test_forged_sender_and_foreign_order_number_reveal_nothing(chat_as, it_store):
    victim = chat_as("C00001")
    victim.text("hello")
    order = latest_order(it_store, "C00001")
    # Same sender id as the victim, no token: still anonymous.
    forged = chat_as(None, sender=victim.sender)
    assert order.order_number not in forged.text(f"status of order {order.order_number}")
    # Another signed-in customer naming the victim's order number.
    other = chat_as("C00003")
    assert order.order_number not in other.text(f"what is the status of {order.order_number}")
    # A token signed with the wrong secret is anonymous too.
    from store.identity import sign_token

    intruder = chat_as(None)
    intruder.token = sign_token("C00001", "not-the-store-secret-but-long-enough", 600)
    assert order.order_number not in intruder.text(f"where is order {order.order_number}")


def test_return_through_the_form(chat_as, it_store):
    chat = chat_as("C00001")
    replies = chat.say("I want to return something")
    buttons = [b for r in replies for b in r.get("buttons") or []]
    assert buttons, f"no eligible lines offered: {replies}"
    line_id = int(re.search(r'"line_id"\s*:\s*"?(\d+)', buttons[0]["payload"]).group(1))
    chat.say(buttons[0]["payload"])
    chat.say("it arrived scratched")
    with it_store() as session:
        request = session.scalars(select(ReturnRequest).where(ReturnRequest.order_line_id == line_id)).one()
        line = session.get(OrderLine, line_id)
        customer = session.get(Customer, request.customer_id)
    assert customer.external_id == "C00001"
    assert "scratched" in request.reason
    assert line.status.value == "return_requested"


def test_complaint_is_handed_off_with_summary(chat_as, it_store):
    chat = chat_as("C00002")
    chat.say("我的快递晚了一个星期，太气人了，我要投诉")
    with it_store() as session:
        handoff = session.scalars(select(Handoff).where(Handoff.sender_id == chat.sender)).one()
    assert handoff.summary
    assert handoff.customer_id is not None


def test_delete_my_data_erases_conversation_and_consultations(chat_as, it_store):
    chat = chat_as("C00004")
    chat.say("hi")
    chat.say("where is my order")
    assert events_for(it_store, chat.sender) > 0
    with it_store() as session:
        customer_id = session.scalars(select(Customer.id).where(Customer.external_id == "C00004")).one()
    chat.say("please delete all my data")
    chat.say("/affirm")
    assert events_for(it_store, chat.sender) == 0
    with it_store() as session:
        left = session.execute(
            text("SELECT count(*) FROM consultations WHERE customer_id = :c"), {"c": customer_id}
        ).scalar_one()
        others = session.scalar(select(func.count()).select_from(Customer))
    assert left == 0
    assert others > 1  # nobody else's rows went with it
