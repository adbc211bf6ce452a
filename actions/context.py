"""The process-wide context of the actions: settings, database, recommender.

Built lazily on first use from ``store.settings.load_settings()``, so that
importing ``actions`` never touches the database; tests install their own
with ``set_context``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from actions.recommend_source import BestSellerSource, RecommendationSource
from store.db import make_engine, make_session_factory
from store.settings import Settings, load_settings


def utc_now() -> datetime:
    """The current time as the store keeps it: UTC, naive."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class ActionContext:
    """Everything an action needs from outside the conversation."""

    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    recommender: RecommendationSource = field(default_factory=BestSellerSource)
    clock: Callable[[], datetime] = utc_now


def build_context(settings: Settings | None = None, recommender: RecommendationSource | None = None) -> ActionContext:
    """A context over the database named by ``settings`` (loaded when not given).

    ``recommender`` defaults to the best-seller source; the model-server
    client is passed here once it exists.
    """
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    return ActionContext(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        recommender=recommender or BestSellerSource(),
    )


_lock = threading.Lock()
_context: ActionContext | None = None


def get_context() -> ActionContext:
    """The process's context, built from the settings on first call."""
    global _context
    with _lock:
        if _context is None:
            _context = build_context()
        return _context


def set_context(context: ActionContext | None) -> None:
    """Replace the process's context (tests); ``None`` means rebuild on next use."""
    global _context
    with _lock:
        _context = context
