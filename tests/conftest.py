"""Shared fixtures: a fresh store database per test, on SQLite and on PostgreSQL.

``store_url`` is parametrized over both backends. PostgreSQL tests use a
throw-away schema in the local server (``SHOP_TEST_PG_URL``, default
``postgresql://postgres@127.0.0.1:5432/test``); if none is reachable they are
skipped with that reason, unless ``SHOP_REQUIRE_PG=1`` (CI) makes it a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from store.db import make_engine, make_session_factory, normalize_url
from store.models import Base

PG_URL = os.environ.get("SHOP_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    try:
        engine = create_engine(normalize_url(PG_URL))
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as error:  # noqa: BLE001 - any failure means "not reachable"
        return f"PostgreSQL not reachable at {PG_URL}: {error}"


@pytest.fixture(scope="session")
def pg_unavailable_reason() -> str | None:
    reason = _pg_available()
    if reason and os.environ.get("SHOP_REQUIRE_PG") == "1":
        pytest.fail(reason)
    return reason


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path, pg_unavailable_reason) -> Iterator[str]:
    """URL of an empty database on each backend, dropped after the test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shop.db'}"
        return
    if pg_unavailable_reason:
        pytest.skip(pg_unavailable_reason)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalize_url(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in PG_URL else "?"
    try:
        yield f"{PG_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    """An engine over a database holding the store's (empty) tables."""
    engine = make_engine(store_url)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def store(session_factory: sessionmaker[Session]) -> Iterator[dict]:
    """The hand-made store of ``tests/store_factory.py``, installed as the actions' context."""
    from actions.context import set_context
    from tests.store_factory import build_store, make_context

    refs = build_store(session_factory)
    set_context(make_context(session_factory))
    yield refs
    set_context(None)
