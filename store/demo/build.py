"""Write a demo store into a database, all or nothing."""

from __future__ import annotations

import os
import time as clock
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from sqlalchemy import Connection, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from tqdm import tqdm

from store import models
from store.db import make_engine, normalize_url, upgrade
from store.demo.catalog import build_catalog
from store.demo.history import CUSTOMERS, simulate

HISTORY_DAYS = 548  # 18 months
_CHUNK = 5000
# Insert order respects foreign keys; deletion runs in reverse.
TABLES: tuple[type[models.Base], ...] = (
    models.Category,
    models.Product,
    models.Service,
    models.ServiceScope,
    models.Coupon,
    models.ShippingMethod,
    models.Customer,
    models.Order,
    models.OrderLine,
    models.ServicePurchase,
    models.ReturnRequest,
    models.Consultation,
    models.CouponGrant,
)
_CLEARED_FIRST = (models.RecommendationEvent, models.Handoff, models.Conversation, models.CouponRedemption)


@dataclass(frozen=True)
class DemoSummary:
    """What a build wrote: its parameters, row counts per table and seconds taken."""

    url: str
    seed: int
    end_date: date
    scale: float
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def history_end(end_date: date) -> datetime:
    """The moment the history stops: the start (00:00 UTC) of ``end_date``."""
    return datetime.combine(end_date, time())


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


@contextmanager
def _target(url: str) -> Iterator[tuple[str, Path | None]]:
    """The URL to build into; for a SQLite file a temporary file renamed over it on success."""
    path = _sqlite_file(url)
    if path is None:
        yield url, None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.building-{os.getpid()}")
    leftovers = [temporary, Path(f"{temporary}-wal"), Path(f"{temporary}-shm"), Path(f"{temporary}-journal")]
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    try:
        yield f"sqlite:///{temporary}", temporary
        # A stale write-ahead log of the old file must never be replayed onto the new one.
        for suffix in ("-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        os.replace(temporary, path)
    finally:
        for leftover in leftovers:
            leftover.unlink(missing_ok=True)


def _insert(session: Session, rows: dict[str, list[dict]], bar: tqdm) -> None:
    for model in TABLES:
        table_rows = rows.get(model.__tablename__, [])
        for offset in range(0, len(table_rows), _CHUNK):
            chunk = table_rows[offset : offset + _CHUNK]
            session.execute(insert(model), chunk)
            bar.update(len(chunk))


def _clear(session: Session) -> None:
    for model in _CLEARED_FIRST + tuple(reversed(TABLES)):
        session.execute(model.__table__.delete())


def _advance_sequences(connection: Connection) -> None:
    # Explicit ids leave PostgreSQL's serial sequences behind; later inserts would collide.
    for model in TABLES:
        table = model.__tablename__
        connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            )
        )


def build_demo_store(
    url: str, *, seed: int = 7, end_date: date | None = None, scale: float = 1.0, progress: bool = True
) -> DemoSummary:
    """Build the seeded demo store into the database at ``url``, replacing its store data.

    Same ``seed``, ``end_date`` and ``scale`` give identical rows. The history
    covers the 18 months before ``end_date`` (default: today, UTC). A SQLite
    file is built beside the target and renamed over it at the end; other
    databases get the whole build in one transaction. Either way a failure
    leaves the previous contents untouched.
    """
    if not 0 < scale <= 10:
        raise ValueError(f"scale must be in (0, 10], got {scale}")
    began = clock.perf_counter()
    end_date = end_date or datetime.now(timezone.utc).date()
    end = history_end(end_date)
    start = end - timedelta(days=HISTORY_DAYS)
    n_customers = max(20, round(CUSTOMERS * scale))
    with tqdm(total=n_customers, desc="demo store", unit="row", disable=not progress, smoothing=0.1) as bar:
        catalog = build_catalog(seed, scale, end)
        rows = dict(catalog.rows)
        rows.update(simulate(seed, catalog, scale, start, end, tick=bar.update))
        bar.total = n_customers + sum(len(table_rows) for table_rows in rows.values())
        bar.refresh()
        with _target(url) as (build_url, sqlite_file):
            upgrade(build_url)
            engine = make_engine(build_url)
            try:
                with engine.connect() as connection:
                    if sqlite_file is not None:
                        # A throw-away file until renamed: durability mid-build buys nothing.
                        connection.exec_driver_sql("PRAGMA synchronous=OFF")
                        connection.commit()
                    with Session(bind=connection) as session, session.begin():
                        if sqlite_file is None:
                            _clear(session)
                        _insert(session, rows, bar)
                        if connection.dialect.name == "postgresql":
                            _advance_sequences(connection)
                    if sqlite_file is not None:
                        connection.exec_driver_sql("PRAGMA journal_mode=DELETE")
                        connection.commit()
            finally:
                engine.dispose()
    counts = {model.__tablename__: len(rows.get(model.__tablename__, [])) for model in TABLES}
    return DemoSummary(url, seed, end_date, scale, counts, round(clock.perf_counter() - began, 2))
