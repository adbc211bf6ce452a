"""Everything the benchmark needs before the first message: a store, free ports, customers and their tokens."""

from __future__ import annotations

import socket
import sqlite3
import uuid
from contextlib import closing
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from bot.bench_turns.client import Conversation
from bot.bench_turns.script import conversation_language, conversation_plan
from store.identity import sign_token
from store.models import Customer, Order
from store.settings import Settings


class BenchSetupError(RuntimeError):
    """The benchmark cannot run as asked (no store, too few customers, ...); the message says why."""


def free_port() -> int:
    """A port nothing listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, ``None`` for other databases."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite"):
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BenchSetupError(f"{url}: an in-memory SQLite database cannot be shared with the servers")
    return Path(parsed.database)


def copy_sqlite_store(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite store (the online backup API, safe while others write to it)."""
    if not source.is_file():
        raise BenchSetupError(f"{source}: no such store database (build one: python -m store build-demo)")
    target.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def pick_customers(factory: sessionmaker[Session], count: int) -> list[str]:
    """``count`` customers who have ordered before (so order questions and the model have a history)."""
    with factory() as session:
        customers = list(session.scalars(
            select(Customer.external_id).where(select(Order.id).where(Order.customer_id == Customer.id).exists())
            .order_by(Customer.external_id).limit(count)
        ))
    if len(customers) < count:
        raise BenchSetupError(f"the store has {len(customers)} customers with orders; {count} conversations "
                              "need one each (lower --conversations or use a bigger store)")
    return customers


def make_conversations(settings: Settings, customers: list[str], warmup_turns: int, turns: int) -> list[Conversation]:
    """One conversation per customer, senders tagged with this run's id so its rows can be found later."""
    run_id = uuid.uuid4().hex[:6]
    secret = settings.token_secret.get_secret_value()
    return [
        Conversation(index, f"bench-{run_id}-{index:03d}", customer, conversation_language(index),
                     sign_token(customer, secret, settings.token_ttl_s),
                     conversation_plan(index, warmup_turns, turns))
        for index, customer in enumerate(customers)
    ]
