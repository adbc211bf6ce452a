"""The process-wide context of the actions: settings, database, model-server client.

Built lazily on first use from ``store.settings.load_settings()``, so that
importing ``actions`` never touches the database; tests install their own
with ``set_context``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from actions.model_client import ModelServerClient
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
    model_client: ModelServerClient | None = None
    clock: Callable[[], datetime] = utc_now


def model_client_for(settings: Settings) -> ModelServerClient:
    """The client of the model server the settings name, bounded by ``recommend_timeout_s``."""
    return ModelServerClient(
        base_url=settings.model_server_url,
        token=settings.model_server_token.get_secret_value(),
        timeout_s=settings.recommend_timeout_s,
    )


def build_context(settings: Settings | None = None) -> ActionContext:
    """A context over the database and model server named by ``settings`` (loaded when not given)."""
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    return ActionContext(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        model_client=model_client_for(settings),
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
