"""Order status and delivery info: signed in, anonymous, forged and expired tokens, other customers' orders."""

from __future__ import annotations

import time

import jwt

from actions.orders import ActionDeliveryInfo, ActionOrderStatus
from tests.store_factory import ALICE, BOB, run_action, token, tracker


def test_latest_order_of_signed_in_customer(store):
    out = run_action(ActionOrderStatus(), tracker("where is my order?", customer=ALICE))
    # Alice's latest order is SO10000004 (paid yesterday, road shoes).
    assert "SO10000004" in out.text
    assert "Road Running Shoes" in out.text
    assert out.slot("lang") == "en"


def test_named_order_shows_carrier_tracking_and_lines(store):
    out = run_action(ActionOrderStatus(), tracker("status of order so10000003 please", customer=ALICE))
    assert "SO10000003" in out.text
    assert "SF Express" in out.text and "SF10000003" in out.text
    assert "Electric Kettle" in out.text


def test_chinese_question_gets_chinese_answer_with_chinese_names(store):
    out = run_action(ActionOrderStatus(), tracker("我的订单SO10000001到哪了", customer=ALICE))
    assert out.slot("lang") == "zh"
    assert "越野跑鞋" in out.text and "已送达" in out.text


def test_other_customers_order_reads_like_unknown_order(store):
    theirs = run_action(ActionOrderStatus(), tracker("where is SO20000001", customer=ALICE)).text
    unknown = run_action(ActionOrderStatus(), tracker("where is SO99999999", customer=ALICE)).text
    assert theirs == unknown
    assert "SO20000001" not in theirs and "Kettle" not in theirs and "SF20000001" not in theirs


def test_bob_sees_his_own_order(store):
    out = run_action(ActionOrderStatus(), tracker("where is SO20000001", customer=BOB))
    assert "SO20000001" in out.text
    # Bob's profile is Chinese, but an English question is answered in English.
    assert out.slot("lang") == "en"


BAD_METADATA = [
    None,
    {},
    ["token"],
    42,
    "token",
    {"token": 12345},
    {"token": ["a", "b"]},
    {"token": "not-a-jwt"},
    {"token": "x" * 10_000},
    {
        "token": jwt.encode(
            {"sub": ALICE, "exp": int(time.time()) + 600, "iss": "shop"}, "wrong-secret-" * 3, algorithm="HS256"
        )
    },
    {"token": jwt.encode({"sub": ALICE, "exp": int(time.time()) + 600, "iss": "shop"}, None, algorithm="none")},
    {"token": token(ALICE, issued_at=time.time() - 7200, ttl_s=3600)},
]


def test_bad_or_missing_identity_is_anonymous(store):
    for metadata in BAD_METADATA:
        out = run_action(ActionOrderStatus(), tracker("where is my order SO10000001", metadata=metadata))
        assert "Trail" not in out.text and "sign in" in out.text.lower(), metadata


def test_sender_id_is_not_identity(store):
    out = run_action(ActionOrderStatus(), tracker("where is my order", sender_id=ALICE))
    assert "SO1000" not in out.text


def test_token_for_unknown_customer_is_anonymous(store):
    out = run_action(ActionOrderStatus(), tracker("where is my order", metadata={"token": token("cust-nobody")}))
    assert "sign in" in out.text.lower()


def test_delivery_info_lists_methods_with_fees_and_threshold(store):
    out = run_action(ActionDeliveryInfo(), tracker("how long does shipping take?"))
    assert "Standard" in out.text and "Express" in out.text
    assert "3-5" in out.text and "1-2" in out.text
    assert "10.00 CNY" in out.text and "25.00 CNY" in out.text and "99.00 CNY" in out.text


def test_delivery_info_in_chinese(store):
    out = run_action(ActionDeliveryInfo(), tracker("运费多少？几天到？"))
    assert out.slot("lang") == "zh"
    assert "标准快递" in out.text and "特快专递" in out.text
