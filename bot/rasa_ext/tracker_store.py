"""The project's tracker store: Rasa's SQL store in the store database, made strict.

Two things Rasa's ``SQLTrackerStore`` does not do:

* fail loudly at start-up: it retries an unreachable database forever, and a
  broken custom store makes Rasa fall back to memory. This one checks the
  database once and raises ``SystemExit`` (which Rasa does not catch), so
  conversations are never silently kept in memory only;
* erase a conversation: when the action server erases a customer's data it
  sets the slot ``conversation_erased``; the conversation's own rows cannot
  be deleted by the action (Rasa would write them back when it saves the
  tracker), so they are deleted here, at that save, instead of written.

Configured in ``bot/endpoints.yml`` with the store's database URL.
"""

from __future__ import annotations

import logging
from typing import Any, Optional, Text

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

logger = logging.getLogger(__name__)

ERASE_SLOT = "conversation_erased"


def rasa_engine_url(url: str) -> str:
    """The store's URL as Rasa's SQLAlchemy 1.4 with psycopg2 needs it."""
    parsed = sa.engine.make_url(url)
    if parsed.drivername.startswith("postgresql"):
        parsed = parsed.set(drivername="postgresql")
    return str(parsed.render_as_string(hide_password=False))


class ShopTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` over the store database that refuses to start without it."""

    def __init__(self, domain: Any = None, host: Optional[Text] = None, event_broker: Any = None, **kwargs: Any):
        if not host:
            raise SystemExit("tracker store: no database URL configured (endpoints.yml tracker_store.url)")
        url = rasa_engine_url(host)
        probe = sa.create_engine(url)
        try:
            with probe.connect() as connection:
                connection.execute(sa.text("SELECT 1"))
        except Exception as error:  # any failure to connect must stop Rasa
            raise SystemExit(f"tracker store: cannot reach the database {probe.url!r}: {error}") from error
        finally:
            probe.dispose()
        super().__init__(domain=domain, host=url, event_broker=event_broker, **kwargs)
        if self.engine.url.get_backend_name() == "sqlite":
            # The action server writes the same file: wait for its lock, not 5 s.
            self.engine.dispose()
            self.engine = sa.create_engine(url, connect_args={"timeout": 30})
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events, or erase the conversation if they ask for it.

        The slot is never stored (this save erases instead), so it is set only
        in the turn that asked; reading it costs no query, unlike listing the
        unsaved events, which Rasa's own save does once more anyway.
        """
        if tracker.get_slot(ERASE_SLOT):
            self._erase(tracker.sender_id)
            return
        await super().save(tracker)

    def _erase(self, sender_id: Text) -> None:
        with self.session_scope() as session:
            deleted = session.query(self.SQLEvent).filter(self.SQLEvent.sender_id == sender_id).delete()
            session.commit()
        logger.info("erased conversation %s (%d events)", sender_id, deleted)
