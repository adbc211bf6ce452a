"""The store API over real HTTP (aiohttp test server) on SQLite and PostgreSQL: orders, coupons, attribution, clicks."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from store.api.app import MAX_BODY_BYTES, create_app
from store.api.clicks import click_url, record_click, sign_click
from store.attribution import attributed_revenue
from store.db import make_engine, make_session_factory
from store.models import (
    Base,
    Coupon,
    CouponGrant,
    CouponRedemption,
    ItemKind,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    RecEventType,
    RecommendationEvent,
    ServicePurchase,
)
from store.settings import Settings, load_settings
from tests.store_factory import ALICE, BOB, CAROL, NOW, Refs, build_store

TOKEN = "test-store-api-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
RACERS = 6


@dataclass
class Api:
    """A running store API and what it runs on."""

    client: TestClient
    refs: Refs
    settings: Settings
    db: sessionmaker[Session]

    async def post(self, body: Any, *, headers: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        response = await self.client.post("/v1/orders", data=data, headers=AUTH if headers is None else headers)
        return response.status, await response.json()

    async def patch(self, number: str, body: Any) -> tuple[int, dict[str, Any]]:
        response = await self.client.patch(f"/v1/orders/{number}", data=json.dumps(body), headers=AUTH)
        return response.status, await response.json()

    def count(self, table: type, *where: Any) -> int:
        with self.db() as s:
            return s.scalar(select(func.count()).select_from(table).where(*where))

    def stock(self, sku: str) -> int:
        with self.db() as s:
            return s.scalar(select(Product.stock).where(Product.sku == sku))

    def add(self, *rows: Any) -> list[int]:
        with self.db() as s, s.begin():
            s.add_all(rows)
            s.flush()
            return [row.id for row in rows]

    def grant(self, coupon: str, customer: str, *, event: bool = True) -> None:
        """Grant ``coupon`` (a refs key) to ``customer`` as the bot would, with its ``granted`` event."""
        rows: list[Any] = [CouponGrant(coupon_id=self.refs[coupon], customer_id=self.refs[customer],
                                       granted_at=NOW - timedelta(days=1), idempotency_key=f"{coupon}-{customer}")]
        if event:
            rows.append(RecommendationEvent(customer_id=self.refs[customer], sender_id=f"{customer}-chat",
                                            created_at=NOW - timedelta(days=1), kind=ItemKind.COUPON,
                                            item_id=self.refs[coupon], event=RecEventType.GRANTED,
                                            model_version="bestseller-v0", rank=1))
        self.add(*rows)

    def show(self, product: str, *, days_ago: float, customer: str = "alice", model: str = "gpt-v1") -> int:
        """A ``shown`` product recommendation ``days_ago`` days before now; returns its id."""
        return self.add(RecommendationEvent(customer_id=self.refs[customer], sender_id=f"{customer}-chat",
                                            created_at=NOW - timedelta(days=days_ago), kind=ItemKind.PRODUCT,
                                            item_id=self.refs[product], event=RecEventType.SHOWN, rank=2,
                                            model_version=model))[0]


@pytest.fixture
async def api(session_factory: sessionmaker[Session], store_url: str) -> AsyncIterator[Api]:
    refs = build_store(session_factory)
    settings = load_settings(database_url=store_url, store_api_token=TOKEN, attribution_window_days=7,
                             product_url="https://shop.test/p/{sku}")
    client = TestClient(TestServer(create_app(settings, session_factory, clock=lambda: NOW)))
    await client.start_server()
    try:
        yield Api(client, refs, settings, session_factory)
    finally:
        await client.close()


def order(number: str = "WEB-1", customer: str = ALICE, **extra: Any) -> dict[str, Any]:
    body = {"order_number": number, "customer_id": customer, "lines": [{"sku": "SKU-SHOE-1", "quantity": 2},
                                                                       {"sku": "SKU-SOCK-1", "quantity": 1}]}
    return {**body, **extra}


async def test_healthz_is_open_and_every_other_endpoint_needs_the_bearer_token(api):
    assert (await api.client.get("/healthz")).status == 200
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        status, body = await api.post(order(), headers=headers)
        assert (status, body["error"]) == (401, "unauthorized")
        response = await api.client.patch("/v1/orders/SO10000004", data="{}", headers=headers)
        assert response.status == 401
    assert api.count(Order) == 8


async def test_an_order_is_written_with_its_services_and_stock_taken(api):
    status, body = await api.post(order(services=[{"code": "gift_wrap", "sku": "SKU-SHOE-1"}]))
    assert status == 201
    assert body == {"order_number": "WEB-1", "total": "862.00", "discount": "0.00", "attributed": []}
    assert (api.stock("SKU-SHOE-1"), api.stock("SKU-SOCK-1")) == (8, 99)
    with api.db() as s:
        stored = s.scalar(select(Order).where(Order.order_number == "WEB-1"))
        assert (stored.customer_id, stored.status, stored.placed_at) == (api.refs["alice"], OrderStatus.PAID, NOW)
        lines = s.execute(select(OrderLine.product_id, OrderLine.quantity, OrderLine.unit_price)
                          .where(OrderLine.order_id == stored.id).order_by(OrderLine.product_id)).tuples().all()
        assert lines == sorted([(api.refs["trail"], 2, Decimal("399.00")), (api.refs["socks"], 1, Decimal("49.00"))])
        purchase = s.scalar(select(ServicePurchase).where(ServicePurchase.order_id == stored.id))
        assert (purchase.service_id, purchase.product_id, purchase.price) == (
            api.refs["gift_wrap"], api.refs["trail"], Decimal("15.00"))


BAD = [
    ("{not json", "body"),
    ("[]", "body"),
    (order(surprise=1), "surprise"),
    ({"customer_id": ALICE, "lines": [{"sku": "SKU-SOCK-1", "quantity": 1}]}, "order_number"),
    (order(customer="C99999"), "customer_id"),
    (order(lines=[{"sku": "NOPE", "quantity": 1}]), "lines.0.sku"),
    (order(lines=[{"sku": "SKU-SOCK-1", "quantity": 0}]), "lines.0.quantity"),
    (order(lines=[{"sku": "SKU-SOCK-1", "quantity": "2"}]), "lines.0.quantity"),
    (order(lines=[{"sku": "SKU-SOCK-1", "quantity": 1, "unit_price": -1}]), "lines.0.unit_price"),
    (order(lines=[{"sku": "SKU-SOCK-1", "quantity": 1, "unit_price": 1.001}]), "lines.0.unit_price"),
    (order(lines=[{"sku": "SKU-OLD-1", "quantity": 1}]), "lines.0.sku"),
    (order(lines=[{"sku": "SKU-SOCK-1", "quantity": 1}, {"sku": "SKU-SOCK-1", "quantity": 2}]), "lines.1.sku"),
    (order(lines=[], services=[]), "lines"),
    (order(services=[{"code": "nope"}]), "services.0.code"),
    (order(services=[{"code": "warranty", "sku": "NOPE"}]), "services.0.sku"),
    (order(services=[{"code": "warranty", "sku": "SKU-SHOE-1"}]), "services.0.sku"),
    (order(coupon_code="NOPE"), "coupon_code"),
    (order(placed_at=(NOW + timedelta(days=1)).isoformat()), "placed_at"),
    (order(placed_at="yesterday"), "placed_at"),
    (order(status="returned"), "status"),
    (order(order_number="bad number!"), "order_number"),
]


@pytest.mark.parametrize(("body", "field"), BAD, ids=[field for _, field in BAD])
async def test_each_refused_order_names_its_field_and_writes_nothing(api, body, field):
    status, answer = await api.post(body)
    assert (status, answer["field"]) == (400, field), answer
    assert answer["message"]
    assert (api.count(Order), api.stock("SKU-SHOE-1"), api.count(ServicePurchase)) == (8, 10, 0)


async def test_a_body_over_the_cap_is_refused_naming_the_body(api):
    status, answer = await api.post(json.dumps(order(note="x" * MAX_BODY_BYTES)))
    assert (status, answer["field"]) == (413, "body")


async def test_a_retry_of_the_same_order_answers_the_same_result_and_writes_nothing_more(api):
    api.show("trail", days_ago=1)
    first = await api.post(order())
    explicit = order(placed_at=NOW.isoformat() + "+00:00", status="paid",
                     lines=[{"sku": "SKU-SOCK-1", "quantity": 1, "unit_price": "49"},
                            {"sku": "SKU-SHOE-1", "quantity": 2}])
    assert first[0] == 201 and first[1]["attributed"]
    assert await api.post(order()) == (200, first[1])
    assert await api.post(explicit) == (200, first[1])
    assert (api.count(Order), api.stock("SKU-SHOE-1"), api.count(OrderLine)) == (9, 8, 12)
    assert api.count(RecommendationEvent, RecommendationEvent.event == RecEventType.PURCHASED) == 1


async def test_concurrent_duplicates_write_one_order(api):
    answers = await asyncio.gather(*(api.post(order()) for _ in range(3)))
    assert sorted(status for status, _ in answers) == [200, 200, 201]
    assert len({json.dumps(body, sort_keys=True) for _, body in answers}) == 1
    assert (api.count(Order), api.stock("SKU-SHOE-1")) == (9, 8)


@pytest.mark.parametrize(("change", "field"), [
    ({"customer_id": BOB}, "customer_id"),
    ({"lines": [{"sku": "SKU-SHOE-1", "quantity": 3}, {"sku": "SKU-SOCK-1", "quantity": 1}]}, "lines"),
    ({"lines": [{"sku": "SKU-SHOE-1", "quantity": 2, "unit_price": 1}, {"sku": "SKU-SOCK-1", "quantity": 1}]},
     "lines"),
    ({"services": [{"code": "gift_wrap"}]}, "services"),
    ({"coupon_code": "WELCOME10"}, "coupon_code"),
    ({"status": "shipped"}, "status"),
    ({"placed_at": (NOW - timedelta(days=1)).isoformat()}, "placed_at"),
])
async def test_a_different_order_under_a_stored_number_is_a_409_naming_what_differs(api, change, field):
    assert (await api.post(order()))[0] == 201
    status, answer = await api.post({**order(), **change})
    assert (status, answer["error"], answer["field"]) == (409, "conflict", field)
    assert (api.count(Order), api.stock("SKU-SHOE-1")) == (9, 8)


async def test_too_little_stock_is_a_409_naming_the_sku_and_nothing_is_written(api):
    api.grant("welcome", "alice")
    body = order(lines=[{"sku": "SKU-SOCK-1", "quantity": 5}, {"sku": "SKU-KET-1", "quantity": 4}],
                 services=[{"code": "kettle_setup", "sku": "SKU-KET-1"}], coupon_code="WELCOME10")
    status, answer = await api.post(body)
    assert (status, answer["field"]) == (409, "lines.1.sku")
    assert "only 3 of SKU-KET-1" in answer["message"]
    assert (api.stock("SKU-SOCK-1"), api.stock("SKU-KET-1")) == (100, 3)
    assert (api.count(Order), api.count(ServicePurchase), api.count(CouponRedemption)) == (8, 0, 0)
    status, answer = await api.post(order(lines=[{"sku": "SKU-EAR-1", "quantity": 1}]))
    assert (status, answer["field"]) == (409, "lines.0.sku")


async def test_a_granted_coupon_is_redeemed_once_with_its_discount_and_recorded(api):
    api.grant("welcome", "alice")
    status, answer = await api.post(order(coupon_code="WELCOME10"))
    assert (status, answer["total"], answer["discount"]) == (201, "762.30", "84.70")  # 10% of 847.00
    with api.db() as s:
        redemption = s.scalar(select(CouponRedemption))
        stored = s.get(Order, redemption.order_id)
        assert (stored.order_number, stored.total, redemption.discount) == ("WEB-1", Decimal("762.30"),
                                                                             Decimal("84.70"))
        event = s.scalar(select(RecommendationEvent).where(RecommendationEvent.event == RecEventType.REDEEMED))
        assert (event.kind, event.item_id, event.order_id, event.sender_id, event.model_version) == (
            ItemKind.COUPON, api.refs["welcome"], stored.id, "alice-chat", "bestseller-v0")
    status, answer = await api.post(order("WEB-2", coupon_code="WELCOME10"))
    assert (status, answer["field"]) == (400, "coupon_code")
    assert "no unredeemed grant" in answer["message"]
    assert (api.count(Order), api.count(CouponRedemption)) == (9, 1)


@pytest.mark.parametrize(("coupon", "customer", "lines", "why"), [
    ("gold", "alice", [{"sku": "SKU-SOCK-1", "quantity": 1}], "spend"),
    ("gold", "carol", [{"sku": "SKU-SHOE-1", "quantity": 1}], "tier"),
    ("expired", "alice", [{"sku": "SKU-SOCK-1", "quantity": 1}], "expired"),
    ("welcome", None, [{"sku": "SKU-SOCK-1", "quantity": 1}], "no unredeemed grant"),
])
async def test_a_coupon_the_order_is_not_eligible_for_is_refused_naming_coupon_code(
        api, coupon, customer, lines, why):
    if customer:
        api.grant(coupon, customer, event=False)
    with api.db() as s:
        code = s.get(Coupon, api.refs[coupon]).code
    who = {"alice": ALICE, "carol": CAROL, None: ALICE}[customer]
    status, answer = await api.post(order(customer=who, lines=lines, coupon_code=code))
    assert (status, answer["field"]) == (400, "coupon_code")
    assert why in answer["message"]
    assert (api.count(Order), api.count(CouponRedemption), api.stock("SKU-SOCK-1")) == (8, 0, 100)


async def test_an_order_is_attributed_to_what_was_shown_inside_the_window_only(api):
    api.show("trail", days_ago=2, model="gpt-v7")
    api.show("socks", days_ago=8)
    api.show("road", days_ago=1, customer="bob")
    body = order(lines=[{"sku": "SKU-SHOE-1", "quantity": 2}, {"sku": "SKU-SOCK-1", "quantity": 1},
                        {"sku": "SKU-SHOE-2", "quantity": 1}])
    status, answer = await api.post(body)
    assert status == 201
    assert answer["attributed"] == [{"kind": "product", "item": "SKU-SHOE-1", "revenue": "798.00", "rank": 2,
                                     "model_version": "gpt-v7", "fallback": False}]
    assert (await api.post(body))[1]["attributed"] == answer["attributed"]


async def test_patch_moves_an_order_along_and_refuses_impossible_moves(api):
    await api.post(order(placed_at=(NOW - timedelta(hours=2)).isoformat()))
    shipped_at = (NOW - timedelta(minutes=30)).isoformat()
    status, state = await api.patch("WEB-1", {"status": "shipped", "at": shipped_at, "carrier": "SF Express"})
    assert (status, state["status"], state["shipped_at"], state["carrier"]) == (200, "shipped", shipped_at,
                                                                              "SF Express")
    status, state = await api.patch("WEB-1", {"status": "delivered"})
    assert (status, state["delivered_at"]) == (200, NOW.isoformat())
    assert (await api.patch("WEB-1", {"status": "delivered"}))[1] == state
    status, answer = await api.patch("WEB-1", {"status": "cancelled"})
    assert (status, answer["field"]) == (409, "status")
    assert (await api.patch("NOPE-1", {"status": "shipped"}))[0] == 404
    assert (await api.patch("SO10000004", {"status": "returned"}))[1]["field"] == "status"
    assert (await api.patch("SO10000004", {"status": "shipped", "by": "me"}))[1]["field"] == "by"
    early = (NOW - timedelta(days=2)).isoformat()
    assert (await api.patch("SO10000004", {"status": "shipped", "at": early}))[1]["field"] == "at"


async def test_cancelling_a_paid_order_puts_its_stock_back(api):
    await api.post(order())
    assert api.stock("SKU-SHOE-1") == 8
    status, state = await api.patch("WEB-1", {"status": "cancelled"})
    assert (status, state["status"], api.stock("SKU-SHOE-1"), api.stock("SKU-SOCK-1")) == (200, "cancelled", 10, 100)


def reversal_events(api: Api, event: RecEventType) -> list[RecommendationEvent]:
    with api.db() as s:
        return list(s.scalars(select(RecommendationEvent).where(RecommendationEvent.event == event)
                              .order_by(RecommendationEvent.id)))


async def test_cancelling_reverses_the_attribution_and_gives_the_coupon_back_once(api):
    api.grant("welcome", "alice")
    api.show("trail", days_ago=1, model="gpt-v7")
    body = order(coupon_code="WELCOME10")
    status, placed = await api.post(body)
    assert (status, placed["discount"], len(placed["attributed"])) == (201, "84.70", 1)
    day = timedelta(days=1)
    with api.db() as s:
        assert attributed_revenue(s, since=NOW - day, until=NOW + day) == {"gpt-v7": Decimal("798.00")}
        order_id = s.scalar(select(Order.id).where(Order.order_number == "WEB-1"))

    status, state = await api.patch("WEB-1", {"status": "cancelled"})
    assert (status, state["status"]) == (200, "cancelled")
    [purchase] = reversal_events(api, RecEventType.PURCHASED)
    [reversal] = reversal_events(api, RecEventType.PURCHASE_CANCELLED)
    assert (reversal.kind, reversal.item_id, reversal.order_id, reversal.revenue, reversal.created_at) == (
        ItemKind.PRODUCT, api.refs["trail"], order_id, Decimal("-798.00"), NOW)
    assert (reversal.customer_id, reversal.sender_id, reversal.model_version, reversal.rank) == (
        purchase.customer_id, purchase.sender_id, "gpt-v7", 2)
    [redeemed] = reversal_events(api, RecEventType.REDEEMED)
    [unredeemed] = reversal_events(api, RecEventType.REDEMPTION_CANCELLED)
    assert (unredeemed.kind, unredeemed.item_id, unredeemed.order_id, unredeemed.revenue) == (
        ItemKind.COUPON, api.refs["welcome"], order_id, -redeemed.revenue)
    with api.db() as s:
        assert attributed_revenue(s, since=NOW - day, until=NOW + day) == {}
        assert s.scalar(select(CouponRedemption.released_at)) == NOW

    # Twice is the same as once; a retry of the original order still answers what it was.
    written = (api.count(RecommendationEvent), api.count(CouponRedemption), api.stock("SKU-SHOE-1"))
    assert await api.patch("WEB-1", {"status": "cancelled"}) == (200, state)
    assert (await api.post(body)) == (200, placed)
    assert (api.count(RecommendationEvent), api.count(CouponRedemption), api.stock("SKU-SHOE-1")) == written
    assert written[1:] == (1, 10)

    status, again = await api.post(order("WEB-2", coupon_code="WELCOME10"))
    assert (status, again["discount"]) == (201, "84.70")
    assert api.count(CouponRedemption, CouponRedemption.released_at.is_(None)) == 1
    status, answer = await api.post(order("WEB-3", coupon_code="WELCOME10"))
    assert (status, answer["field"]) == (400, "coupon_code")


async def test_a_coupon_given_back_is_only_usable_again_if_its_rules_still_allow(api):
    api.grant("welcome", "alice")
    assert (await api.post(order(coupon_code="WELCOME10")))[0] == 201
    assert (await api.patch("WEB-1", {"status": "cancelled"}))[0] == 200
    with api.db() as s, s.begin():
        s.get(Coupon, api.refs["welcome"]).active = False
    status, answer = await api.post(order("WEB-2", coupon_code="WELCOME10"))
    assert (status, answer["field"]) == (400, "coupon_code")
    assert "no longer active" in answer["message"]
    assert api.count(CouponRedemption, CouponRedemption.released_at.is_(None)) == 0


async def test_racing_cancellations_apply_once(api):
    api.grant("welcome", "alice")
    api.show("trail", days_ago=1)
    api.show("socks", days_ago=1)
    assert (await api.post(order(coupon_code="WELCOME10")))[0] == 201
    answers = await asyncio.gather(*(api.patch("WEB-1", {"status": "cancelled"}) for _ in range(4)))
    assert {(status, state["status"]) for status, state in answers} == {(200, "cancelled")}
    assert (api.stock("SKU-SHOE-1"), api.stock("SKU-SOCK-1")) == (10, 100)
    assert len(reversal_events(api, RecEventType.PURCHASE_CANCELLED)) == 2
    assert len(reversal_events(api, RecEventType.REDEMPTION_CANCELLED)) == 1


async def test_a_signed_click_is_recorded_and_redirects_to_the_product_page(api):
    shown = api.show("trail", days_ago=1, model="gpt-v9")
    url = click_url(api.settings, shown)
    assert url.startswith(f"http://{api.settings.bind_host}:{api.settings.store_api_port}/r/{shown}?sig=")
    parts = urlsplit(url)
    response = await api.client.get(f"{parts.path}?{parts.query}", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (302, "https://shop.test/p/SKU-SHOE-1")
    with api.db() as s:
        click = s.scalar(select(RecommendationEvent).where(RecommendationEvent.event == RecEventType.CLICKED))
        assert (click.customer_id, click.sender_id, click.kind, click.item_id, click.model_version, click.rank,
                click.created_at) == (api.refs["alice"], "alice-chat", ItemKind.PRODUCT, api.refs["trail"],
                                      "gpt-v9", 2, NOW)


def clicks(api: Api) -> list[RecommendationEvent]:
    with api.db() as s:
        return list(s.scalars(select(RecommendationEvent).where(RecommendationEvent.event == RecEventType.CLICKED)
                              .order_by(RecommendationEvent.id)))


async def test_a_repeated_click_inside_the_dedup_window_redirects_but_is_recorded_once(api):
    trail, socks, bobs = api.show("trail", days_ago=1), api.show("socks", days_ago=1), api.show(
        "trail", days_ago=1, customer="bob")
    again = api.show("trail", days_ago=0.5)  # the same item shown again in the same conversation
    settings = load_settings(database_url=api.settings.database_url, store_api_token=TOKEN,
                             product_url="https://shop.test/p/{sku}", click_dedup_seconds=600)
    clock = [NOW]
    client = TestClient(TestServer(create_app(settings, api.db, clock=lambda: clock[0])))
    await client.start_server()
    try:
        async def click(event_id: int, after_s: float) -> None:
            clock[0] = NOW + timedelta(seconds=after_s)
            url = urlsplit(click_url(settings, event_id))
            response = await client.get(f"{url.path}?{url.query}", allow_redirects=False)
            assert response.status == 302, (event_id, after_s)

        for event_id, after_s in [(trail, 0), (trail, 1), (trail, 599), (again, 300), (socks, 10), (bobs, 20),
                                  (trail, 601), (trail, 700)]:
            await click(event_id, after_s)
    finally:
        await client.close()
    recorded = [(c.item_id, c.sender_id, c.created_at) for c in clicks(api)]
    assert recorded == [(api.refs["trail"], "alice-chat", NOW), (api.refs["socks"], "alice-chat", NOW + timedelta(
        seconds=10)), (api.refs["trail"], "bob-chat", NOW + timedelta(seconds=20)),
        (api.refs["trail"], "alice-chat", NOW + timedelta(seconds=601))]


async def test_racing_clicks_of_one_link_record_one_click(api):
    shown = api.show("trail", days_ago=1)
    url = urlsplit(click_url(api.settings, shown))
    responses = await asyncio.gather(*(api.client.get(f"{url.path}?{url.query}", allow_redirects=False)
                                       for _ in range(5)))
    assert [r.status for r in responses] == [302] * 5
    # The same race with each click in its own thread and transaction, released at one moment.
    other = api.show("socks", days_ago=1)
    start = threading.Barrier(RACERS)

    def click(_: int) -> str:
        start.wait(timeout=30)
        with api.db() as s, s.begin():
            return record_click(s, other, now=NOW, dedup_seconds=600)

    with ThreadPoolExecutor(RACERS) as pool:
        assert set(pool.map(click, range(RACERS))) == {"SKU-SOCK-1"}
    assert [c.item_id for c in clicks(api)] == [api.refs["trail"], api.refs["socks"]]


async def test_a_dedup_window_of_zero_records_every_click(api):
    shown = api.show("trail", days_ago=1)
    settings = load_settings(database_url=api.settings.database_url, store_api_token=TOKEN, click_dedup_seconds=0)
    client = TestClient(TestServer(create_app(settings, api.db, clock=lambda: NOW)))
    await client.start_server()
    try:
        url = urlsplit(click_url(settings, shown))
        for _ in range(3):
            assert (await client.get(f"{url.path}?{url.query}", allow_redirects=False)).status == 302
    finally:
        await client.close()
    assert len(clicks(api)) == 3
    with pytest.raises(ValidationError, match="click_dedup_seconds"):
        load_settings(click_dedup_seconds=-1)


@pytest.mark.parametrize("configured", ["https://shop.example.com/assist", "https://shop.example.com/assist/",
                                        "http://10.0.0.5:8090"])
async def test_click_links_use_the_public_url_when_one_is_set(api, configured):
    shown = api.show("trail", days_ago=1)
    settings = load_settings(database_url=api.settings.database_url, store_api_token=TOKEN, public_url=configured)
    base = configured.rstrip("/")
    url = click_url(settings, shown)
    assert url == f"{base}/r/{shown}?sig={sign_click(settings, shown)}"
    # A proxy in front of the API strips the public path: the API itself still answers /r/<id>.
    response = await api.client.get(url[len(base):], allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (302, "https://shop.test/p/SKU-SHOE-1")


@pytest.mark.parametrize("bad", ["ftp://shop.example.com", "shop.example.com/assist", "https://",
                                 "https://shop.example.com/assist?src=chat", "https://shop.example.com/#top",
                                 "https://shop.example.com/a b"])
def test_a_bad_public_url_is_refused_at_settings_load_naming_the_key(bad, monkeypatch):
    with pytest.raises(ValidationError, match="public_url"):
        load_settings(public_url=bad)
    monkeypatch.setenv("SHOP_PUBLIC_URL", bad)
    with pytest.raises(ValidationError, match="public_url must"):
        load_settings()


async def test_a_bad_or_missing_signature_is_403_and_an_unknown_id_404(api):
    shown = api.show("trail", days_ago=1)
    other = api.show("socks", days_ago=1)
    cases = [(f"/r/{shown}?sig={sign_click(api.settings, other)}", 403), (f"/r/{shown}", 403),
             (f"/r/{shown}?sig=", 403), (f"/r/999999?sig={sign_click(api.settings, 999999)}", 404),
             ("/r/abc?sig=0", 404)]
    for path, expected in cases:
        response = await api.client.get(path, allow_redirects=False)
        assert response.status == expected, path
    assert api.count(RecommendationEvent, RecommendationEvent.event == RecEventType.CLICKED) == 0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_python_m_store_api_serves_orders_on_its_port_and_refuses_a_database_without_tables(tmp_path):
    """The entry point as a real process on a real port (SQLite: the process, not the backend, is under test)."""
    env = {**os.environ, "SHOP_DATABASE_URL": f"sqlite:///{tmp_path / 'shop.db'}", "SHOP_STORE_API_TOKEN": TOKEN}
    command = [sys.executable, "-m", "store.api", "--port", str(_free_port())]
    empty = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    assert (empty.returncode, empty.stderr.count("\n")) == (1, 1)
    assert "no store tables" in empty.stderr
    engine = make_engine(env["SHOP_DATABASE_URL"])
    Base.metadata.create_all(engine)
    build_store(make_session_factory(engine))
    engine.dispose()
    port = _free_port()
    server = subprocess.Popen([*command[:-1], str(port)], env=env, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "store API did not start"
                time.sleep(0.2)
        request = urllib.request.Request(f"{base}/v1/orders", data=json.dumps(order()).encode(), method="POST",
                                         headers={**AUTH, "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert (response.status, json.load(response)["total"]) == (201, "847.00")
    finally:
        server.terminate()
        server.wait(timeout=30)
