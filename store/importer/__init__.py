"""Load a store's own data: a catalog CSV, an interactions CSV, or a sequence file.

Each import runs in one transaction: the first bad line raises
``ImportRowError`` (file, line, field, why) and nothing of that file is kept.
``run_import(url, kind, path)`` does the whole thing against a database URL;
the ``import_*`` functions work inside a session the caller manages.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from store.db import has_schema, make_engine, make_session_factory, transaction
from store.importer.catalog import import_catalog
from store.importer.common import ImportFileError, ImportRowError, ImportSummary
from store.importer.interactions import import_interactions
from store.importer.sequences import SEQUENCE_END, import_sequences

IMPORTERS: dict[str, Callable[..., dict[str, int]]] = {
    "catalog": import_catalog,
    "interactions": import_interactions,
    "sequences": import_sequences,
}

__all__ = [
    "IMPORTERS",
    "SEQUENCE_END",
    "ImportFileError",
    "ImportRowError",
    "ImportSummary",
    "SchemaMissing",
    "import_catalog",
    "import_interactions",
    "import_sequences",
    "run_import",
]


class SchemaMissing(RuntimeError):
    """The database has no store tables yet (run ``python -m store migrate``)."""


def run_import(url: str, kind: str, path: str | Path, *, progress: bool = True) -> ImportSummary:
    """Import ``path`` as ``kind`` ("catalog", "interactions", "sequences") into the database at ``url``."""
    began = time.perf_counter()
    importer = IMPORTERS[kind]
    engine = make_engine(url)
    try:
        if not has_schema(engine):
            raise SchemaMissing("the database has no store tables; run `python -m store migrate` first")
        session: Session
        with transaction(make_session_factory(engine)) as session:
            counts = importer(session, path, progress=progress)
    finally:
        engine.dispose()
    return ImportSummary(kind, str(path), counts, round(time.perf_counter() - began, 2))
