"""The importer: good files land whole on both backends; bad ones name file, line, field and leave nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from store import models
from store.db import make_engine, upgrade
from store.importer import SEQUENCE_END, ImportFileError, ImportRowError, SchemaMissing, run_import

FIXTURES = Path(__file__).parent / "fixtures" / "import"
TABLES = (models.Category, models.Product, models.Customer, models.Order, models.OrderLine)


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {m.__tablename__: connection.scalar(select(func.count()).select_from(m)) for m in TABLES}


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = make_engine(url)
    models.Base.metadata.create_all(engine)  # faster than running the migrations for every case
    engine.dispose()
    return url


def test_good_imports_on_both_backends(store_url: str, engine: Engine) -> None:
    catalog = run_import(store_url, "catalog", FIXTURES / "catalog.csv", progress=False)
    assert catalog.counts == {"categories_created": 2, "products_created": 4, "products_updated": 0}
    interactions = run_import(store_url, "interactions", FIXTURES / "interactions.csv", progress=False)
    assert interactions.counts == {
        "customers_created": 3,
        "orders_created": 4,
        "order_lines_created": 5,
        "orders_already_there": 0,
    }
    again = run_import(store_url, "interactions", FIXTURES / "interactions.csv", progress=False)
    assert again.counts == {
        "customers_created": 0,
        "orders_created": 0,
        "order_lines_created": 0,
        "orders_already_there": 4,
    }
    sequences = run_import(store_url, "sequences", FIXTURES / "sequences.txt", progress=False)
    assert sequences.counts["products_created"] == 5 and sequences.counts["orders_created"] == 6
    with engine.connect() as connection:
        tea, mug = (
            connection.execute(select(models.Product).where(models.Product.sku == s)).one()
            for s in ("TEA-001", "MUG-001")
        )
        assert tea.attributes == {"weight_g": 250} and tea.repurchase_days == 45 and tea.price == Decimal("59.90")
        assert mug.name_en == mug.name_zh == "陶瓷马克杯" and mug.stock == 0
        first = connection.execute(
            select(models.Order)
            .join(models.Customer)
            .where(models.Customer.external_id == "U001")
            .order_by(models.Order.placed_at)
        ).all()
        assert [o.placed_at for o in first] == [datetime(2024, 3, 1, 10), datetime(2024, 4, 2, 1, 30)]
        assert first[0].total == Decimal("2") * Decimal("59.90") + Decimal("30.00")
        kettle_order = connection.execute(
            select(models.Order).join(models.Customer).where(models.Customer.external_id == "U002")
        ).one()
        assert (
            kettle_order.placed_at == datetime(2024, 3, 1, 10) and kettle_order.status == models.OrderStatus.DELIVERED
        )
        user_a = connection.execute(
            select(models.Order.placed_at, models.Product.sku, models.Product.price, models.Category.code)
            .join(models.Customer)
            .join(models.OrderLine)
            .join(models.Product)
            .join(models.Category)
            .where(models.Customer.external_id == "user_a")
            .order_by(models.Order.placed_at)
        ).all()
        assert [r.sku for r in user_a] == ["item1", "item2", "item3"]
        assert [r.placed_at for r in user_a] == [
            SEQUENCE_END - timedelta(days=2),
            SEQUENCE_END - timedelta(days=1),
            SEQUENCE_END,
        ]
        assert {r.code for r in user_a} == {"imported"} and {r.price for r in user_a} == {Decimal("0")}
        numbers = connection.scalars(select(models.Order.order_number)).all()
        assert len(set(numbers)) == len(numbers) and all(len(n) == 10 and n.startswith("SO") for n in numbers)


def test_sequence_items_that_are_known_skus_keep_their_product(sqlite_url: str, tmp_path: Path) -> None:
    run_import(sqlite_url, "catalog", FIXTURES / "catalog.csv", progress=False)
    path = tmp_path / "seq.txt"
    path.write_text("u1 TEA-001 brand-new\n", encoding="utf-8")
    summary = run_import(sqlite_url, "sequences", path, progress=False)
    assert summary.counts["products_created"] == 1
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        prices = dict(
            connection.execute(select(models.Product.sku, models.OrderLine.unit_price).join(models.OrderLine))
            .tuples()
            .all()
        )
    engine.dispose()
    assert prices == {"TEA-001": Decimal("59.90"), "brand-new": Decimal("0")}


def test_reimporting_a_catalog_updates_by_sku(sqlite_url: str, tmp_path: Path) -> None:
    run_import(sqlite_url, "catalog", FIXTURES / "catalog.csv", progress=False)
    changed = tmp_path / "changed.csv"
    changed.write_text(
        "sku,name_en,category,price\nTEA-001,Jasmine Tea,tea,49\nNEW-1,New thing,Gadgets,5\n", encoding="utf-8"
    )
    summary = run_import(sqlite_url, "catalog", changed, progress=False)
    # "tea" matches the existing "Tea" category by its code.
    assert summary.counts == {"categories_created": 1, "products_created": 1, "products_updated": 1}
    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        price = connection.scalar(select(models.Product.price).where(models.Product.sku == "TEA-001"))
    engine.dispose()
    assert price == Decimal("49")


BAD = [
    ("catalog", "", None, None, "empty"),
    ("catalog", "sku,name_en,category,price\n", None, None, "no data rows"),
    ("catalog", "sku,name_en,category,cost\nA,B,C,1\n", 1, "cost", "unknown column"),
    ("catalog", "sku,name_en,category\nA,B,C\n", 1, "price", "required column missing"),
    ("catalog", "sku,name_en,category,price\nA,B,C,1\nB,B,C,-3\n", 3, "price", "zero or more"),
    ("catalog", "sku,name_en,category,price\nA,B,C,1\nA,B2,C,2\n", 3, "sku", "duplicate SKU 'A', first at line 2"),
    ("catalog", "sku,name_en,category,price\nA,,C,1\n", 2, "name_en", "name_en or name_zh"),
    ("catalog", "sku,name_en,category,price,attributes\nA,B,C,1,[1]\n", 2, "attributes", "JSON object"),
    ("catalog", "sku,name_en,category,price\nA,B,C,1,extra\n", 2, None, "expected 4 fields, found 5"),
    (
        "interactions",
        "customer,item,timestamp\nU1,TEA-001,2024-01-01\nU1,TEA-001,yesterday\n",
        3,
        "timestamp",
        "ISO 8601",
    ),
    (
        "interactions",
        "customer,item,timestamp\nU1,TEA-001,2024-01-01\nU2,NOPE-9,2024-01-02\n",
        3,
        "item",
        "unknown item 'NOPE-9'",
    ),
    ("interactions", "customer,item,timestamp,quantity\nU1,TEA-001,2024-01-01,0\n", 2, "quantity", "at least 1"),
    ("interactions", "customer,item,timestamp,price\nU1,TEA-001,2024-01-01,-1\n", 2, "price", "zero or more"),
    ("interactions", "user,item,timestamp\nU1,TEA-001,2024-01-01\n", 1, "user", "unknown column"),
    ("sequences", "u1 a b\nu2\n", 2, "items", "no items"),
    ("sequences", "u1 a b\nu2 c\nu1 d\n", 3, "user", "already listed at line 1"),
    ("sequences", "\n \n", None, None, "empty"),
]


@pytest.mark.parametrize(("kind", "content", "line", "field", "fragment"), BAD)
def test_bad_files_name_the_problem_and_keep_nothing(
    sqlite_url: str, tmp_path: Path, kind: str, content: str, line: int | None, field: str | None, fragment: str
) -> None:
    run_import(sqlite_url, "catalog", FIXTURES / "catalog.csv", progress=False)
    engine = make_engine(sqlite_url)
    before = counts(engine)
    path = tmp_path / f"bad-{kind}.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ImportFileError) as caught:
        run_import(sqlite_url, kind, path, progress=False)
    error = caught.value
    assert error.path == str(path) and fragment in str(error) and str(path) in str(error)
    if line is not None:
        assert isinstance(error, ImportRowError) and error.line == line and error.field == field
        assert f"line {line}" in str(error)
    assert counts(engine) == before
    engine.dispose()


def test_not_utf8_names_the_line(sqlite_url: str) -> None:
    with pytest.raises(ImportRowError) as caught:
        run_import(sqlite_url, "catalog", FIXTURES / "catalog_latin1.csv", progress=False)
    assert caught.value.line == 2 and "not UTF-8" in str(caught.value)


def test_a_late_error_keeps_nothing_on_both_backends(store_url: str, engine: Engine, tmp_path: Path) -> None:
    run_import(store_url, "catalog", FIXTURES / "catalog.csv", progress=False)
    before = counts(engine)
    good = (FIXTURES / "interactions.csv").read_text(encoding="utf-8")
    path = tmp_path / "late.csv"
    path.write_text(good + "U9,TEA-001,not-a-time,1,\n", encoding="utf-8")
    with pytest.raises(ImportRowError, match="line 7"):
        run_import(store_url, "interactions", path, progress=False)
    sequences = tmp_path / "late.txt"
    sequences.write_text("u1 x1 x2\nu2 x3\nu1 x4\n", encoding="utf-8")
    with pytest.raises(ImportRowError, match="line 3"):
        run_import(store_url, "sequences", sequences, progress=False)
    assert counts(engine) == before


def test_missing_schema_and_file_are_clear(tmp_path: Path) -> None:
    with pytest.raises(SchemaMissing, match="migrate"):
        run_import(f"sqlite:///{tmp_path / 'empty.db'}", "catalog", FIXTURES / "catalog.csv", progress=False)
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    upgrade(url)
    with pytest.raises(ImportFileError, match="cannot read"):
        run_import(url, "catalog", tmp_path / "absent.csv", progress=False)
