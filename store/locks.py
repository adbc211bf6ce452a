"""Holding one row until the transaction ends, on PostgreSQL and SQLite alike.

A check-then-write ("fewer than N grants? then grant") is only safe when
every writer that could break the check waits for the others. Callers
lock a row that stands for what they count (the customer for their coupon
grants, a shown recommendation for its clicks) before they read.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session


def lock_row(session: Session, model: type, row_id: int) -> None:
    """Hold the ``model`` row ``row_id`` until the session's transaction ends; other callers wait here.

    Call it before the reads it protects. PostgreSQL takes ``FOR NO KEY
    UPDATE`` on the row, which still lets other transactions insert rows
    that reference it. SQLite has no row locks: a no-op write takes its one
    database write lock, held to commit. Locking a missing row does nothing.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(model.id).where(model.id == row_id).with_for_update(key_share=True))
        return
    # First in the transaction: once a SQLite transaction has read, it can no longer wait for the write
    # lock (it fails with "database is locked"), and reads made before the lock may be stale.
    session.execute(
        update(model).where(model.id == row_id).values(id=model.id).execution_options(synchronize_session=False)
    )
