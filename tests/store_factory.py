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


OK, REQUESTED, RETURNED = LineStatus.OK, LineStatus.RETURN_REQUESTED, LineStatus.RETURNED

# fmt: off
CATEGORIES = {"shoes": ("shoes", "Shoes", "鞋类"), "electronics": ("electronics", "Electronics", "数码电子"),
              "home": ("home_kitchen", "Home & Kitchen", "家居厨房")}
# key: sku, name_en, name_zh, category, price, stock, active, attributes
PRODUCTS = {
    "trail": ("SKU-SHOE-1", "Trail Running Shoes", "越野跑鞋", "shoes", "399", 10, True,
              {"sizes": "39-45", "weight": "280 g"}),
    "road": ("SKU-SHOE-2", "Road Running Shoes", "公路跑鞋", "shoes", "459", 5, True, {}),
    "socks": ("SKU-SOCK-1", "Running Socks", "跑步袜", "shoes", "49", 100, True, {}),
    "earbuds": ("SKU-EAR-1", "Wireless Earbuds", "无线耳机", "electronics", "299", 0, True, {}),
    "speaker": ("SKU-SPK-1", "Bluetooth Speaker", "蓝牙音箱", "electronics", "199", 7, True, {}),
    "kettle": ("SKU-KET-1", "Electric Kettle", "电热水壶", "home", "129", 3, True, {}),
    "lamp": ("SKU-OLD-1", "Retired Desk Lamp", "旧台灯", "home", "89", 4, False, {}),
}
# key: external id, name, tier, language
CUSTOMERS = {"alice": (ALICE, "Alice", Tier.GOLD, "en"), "bob": (BOB, "王波", Tier.SILVER, "zh"),
             "carol": (CAROL, "Carol", Tier.BRONZE, "en")}
# key: number, customer, status, days ago placed / shipped / delivered, lines (key, product, quantity, status)
ORDERS = {
    "o_recent": ("SO10000001", "alice", OrderStatus.DELIVERED, 8, 7, 5,
                 [("l_trail", "trail", 1, OK), ("l_socks", "socks", 2, OK)]),
    "o_old": ("SO10000002", "alice", OrderStatus.DELIVERED, 70, 66, 60, [("l_speaker_old", "speaker", 1, OK)]),
    "o_shipped": ("SO10000003", "alice", OrderStatus.SHIPPED, 3, 2, None, [("l_kettle_a", "kettle", 1, OK)]),
    "o_paid": ("SO10000004", "alice", OrderStatus.PAID, 1, None, None, [("l_road", "road", 1, OK)]),
    "o_cancelled": ("SO10000005", "alice", OrderStatus.CANCELLED, 10, None, None, [("l_earbuds", "earbuds", 5, OK)]),
    "o_returned": ("SO10000006", "alice", OrderStatus.RETURNED, 25, 24, 20, [("l_returned", "speaker", 1, RETURNED)]),
    "o_requested": ("SO10000007", "alice", OrderStatus.DELIVERED, 12, 11, 9,
                    [("l_requested", "speaker", 1, REQUESTED)]),
    "o_bob": ("SO20000001", "bob", OrderStatus.DELIVERED, 6, 5, 3,
              [("l_bob_kettle", "kettle", 1, OK), ("l_bob_socks", "socks", 3, OK)]),
}
# key: code, type, value, extra columns (valid 30 days either side of now unless "end" says otherwise)
COUPONS = {"welcome": ("WELCOME10", "percent", "10", {}),
           "gold": ("GOLD50", "amount", "50", {"min_spend": Decimal("300"), "min_tier": Tier.GOLD}),
           "expired": ("EXPIRED5", "amount", "5", {"end": 1}),
           "make_good": ("SORRY20", "amount", "20", {"make_good": True})}
# key: kind, name_en, name_zh, price, scope ("category" or "product", key)
SERVICES = {"warranty": ("warranty", "Extended Warranty", "延长保修", "59", ("category", "electronics")),
            "gift_wrap": ("gift_wrap", "Gift Wrapping", "礼品包装", "15", ("category", "shoes")),
            "kettle_setup": ("installation", "Kettle Descaling Plan", "水壶除垢服务", "39", ("product", "kettle"))}


def build_store(factory: sessionmaker[Session], now: datetime = NOW) -> Refs:
    """Seed the hand-made store; returns the ids of its rows by name.

    History for erasure tests: Alice has 2 consultations, 3 recommendation
    events, 1 handoff and an old conversation "alice-old"; Bob 1, 2, 1 and "bob-old".
    """
    days = lambda n: now - timedelta(days=n) if n is not None else None  # noqa: E731
    rows: dict[str, Any] = {}
    with factory() as s, s.begin():
        for key, (code, en, zh) in CATEGORIES.items():
            rows[key] = Category(code=code, name_en=en, name_zh=zh)
        s.add_all(rows.values())
        s.flush()
        for key, (sku, en, zh, cat, price, stock, active, attrs) in PRODUCTS.items():
            rows[key] = Product(sku=sku, name_en=en, name_zh=zh, category_id=rows[cat].id, price=Decimal(price),
                                stock=stock, attributes=attrs, active=active, brand="Acme")
        rows["standard"] = ShippingMethod(code="standard", name_en="Standard", name_zh="标准快递", days_min=3,
                                          days_max=5, fee=Decimal("10"), free_over=Decimal("99"))
        rows["express"] = ShippingMethod(code="express", name_en="Express", name_zh="特快专递", days_min=1,
                                         days_max=2, fee=Decimal("25"), free_over=None)
        for key, (external_id, name, tier, language) in CUSTOMERS.items():
            rows[key] = Customer(external_id=external_id, name=name, tier=tier, language=language, created_at=days(300))
        s.add_all(rows.values())
        s.flush()
        for key, (number, who, status, placed, shipped, delivered, lines) in ORDERS.items():
            order = Order(order_number=number, customer_id=rows[who].id, status=status, placed_at=days(placed),
                          shipped_at=days(shipped), delivered_at=days(delivered),
                          shipping_method_id=rows["standard"].id,
                          carrier="SF Express" if shipped else "", tracking_number=f"SF{number[2:]}" if shipped else "")
            for line_key, item, quantity, line_status in lines:
                rows[line_key] = OrderLine(product_id=rows[item].id, quantity=quantity, unit_price=rows[item].price,
                                           status=line_status)
                order.lines.append(rows[line_key])
            order.total = sum((line.unit_price * line.quantity for line in order.lines), Decimal("0"))
            rows[key] = order
            s.add(order)
        for key, (code, kind, value, extra) in COUPONS.items():
            extra = dict(extra)
            rows[key] = Coupon(code=code, name_en=f"{code} coupon", name_zh=f"{code} 优惠券", discount_type=kind,
                               discount_value=Decimal(value), valid_from=days(30), valid_to=days(extra.pop("end", -30)),
                               **extra)
        for key, (kind, en, zh, price, (scope, target)) in SERVICES.items():
            target_id = {"category_id" if scope == "category" else "product_id": rows[target].id}
            rows[key] = Service(code=key, kind=kind, name_en=en, name_zh=zh, price=Decimal(price),
                                scopes=[ServiceScope(**target_id)])
        s.add_all(rows.values())
        s.flush()
        s.add(ReturnRequest(order_line_id=rows["l_requested"].id, customer_id=rows["alice"].id, reason="too loud",
                            created_at=days(8)))
        for who, n in (("alice", 2), ("bob", 1)):
            customer_id, sender = rows[who].id, f"{who}-old"
            s.add(Conversation(sender_id=sender, customer_id=customer_id, started_at=days(40), last_seen_at=days(40)))
            s.add(Handoff(sender_id=sender, customer_id=customer_id, created_at=days(40), reason="request",
                          summary="old"))
            s.add_all(Consultation(customer_id=customer_id, created_at=days(40 + i), topic="delivery",
                                   text=f"asked {i}") for i in range(n))
            s.add_all(RecommendationEvent(customer_id=customer_id, sender_id=sender, created_at=days(40),
                                          kind=ItemKind.PRODUCT, item_id=rows["socks"].id, event=RecEventType.SHOWN)
                      for _ in range(n + 1))
        s.flush()
        return Refs({key: row.id for key, row in rows.items()})
# fmt: on


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
