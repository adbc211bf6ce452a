"""A tiny hand-made store for the action tests, and a harness to run actions.

``build_store`` seeds three categories, products in both languages, three
customers, orders in every status, coupons, services, consultations and
some history; ``Refs`` names the ids tests need. The harness builds a
rasa-sdk ``Tracker`` the way Rasa sends one and runs an action with a
``CollectingDispatcher``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from actions.context import ActionContext
from store.identity import sign_token
from store.models import (
    Category,
    Consultation,
    Conversation,
    Coupon,
    Customer,
    Handoff,
    ItemKind,
    LineStatus,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    RecEventType,
    RecommendationEvent,
    ReturnRequest,
    Service,
    ServiceScope,
    ShippingMethod,
    Tier,
)
from store.settings import load_settings

NOW = datetime(2026, 11, 1, 12, 0, 0)
SECRET = "test-secret-for-actions-0123456789abcdef"
ALICE, BOB, CAROL = "cust-alice", "cust-bob", "cust-carol"


@dataclass
class Refs:
    """Ids of what ``build_store`` created, by short name."""

    ids: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


def build_store(factory: sessionmaker[Session], now: datetime = NOW) -> Refs:
    """Seed the hand-made store; returns the ids of its rows by name."""
    refs = Refs()
    days = lambda n: now - timedelta(days=n)  # noqa: E731
    with factory() as s, s.begin():
        cats = {
            "shoes": Category(code="shoes", name_en="Shoes", name_zh="鞋类"),
            "electronics": Category(code="electronics", name_en="Electronics", name_zh="数码电子"),
            "home": Category(code="home_kitchen", name_en="Home & Kitchen", name_zh="家居厨房"),
        }
        s.add_all(cats.values())
        s.flush()

        def product(key, sku, en, zh, cat, price, stock, active=True, **attrs):  # noqa: ANN001, ANN003
            p = Product(
                sku=sku,
                name_en=en,
                name_zh=zh,
                category_id=cats[cat].id,
                price=Decimal(price),
                stock=stock,
                attributes=attrs,
                active=active,
                brand="Acme",
            )
            s.add(p)
            return key, p

        products = dict(
            [
                product(
                    "trail",
                    "SKU-SHOE-1",
                    "Trail Running Shoes",
                    "越野跑鞋",
                    "shoes",
                    "399",
                    10,
                    sizes="39-45",
                    weight="280 g",
                ),
                product("road", "SKU-SHOE-2", "Road Running Shoes", "公路跑鞋", "shoes", "459", 5),
                product("socks", "SKU-SOCK-1", "Running Socks", "跑步袜", "shoes", "49", 100),
                product("earbuds", "SKU-EAR-1", "Wireless Earbuds", "无线耳机", "electronics", "299", 0),
                product("speaker", "SKU-SPK-1", "Bluetooth Speaker", "蓝牙音箱", "electronics", "199", 7),
                product("kettle", "SKU-KET-1", "Electric Kettle", "电热水壶", "home", "129", 3),
                product("lamp", "SKU-OLD-1", "Retired Desk Lamp", "旧台灯", "home", "89", 4, active=False),
            ]
        )
        standard = ShippingMethod(
            code="standard",
            name_en="Standard",
            name_zh="标准快递",
            days_min=3,
            days_max=5,
            fee=Decimal("10"),
            free_over=Decimal("99"),
        )
        express = ShippingMethod(
            code="express",
            name_en="Express",
            name_zh="特快专递",
            days_min=1,
            days_max=2,
            fee=Decimal("25"),
            free_over=None,
        )
        people = {
            "alice": Customer(external_id=ALICE, name="Alice", tier=Tier.GOLD, language="en", created_at=days(400)),
            "bob": Customer(external_id=BOB, name="王波", tier=Tier.SILVER, language="zh", created_at=days(300)),
            "carol": Customer(external_id=CAROL, name="Carol", tier=Tier.BRONZE, language="en", created_at=days(10)),
        }
        s.add_all([standard, express, *people.values()])
        s.flush()

        def order(key, number, who, status, placed, lines, shipped=None, delivered=None):  # noqa: ANN001
            o = Order(
                order_number=number,
                customer_id=people[who].id,
                status=status,
                placed_at=days(placed),
                shipped_at=days(shipped) if shipped is not None else None,
                delivered_at=days(delivered) if delivered is not None else None,
                shipping_method_id=standard.id,
                carrier="SF Express" if shipped is not None else "",
                tracking_number=f"SF{number[2:]}" if shipped is not None else "",
            )
            for line_key, item, qty, line_status in lines:
                line = OrderLine(
                    product_id=products[item].id, quantity=qty, unit_price=products[item].price, status=line_status
                )
                o.lines.append(line)
                refs.ids[line_key] = line
            o.total = sum((line.unit_price * line.quantity for line in o.lines), Decimal("0"))
            s.add(o)
            refs.ids[key] = o
            return o

        ok, rr, done = LineStatus.OK, LineStatus.RETURN_REQUESTED, LineStatus.RETURNED
        order(
            "o_recent",
            "SO10000001",
            "alice",
            OrderStatus.DELIVERED,
            8,
            [("l_trail", "trail", 1, ok), ("l_socks", "socks", 2, ok)],
            7,
            5,
        )
        order("o_old", "SO10000002", "alice", OrderStatus.DELIVERED, 70, [("l_speaker_old", "speaker", 1, ok)], 66, 60)
        order("o_shipped", "SO10000003", "alice", OrderStatus.SHIPPED, 3, [("l_kettle_a", "kettle", 1, ok)], 2)
        order("o_paid", "SO10000004", "alice", OrderStatus.PAID, 1, [("l_road", "road", 1, ok)])
        order("o_cancelled", "SO10000005", "alice", OrderStatus.CANCELLED, 10, [("l_earbuds", "earbuds", 5, ok)])
        order(
            "o_returned", "SO10000006", "alice", OrderStatus.RETURNED, 25, [("l_returned", "speaker", 1, done)], 24, 20
        )
        order(
            "o_requested", "SO10000007", "alice", OrderStatus.DELIVERED, 12, [("l_requested", "speaker", 1, rr)], 11, 9
        )
        order(
            "o_bob",
            "SO20000001",
            "bob",
            OrderStatus.DELIVERED,
            6,
            [("l_bob_kettle", "kettle", 1, ok), ("l_bob_socks", "socks", 3, ok)],
            5,
            3,
        )
        s.flush()
        s.add(
            ReturnRequest(
                order_line_id=refs.ids["l_requested"].id,
                customer_id=people["alice"].id,
                reason="too loud",
                created_at=days(8),
            )
        )
        coupon = lambda code, kind, value, **kw: Coupon(  # noqa: E731
            code=code,
            name_en=f"{code} coupon",
            name_zh=f"{code} 优惠券",
            discount_type=kind,
            discount_value=Decimal(value),
            valid_from=kw.pop("start", days(30)),
            valid_to=kw.pop("end", days(-30)),
            **kw,
        )
        coupons = {
            "welcome": coupon("WELCOME10", "percent", "10"),
            "gold": coupon("GOLD50", "amount", "50", min_spend=Decimal("300"), min_tier=Tier.GOLD),
            "expired": coupon("EXPIRED5", "amount", "5", end=days(1)),
            "make_good": coupon("SORRY20", "amount", "20", make_good=True),
        }
        warranty = Service(
            code="warranty",
            kind="warranty",
            name_en="Extended Warranty",
            name_zh="延长保修",
            price=Decimal("59"),
            scopes=[ServiceScope(category_id=cats["electronics"].id)],
        )
        wrap = Service(
            code="gift_wrap",
            kind="gift_wrap",
            name_en="Gift Wrapping",
            name_zh="礼品包装",
            price=Decimal("15"),
            scopes=[ServiceScope(category_id=cats["shoes"].id)],
        )
        install = Service(
            code="kettle_setup",
            kind="installation",
            name_en="Kettle Descaling Plan",
            name_zh="水壶除垢服务",
            price=Decimal("39"),
            scopes=[ServiceScope(product_id=products["kettle"].id)],
        )
        s.add_all([*coupons.values(), warranty, wrap, install])
        for who, n in (("alice", 2), ("bob", 1)):
            for i in range(n):
                s.add(
                    Consultation(
                        customer_id=people[who].id, created_at=days(40 + i), topic="delivery", text=f"{who} asked {i}"
                    )
                )
            s.add(
                Conversation(
                    sender_id=f"{who}-old", customer_id=people[who].id, started_at=days(40), last_seen_at=days(40)
                )
            )
            for _ in range(n + 1):
                s.add(
                    RecommendationEvent(
                        customer_id=people[who].id,
                        sender_id=f"{who}-old",
                        created_at=days(40),
                        kind=ItemKind.PRODUCT,
                        item_id=products["socks"].id,
                        event=RecEventType.SHOWN,
                    )
                )
            s.add(
                Handoff(
                    sender_id=f"{who}-old",
                    customer_id=people[who].id,
                    created_at=days(40),
                    reason="request",
                    summary="old",
                )
            )
        s.flush()
        for name, row in [*refs.ids.items()]:
            refs.ids[name] = row.id
        for group in (cats, products, people, coupons):
            refs.ids.update({name: row.id for name, row in group.items()})
        refs.ids.update(
            standard=standard.id, express=express.id, warranty=warranty.id, gift_wrap=wrap.id, kettle_setup=install.id
        )
    return refs


def make_context(factory: sessionmaker[Session], now: datetime = NOW, **overrides: Any) -> ActionContext:
    """An action context over ``factory``'s database with test settings and a fixed clock."""
    engine = factory.kw["bind"]
    settings = load_settings(
        database_url=engine.url.render_as_string(hide_password=False).replace("+psycopg", ""),
        token_secret=SECRET,
        **overrides,
    )
    return ActionContext(settings=settings, engine=engine, session_factory=factory, clock=lambda: now)


def token(external_id: str, *, issued_at: float | None = None, ttl_s: int = 3600, secret: str = SECRET) -> str:
    """A customer token as the store signs it, issued now (real time: PyJWT checks expiry against it)."""
    return sign_token(external_id, secret, ttl_s, now=issued_at)


def tracker(
    text: Any = "",
    *,
    customer: str | None = None,
    metadata: Any = None,
    sender_id: str = "conv-1",
    slots: dict[str, Any] | None = None,
    intent: str = "",
    entities: list[dict[str, Any]] | None = None,
    events: list[dict[str, Any]] | None = None,
    active_loop: str | None = None,
    candidates: dict[str, Any] | None = None,
) -> Tracker:
    """A tracker like the one Rasa sends; ``customer`` signs a valid token into the metadata.

    ``candidates`` are slot values a form extracted this turn: appended after
    the form's action event, as Rasa does before calling the form's validator.
    """
    if customer is not None:
        metadata = {"token": token(customer)}
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0},
        "entities": entities or [],
        "metadata": metadata,
    }
    user_event = {"event": "user", "text": text, "parse_data": latest, "metadata": metadata}
    trailing: list[dict[str, Any]] = []
    slots = dict(slots or {})
    if candidates is not None:
        trailing = [{"event": "action", "name": active_loop or "return_form"}]
        trailing += [{"event": "slot", "name": name, "value": value} for name, value in candidates.items()]
        slots.update(candidates)
    return Tracker(
        sender_id,
        slots,
        latest,
        [*(events or []), user_event, *trailing],
        False,
        None,
        {"name": active_loop} if active_loop else {},
        "action_listen",
    )


@dataclass
class Outcome:
    """What an action did: its events and the messages it sent."""

    events: list[dict[str, Any]]
    messages: list[dict[str, Any]]

    @property
    def text(self) -> str:
        return "\n".join(m.get("text") or "" for m in self.messages)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        return [b for m in self.messages for b in m.get("buttons") or []]

    def slot(self, name: str, default: Any = "<unset>") -> Any:
        values = [e["value"] for e in self.events if e.get("event") == "slot" and e.get("name") == name]
        return values[-1] if values else default


def run_action(action: Action, track: Tracker, domain: dict[str, Any] | None = None) -> Outcome:
    """Run an action as the action server would and collect what it did."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, track, domain or {}))
    return Outcome(events, dispatcher.messages)
