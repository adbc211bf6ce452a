"""``INSERT ... ON CONFLICT`` for the two backends the store runs on."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_for(session: Session, model: type) -> Any:
    """An ``INSERT`` for ``model`` that supports ``on_conflict_do_*`` on the session's backend."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
