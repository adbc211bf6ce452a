"""The schema: alembic migrations produce exactly the models, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from store.db import make_engine, make_session_factory, transaction, upgrade
from store.models import Base, Category, Customer, Order, OrderStatus, Tier


def test_migrations_match_models(store_url):
    upgrade(store_url)
    engine = make_engine(store_url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = [d for d in compare_metadata(context, Base.metadata) if "alembic_version" not in str(d)]
    engine.dispose()
    assert diff == []


def test_upgrade_is_idempotent(store_url):
    upgrade(store_url)
    upgrade(store_url)


def test_enum_values_round_trip_and_foreign_keys_hold(session_factory):
    now = datetime(2026, 1, 1)
    with transaction(session_factory) as session:
        session.add(Category(code="tea", name_en="Tea", name_zh="茶"))
        customer = Customer(external_id="C1", tier=Tier.GOLD, created_at=now)
        session.add(customer)
        session.flush()
        session.add(Order(order_number="SO00000001", customer_id=customer.id, placed_at=now,
                          status=OrderStatus.SHIPPED, total=Decimal("12.50")))
    with session_factory() as session:
        order = session.scalars(select(Order)).one()
        assert order.status is OrderStatus.SHIPPED and order.total == Decimal("12.50")
        assert session.scalars(select(Customer)).one().tier is Tier.GOLD
    with pytest.raises(IntegrityError):
        with transaction(session_factory) as session:
            session.add(Order(order_number="SO00000002", customer_id=999, placed_at=now))


def test_failed_transaction_keeps_nothing(session_factory):
    now = datetime(2026, 1, 1)
    with pytest.raises(IntegrityError):
        with transaction(session_factory) as session:
            session.add(Customer(external_id="C1", created_at=now))
            session.flush()
            session.add(Customer(external_id="C1", created_at=now))
    with session_factory() as session:
        assert session.scalars(select(Customer)).all() == []
