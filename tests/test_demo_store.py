"""The demo-store generator: reproducible, consistent, and carrying learnable structure."""

from __future__ import annotations

import functools
import random
import re
import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, insert, select, text

from store import models
from store.db import make_engine
from store.demo import build_demo_store
from store.demo.build import TABLES, history_end
from store.demo.catalog import build_catalog
from store.demo.catalog_data import TYPES
from store.demo.history import simulate
from store.demo.needs import NEEDS, need_of_text
from store.demo.needs_data import CLOSERS, OPENERS
from store.demo.offers import money
from store.demo.orders import CHANCE_TAKE, DemoOrder, Line, ServiceTaker
from store.demo.people import HABIT_OF_KIND, SERVICE_HABITS, draw_service_habits, service_rng
from store.demo.service_needs import SERVICE_CLOSERS, SERVICE_NEEDS, SERVICE_OPENERS, service_need_of_text

END = date(2026, 3, 1)
SCALE = 0.05


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('demo') / 'shop.db'}"
    build_demo_store(url, seed=7, end_date=END, scale=SCALE, progress=False)
    return url


@pytest.fixture(scope="module")
def db(demo_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(demo_url)
    yield engine
    engine.dispose()


def rows(engine: Engine, sql: str, **params) -> list:  # type: ignore[no-untyped-def]
    with engine.connect() as connection:
        return list(connection.execute(text(sql), params))


def dump(url: str) -> dict[str, list]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                m.__tablename__: [tuple(r) for r in connection.execute(select(m.__table__).order_by(m.__table__.c.id))]
                for m in TABLES
            }
    finally:
        engine.dispose()


def test_same_seed_same_rows_other_seed_other_rows(demo_url: str, tmp_path: Path) -> None:
    again, other = f"sqlite:///{tmp_path / 'again.db'}", f"sqlite:///{tmp_path / 'other.db'}"
    build_demo_store(again, seed=7, end_date=END, scale=SCALE, progress=False)
    build_demo_store(other, seed=8, end_date=END, scale=SCALE, progress=False)
    first, second, third = dump(demo_url), dump(again), dump(other)
    assert first == second
    assert first["orders"] != third["orders"] and first["consultations"] != third["consultations"]


def test_minimum_counts_at_full_scale() -> None:
    end = history_end(END)
    catalog = build_catalog(7, 1.0, end)
    categories = {p["category_id"] for p in catalog.rows["products"]}
    assert len(catalog.rows["products"]) >= 600 and len(categories) >= 20
    assert len(catalog.rows["services"]) == 12 and len(catalog.rows["coupons"]) == 30
    scoped = {s["service_id"] for s in catalog.rows["service_scopes"]}
    assert scoped == {s["id"] for s in catalog.rows["services"]}
    products = catalog.rows["products"]
    assert any(p["stock"] == 0 for p in products) and any(not p["active"] for p in products)
    assert all(p["name_zh"] and p["name_en"] and p["description_zh"] and p["attributes"] for p in products)
    coupons = catalog.rows["coupons"]
    assert any(c["valid_to"] < end for c in coupons) and any(c["valid_from"] > end for c in coupons)
    assert sum(c["make_good"] for c in coupons) >= 3 and len({c["min_tier"] for c in coupons}) == 4
    history = simulate(7, catalog, 1.0, end - timedelta(days=548), end)
    assert len(history["customers"]) == 3000
    assert len(history["order_lines"]) >= 50_000 and len(history["consultations"]) >= 10_000
    assert history["service_purchases"]


def test_counts_scale_down(db: Engine) -> None:
    counts = {m.__tablename__: rows(db, f"SELECT COUNT(*) FROM {m.__tablename__}")[0][0] for m in TABLES}
    assert counts["customers"] == round(3000 * SCALE)
    assert 50_000 * SCALE <= counts["order_lines"] <= 50_000 * SCALE * 3
    assert counts["consultations"] >= 10_000 * SCALE


def test_statuses_and_times_are_consistent(db: Engine) -> None:
    end = history_end(END)
    for status, placed, shipped, delivered in rows(
        db, "SELECT status, placed_at, shipped_at, delivered_at FROM orders"
    ):
        placed = datetime.fromisoformat(str(placed))
        shipped = shipped and datetime.fromisoformat(str(shipped))
        delivered = delivered and datetime.fromisoformat(str(delivered))
        assert placed < end
        if status in ("paid", "cancelled"):
            assert shipped is None and delivered is None
        elif status == "shipped":
            assert delivered is None and placed <= shipped <= end
        else:
            assert placed <= shipped <= delivered <= end
        if placed > end - timedelta(hours=4):
            assert status in ("paid", "shipped", "cancelled")
        if placed < end - timedelta(days=20):
            assert status in ("delivered", "returned", "cancelled")
    statuses = {r[0] for r in rows(db, "SELECT DISTINCT status FROM orders")}
    # "paid" lasts hours only, so a small build may have none.
    assert {"shipped", "delivered", "returned", "cancelled"} <= statuses
    mixed = rows(
        db,
        "SELECT COUNT(*) FROM order_lines l JOIN orders o ON o.id = l.order_id "
        "WHERE (o.status = 'returned' AND l.status != 'returned') "
        "OR (o.status IN ('paid', 'shipped', 'cancelled') AND l.status != 'ok')",
    )
    assert mixed[0][0] == 0
    requested = rows(
        db,
        "SELECT o.delivered_at FROM order_lines l JOIN orders o ON o.id = l.order_id "
        "WHERE l.status = 'return_requested'",
    )
    assert all(end - datetime.fromisoformat(str(r[0])) < timedelta(days=30) for r in requested)
    orphans = rows(
        db, "SELECT COUNT(*) FROM order_lines l LEFT JOIN products p ON p.id = l.product_id WHERE p.id IS NULL"
    )
    assert orphans[0][0] == 0
    foreign = rows(
        db,
        "SELECT COUNT(*) FROM consultations c JOIN orders o ON o.id = c.order_id "
        "WHERE o.customer_id != c.customer_id OR c.created_at < o.placed_at",
    )
    assert foreign[0][0] == 0


def test_identifiers_and_demo_customers(db: Engine) -> None:
    numbers = [r[0] for r in rows(db, "SELECT order_number FROM orders ORDER BY id")]
    assert all(re.fullmatch(r"SO\d{8}", n) for n in numbers) and len(set(numbers)) == len(numbers)
    assert sum(int(b[2:]) - int(a[2:]) == 1 for a, b in zip(numbers, numbers[1:])) < len(numbers) / 100
    assert all(re.fullmatch(r"C\d{5}", r[0]) for r in rows(db, "SELECT external_id FROM customers"))
    end = history_end(END)
    for external_id, language in (("C00001", "en"), ("C00002", "zh")):
        ((customer_id, lang),) = rows(db, "SELECT id, language FROM customers WHERE external_id = :e", e=external_id)
        assert lang == language
        orders = rows(
            db,
            "SELECT o.status, o.delivered_at, o.placed_at, c.code FROM orders o JOIN order_lines l "
            "ON l.order_id = o.id JOIN products p ON p.id = l.product_id JOIN categories c "
            "ON c.id = p.category_id WHERE o.customer_id = :c",
            c=customer_id,
        )
        assert any(
            s == "delivered"
            and code == "large_appliances"
            and end - datetime.fromisoformat(str(d)) < timedelta(days=30)
            for s, d, _, code in orders
        )
        assert any(s == "shipped" and end - datetime.fromisoformat(str(p)) < timedelta(days=5) for s, _, p, _ in orders)
        installed = rows(
            db,
            "SELECT COUNT(*) FROM service_purchases sp JOIN orders o ON o.id = sp.order_id "
            "JOIN services s ON s.id = sp.service_id JOIN products p ON p.id = sp.product_id "
            "WHERE o.customer_id = :c AND s.code = 'INSTALL_LARGE' AND p.sku LIKE 'WASH-%' "
            "AND o.placed_at > :recent",
            c=customer_id,
            recent=end - timedelta(days=30),
        )
        assert installed[0][0] == 1
    ((customer_id, language),) = rows(db, "SELECT id, language FROM customers WHERE external_id = 'C00003'")
    assert language == "en" and not rows(db, "SELECT id FROM orders WHERE customer_id = :c", c=customer_id)


WORD = re.compile(r"[a-z0-9]+")
CJK = re.compile(r"[\u4e00-\u9fff]+")


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") else word


@functools.lru_cache(maxsize=None)
def _terms(product: tuple) -> tuple[frozenset[str], frozenset[str], tuple[str, ...]]:
    name_en, name_zh, brand, sku, category_en, category_zh = product
    words = frozenset(_stem(w) for w in WORD.findall(f"{name_en} {category_en}".lower()) if len(w) >= 4)
    bigrams = frozenset(run[i : i + 2] for run in CJK.findall(f"{name_zh} {category_zh}") for i in range(len(run) - 1))
    return words, bigrams, (brand.lower(), sku.lower(), name_en.lower(), category_en.lower())


@functools.lru_cache(maxsize=4096)
def _said(statement: str) -> tuple[str, frozenset[str]]:
    lowered = statement.lower()
    return lowered, frozenset(_stem(w) for w in WORD.findall(lowered))


def leaked_terms(statement: str, product: tuple) -> set[str]:
    """Terms of the product (name, brand, SKU, category) that the statement uses.

    English: any word of four letters or more of the product's or category's
    name (plural-insensitive); Chinese: any two-character run of them; and
    the brand, SKU or full names anywhere.
    """
    words, bigrams, literals = _terms(product)
    lowered, said = _said(statement)
    return (words & said) | {b for b in bigrams if b in statement} | {t for t in literals if t and t in lowered}


def need_purchases(engine: Engine) -> list[tuple]:
    """(statement, its need, the lines of the customer's next order, days until that order)."""
    consultations = rows(
        engine, "SELECT customer_id, created_at, text, language FROM consultations WHERE topic = 'product_advice'"
    )
    orders = defaultdict(list)
    for order_id, customer_id, placed in rows(
        engine, "SELECT id, customer_id, placed_at FROM orders ORDER BY placed_at"
    ):
        orders[customer_id].append((str(placed), order_id))
    lines = defaultdict(list)
    for order_id, *product in rows(
        engine,
        "SELECT l.order_id, p.name_en, p.name_zh, p.brand, p.sku, c.name_en, c.name_zh, c.code "
        "FROM order_lines l JOIN products p ON p.id = l.product_id "
        "JOIN categories c ON c.id = p.category_id",
    ):
        lines[order_id].append(tuple(product))
    found = []
    for customer_id, created, statement, _ in consultations:
        later = [(placed, oid) for placed, oid in orders[customer_id] if placed > str(created)]
        if later:
            days = (datetime.fromisoformat(later[0][0]) - datetime.fromisoformat(str(created))).total_seconds() / 86400
            found.append((statement, need_of_text(statement), lines[later[0][1]], days))
    return found


def test_need_statements_never_name_what_is_bought_next(db: Engine) -> None:
    purchases = need_purchases(db)
    assert len(purchases) >= 50
    for statement, need, lines, _ in purchases:
        assert need is not None, statement
        for product in lines:
            assert not leaked_terms(statement, product[:6]), (statement, product, leaked_terms(statement, product[:6]))


def phrases_and_fillers() -> list[str]:
    phrases = [p for need in NEEDS for ps in need.phrases.values() for p in ps]
    return phrases + [p for lang in ("en", "zh") for p in OPENERS[lang] + CLOSERS[lang] if p.strip()]


def catalog_products() -> list[tuple]:
    """(name_en, name_zh, brand, sku, category_en, category_zh) of every product at scale 1."""
    catalog = build_catalog(7, 1.0, history_end(END))
    categories = {c["id"]: c for c in catalog.rows["categories"]}
    return [
        (
            p["name_en"],
            p["name_zh"],
            p["brand"],
            p["sku"],
            categories[p["category_id"]]["name_en"],
            categories[p["category_id"]]["name_zh"],
        )
        for p in catalog.rows["products"]
    ]


def test_no_need_phrasing_names_any_product_of_the_catalog() -> None:
    products = catalog_products()
    leaks = {
        (phrase, product[0]): terms
        for phrase in phrases_and_fillers()
        for product in products
        if (terms := leaked_terms(phrase, product))
    }
    assert not leaks


def test_leak_check_catches_a_named_product() -> None:
    product = (
        "Pawly Deshedding Brush Pro S",
        "Pawly 宠物除毛梳 Pro S",
        "Pawly",
        "PET_-00042",
        "Pet Supplies",
        "宠物用品",
    )
    assert leaked_terms("Do you have a deshedding brush?", product) == {"deshedding", "brush"}
    assert leaked_terms("想买个除毛梳", product) == {"除毛", "毛梳"}
    assert leaked_terms("My cat sheds a lot.", product) == set()


def test_needs_predict_the_next_purchase_category(db: Engine) -> None:
    category_of = {t.key: t.category for t in TYPES}
    orders = defaultdict(set)
    for order_id, code in rows(
        db,
        "SELECT l.order_id, c.code FROM order_lines l JOIN products p ON p.id = l.product_id "
        "JOIN categories c ON c.id = p.category_id",
    ):
        orders[order_id].add(code)
    hits, chance = [], []
    for _, need, lines, days in need_purchases(db):
        if days > 7:
            continue
        wanted = {category_of[t] for t in need.types}
        hits.append(bool(wanted & {product[6] for product in lines}))
        chance.append(sum(bool(wanted & codes) for codes in orders.values()) / len(orders))
    rate, base = sum(hits) / len(hits), statistics.mean(chance)
    assert len(hits) >= 50 and rate > 0.6 and rate > 5 * base, (rate, base)


def test_need_statements_are_varied_and_in_the_customers_language(db: Engine) -> None:
    statements = rows(
        db,
        "SELECT c.text, c.language, u.language FROM consultations c JOIN customers u "
        "ON u.id = c.customer_id WHERE c.topic = 'product_advice'",
    )
    assert all(spoken == own for _, spoken, own in statements)
    assert {"en", "zh"} <= {own for _, _, own in statements}
    assert len({t for t, _, _ in statements}) > 0.8 * len(statements)
    for need in NEEDS:
        assert len(need.phrases["en"]) >= 4 and len(need.phrases["zh"]) >= 4


# A service statement names neither the service, its kind nor a near-synonym.
SERVICE_WORDS_EN = (
    "warrant",
    "guarantee",
    "insur",
    "install",
    "setup",
    "set up",
    "set-up",
    "wrap",
    "clean",
    "descal",
    "recycl",
    "haul",
    "fitting",
    "protector",
    "service",
)
SERVICE_WORDS_ZH = ("延保", "保修", "保障", "安装", "装机", "设置", "包装", "礼品", "清洗", "清洁", "除垢", "回收", "贴膜", "服务")
# Words of the services' names too common to avoid ("Printer setup on your network").
_SERVICE_NAME_FILLERS = {"with", "your"}


def service_phrases_and_fillers() -> list[str]:
    phrases = [p for need in SERVICE_NEEDS for ps in need.phrases.values() for p in ps]
    return phrases + [p for lang in ("en", "zh") for p in SERVICE_OPENERS[lang] + SERVICE_CLOSERS[lang] if p.strip()]


@functools.lru_cache(maxsize=1)
def _services() -> tuple[tuple, ...]:
    catalog = build_catalog(7, 0.05, history_end(END))
    return tuple((s["name_en"], s["name_zh"], s["code"], s["kind"], "", "") for s in catalog.rows["services"])


def service_leaks(statement: str) -> set[str]:
    """Service words, and words of any service's name, code or kind, that ``statement`` uses."""
    lowered = statement.lower()
    found = {w for w in SERVICE_WORDS_EN if w in lowered} | {w for w in SERVICE_WORDS_ZH if w in statement}
    for service in _services():
        found |= leaked_terms(statement, service)
    return found - _SERVICE_NAME_FILLERS


def test_service_statements_never_name_a_service_or_product() -> None:
    products = catalog_products()
    for phrase in service_phrases_and_fillers():
        assert not service_leaks(phrase), (phrase, service_leaks(phrase))
        leaks = {product[0]: terms for product in products if (terms := leaked_terms(phrase, product))}
        assert not leaks, (phrase, leaks)
    for need in SERVICE_NEEDS:
        assert len(need.phrases["en"]) >= 6 and len(need.phrases["zh"]) >= 6, need.key
    codes = {service[2] for service in _services()}
    assert {code for need in SERVICE_NEEDS for code in need.services} == codes


def test_service_leak_check_catches_a_named_service() -> None:
    assert service_leaks("Can someone install it for me?") == {"install"}
    assert "wrap" in service_leaks("Could you gift-wrap it?")
    assert service_leaks("想买个延保") >= {"延保"}
    assert service_leaks("I keep scratching my display.") == set()


def _service_takes(engine: Engine, seed: int = 7) -> dict[bool, list[bool]]:
    """Whether each applicable (line, service) took it, split by whether the customer has the habit behind it."""
    kinds = dict(rows(engine, "SELECT id, kind FROM services"))
    scoped = defaultdict(set)
    for service_id, category_id, product_id in rows(
        engine, "SELECT service_id, category_id, product_id FROM service_scopes"
    ):
        scoped[("c", category_id) if category_id else ("p", product_id)].add(service_id)
    taken = {tuple(r) for r in rows(engine, "SELECT order_id, service_id, product_id FROM service_purchases")}
    found: dict[bool, list[bool]] = {True: [], False: []}
    habits: dict[int, tuple[str, ...]] = {}
    for order_id, customer_id, product_id, category_id, refill in rows(
        engine,
        "SELECT l.order_id, o.customer_id, l.product_id, p.category_id, p.repurchase_days FROM order_lines l "
        "JOIN orders o ON o.id = l.order_id JOIN products p ON p.id = l.product_id",
    ):
        if customer_id not in habits:
            habits[customer_id] = draw_service_habits(service_rng(seed, customer_id), customer_id)
        for service_id in scoped[("c", category_id)] | scoped[("p", product_id)]:
            kind = kinds[service_id]
            habit = HABIT_OF_KIND[kind] in habits[customer_id] and not (kind == "gift_wrapping" and refill)
            found[habit].append((order_id, service_id, product_id) in taken)
    return found


def test_service_habits_drive_what_is_taken(db: Engine) -> None:
    found = _service_takes(db)
    with_habit, without = (sum(found[h]) / len(found[h]) for h in (True, False))
    assert len(found[True]) >= 100 and len(found[False]) >= 100
    assert with_habit > 0.4 and without < 0.1 and with_habit > 5 * without, (with_habit, without)
    counts = [len(draw_service_habits(service_rng(7, cid), cid)) for cid in range(4, 1004)]
    assert 0.25 < counts.count(0) / len(counts) < 0.45 and max(counts) == 2


def test_every_present_phrasing_is_a_need_phrasing() -> None:
    from store.demo.needs_data import FOR_SOMEONE_ELSE, NEED_DATA

    phrasings = {phrase for _, _, _, en, zh in NEED_DATA for phrase in (*en, *zh)}
    assert FOR_SOMEONE_ELSE and FOR_SOMEONE_ELSE <= phrasings, sorted(FOR_SOMEONE_ELSE - phrasings)


def test_presents_are_wrapped_more_often() -> None:
    catalog = build_catalog(7, 0.05, history_end(END))
    wrap = next(s["id"] for s in catalog.rows["services"] if s["kind"] == "gift_wrapping")
    toy = catalog.by_type["board_game"][0]
    order = DemoOrder(1, history_end(END))
    taker = ServiceTaker(random.Random(1), (), catalog)
    present, other = Line(toy, 1, toy.price, gift=True), Line(toy, 1, toy.price)
    rate = {line.gift: sum(taker.take(order, line, wrap) for _ in range(2000)) / 2000 for line in (present, other)}
    assert rate[True] > 0.4 and abs(rate[False] - CHANCE_TAKE[0]) < 0.02, rate


def test_service_statements_precede_a_service_they_lead_to(db: Engine) -> None:
    statements = rows(
        db,
        "SELECT c.customer_id, c.created_at, c.text, c.language, u.language, u.created_at FROM consultations c "
        "JOIN customers u ON u.id = c.customer_id WHERE c.topic = 'service_advice'",
    )
    assert len(statements) >= 20 and {"en", "zh"} <= {r[3] for r in statements}
    takes = defaultdict(list)
    for customer_id, placed, code in rows(
        db,
        "SELECT o.customer_id, o.placed_at, s.code FROM service_purchases sp JOIN orders o ON o.id = sp.order_id "
        "JOIN services s ON s.id = sp.service_id",
    ):
        takes[customer_id].append((datetime.fromisoformat(str(placed)), code))
    for customer_id, created, statement, spoken, own, joined in statements:
        need = service_need_of_text(statement)
        assert need is not None and spoken == own and str(created) >= str(joined), statement
        created = datetime.fromisoformat(str(created))
        assert any(
            code in need.services and timedelta(days=1) <= placed - created <= timedelta(days=10)
            for placed, code in takes[customer_id]
        ), statement


def test_service_randomness_leaves_what_is_bought_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    end = history_end(END)
    start = end - timedelta(days=548)
    catalog = build_catalog(7, SCALE, end)
    before = simulate(7, catalog, SCALE, start, end)
    # Another service stream, and everyone with every habit: other services and statements, same purchases.
    monkeypatch.setattr("store.demo.history.service_rng", lambda seed, cid: random.Random(f"other:{seed}:{cid}"))
    monkeypatch.setattr("store.demo.history.draw_service_habits", lambda rng, cid: tuple(SERVICE_HABITS))
    after = simulate(7, catalog, SCALE, start, end)
    for table in ("customers", "order_lines", "return_requests"):
        assert before[table] == after[table], table
    assert [{**o, "total": 0} for o in before["orders"]] == [{**o, "total": 0} for o in after["orders"]]

    def talk(history: dict) -> list:
        return sorted(
            (c["created_at"], c["customer_id"], c["text"], c["order_id"])
            for c in history["consultations"]
            if c["topic"] != "service_advice"
        )

    assert talk(before) == talk(after)
    assert len(after["service_purchases"]) > 2 * len(before["service_purchases"])
    assert sum(c["topic"] == "service_advice" for c in after["consultations"]) > sum(
        c["topic"] == "service_advice" for c in before["consultations"]
    )


def _purchases(engine: Engine) -> list[tuple]:
    return rows(
        engine,
        "SELECT o.customer_id, o.placed_at, l.product_id, p.repurchase_days, p.brand, c.code, p.name_en "
        "FROM order_lines l JOIN orders o ON o.id = l.order_id JOIN products p ON p.id = l.product_id "
        "JOIN categories c ON c.id = p.category_id WHERE o.status != 'cancelled' ORDER BY o.placed_at",
    )


def test_consumables_are_rebought_near_their_cycle(db: Engine) -> None:
    bought = defaultdict(list)
    for customer_id, placed, product_id, cycle, *_ in _purchases(db):
        if cycle:
            bought[(customer_id, product_id, cycle)].append(datetime.fromisoformat(str(placed)))
    ratios = [
        (b - a).total_seconds() / 86400 / cycle
        for (_, _, cycle), times in bought.items()
        for a, b in zip(times, times[1:])
    ]
    assert len(ratios) >= 200
    low, median, high = statistics.quantiles(ratios, n=4)
    # Most gaps are one cycle: neither skipped cycles (2x) nor stray extra buys (near 0).
    assert 0.7 <= low and 0.85 <= median <= 1.15 and high <= 1.3, (low, median, high)


def test_brand_loyalty_seasonality_and_complements(db: Engine) -> None:
    purchases = _purchases(db)
    last, same, brands_in = {}, [], defaultdict(list)
    for customer_id, _, product_id, _, brand, code, _ in purchases:
        brands_in[code].append(brand)
        previous = last.get((customer_id, code))
        if previous and previous[0] != product_id:  # a re-bought product says nothing about its brand
            same.append(previous[1] == brand)
        last[(customer_id, code)] = (product_id, brand)
    chance = statistics.mean(sum((b.count(x) / len(b)) ** 2 for x in set(b)) for b in brands_in.values())
    assert sum(same) / len(same) > chance + 0.2

    winter_names = [t.name_en for t in TYPES if t.season == "winter"]
    in_winter = [datetime.fromisoformat(str(p[1])).month in (11, 12, 1, 2) for p in purchases]
    seasonal = [w for w, p in zip(in_winter, purchases) if any(n in p[6] for n in winter_names)]
    assert sum(seasonal) / len(seasonal) > sum(in_winter) / len(in_winter) + 0.2

    times = defaultdict(list)
    for customer_id, placed, _, _, _, code, _ in purchases:
        times[(customer_id, code)].append(datetime.fromisoformat(str(placed)))

    def ink_within(customer_id: int, when: datetime) -> bool:
        return any(timedelta(0) <= t - when <= timedelta(days=14) for t in times.get((customer_id, "ink"), ()))

    after_printer = [ink_within(c, t) for (c, code), ts in times.items() if code == "printers" for t in ts]
    after_anything = [ink_within(p[0], datetime.fromisoformat(str(p[1]))) for p in purchases]
    assert after_printer and sum(after_printer) / len(after_printer) > 3 * sum(after_anything) / len(after_anything)


def test_build_on_both_backends_is_whole_and_rerunnable(store_url: str) -> None:
    first = build_demo_store(store_url, seed=3, end_date=END, scale=0.02, progress=False)
    again = build_demo_store(store_url, seed=3, end_date=END, scale=0.02, progress=False)
    assert first.counts == again.counts
    engine = make_engine(store_url)
    try:
        with engine.begin() as connection:
            for model in TABLES:
                count = connection.execute(text(f"SELECT COUNT(*) FROM {model.__tablename__}")).scalar_one()
                assert count == first.counts[model.__tablename__]
            # Ids were given explicitly; a later plain insert must still get a fresh one.
            connection.execute(insert(models.Category).values(code="extra", name_en="Extra", name_zh="额外"))
    finally:
        engine.dispose()


def test_failed_build_leaves_the_previous_store(monkeypatch: pytest.MonkeyPatch, store_url: str) -> None:
    build_demo_store(store_url, seed=3, end_date=END, scale=0.02, progress=False)
    before = dump(store_url)

    def broken(session, rows, bar):  # type: ignore[no-untyped-def]
        session.execute(insert(models.Category), rows["categories"])
        raise RuntimeError("disk full")

    monkeypatch.setattr("store.demo.build._insert", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        build_demo_store(store_url, seed=4, end_date=END, scale=0.02, progress=False)
    assert dump(store_url) == before
    if store_url.startswith("sqlite"):
        folder = Path(store_url.removeprefix("sqlite:///")).parent
        assert not [p for p in folder.iterdir() if "building" in p.name]
