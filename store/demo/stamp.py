"""A record of which demo build went into which database, to reuse it or refuse to overwrite.

The stamp is a small JSON file (``var/demo-build.json``) keyed by database
URL. Next to the build parameters it keeps row counts, the build's
fingerprint: a database whose catalog still matches and whose customers and
orders did not grow (the bot may erase customers, nothing else adds them)
still holds that demo build; anything else is someone's own data.
"""

from __future__ import annotations

import hashlib
import json
import os
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from store import models
from store.db import has_schema, normalize_url

_CATALOG = (models.Category, models.Product, models.Service, models.Coupon, models.ShippingMethod)
_GROWING = (models.Customer, models.Order)


class DatabaseState(str, Enum):
    """What a database holds, as far as ``build-demo`` is concerned."""

    EMPTY = "empty"
    SAME_BUILD = "same_build"  # the demo build asked for, untouched: reuse it
    DEMO = "demo"  # a demo build (other parameters, or touched by the bot): safe to replace
    OTHER = "other"  # data that is not a demo build: replace only with --force


def generator_version() -> str:
    """A hash of the generator's source: a changed generator means a stale build."""
    digest = hashlib.sha256()
    for source in sorted(Path(__file__).parent.glob("*.py")):
        if source.name != "stamp.py":
            digest.update(source.name.encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


def url_key(url: str) -> str:
    """The stamp's key for a URL: normalized, password hidden."""
    return make_url(normalize_url(url)).render_as_string(hide_password=True)


def fingerprint(engine: Engine) -> dict[str, int]:
    """Row counts of the tables that identify a build; empty if the schema is missing."""
    if not has_schema(engine):
        return {}
    with engine.connect() as connection:
        return {
            m.__tablename__: connection.scalar(select(func.count()).select_from(m)) or 0 for m in _CATALOG + _GROWING
        }


def read_stamps(path: Path) -> dict[str, Any]:
    """Every stamp in ``path``; a missing or unreadable file means none."""
    try:
        stamps = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stamps if isinstance(stamps, dict) else {}


def write_stamp(path: Path, url: str, record: dict[str, Any]) -> None:
    """Store ``record`` for ``url``, replacing the file atomically."""
    stamps = read_stamps(path)
    stamps[url_key(url)] = record
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    temporary.write_text(json.dumps(stamps, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(temporary, path)


def classify(counts: dict[str, int], stamp: dict[str, Any] | None, parameters: dict[str, Any]) -> DatabaseState:
    """Decide what the database holds from its ``counts`` and the stamp for its URL."""
    if not any(counts.values()):
        return DatabaseState.EMPTY
    if not stamp or not isinstance(stamp.get("counts"), dict):
        return DatabaseState.OTHER
    built = stamp["counts"]
    catalog_same = all(counts.get(m.__tablename__) == built.get(m.__tablename__) for m in _CATALOG)
    not_grown = all(counts.get(m.__tablename__, 0) <= built.get(m.__tablename__, 0) for m in _GROWING)
    if not (catalog_same and not_grown):
        return DatabaseState.OTHER
    if counts == {k: built.get(k) for k in counts} and stamp.get("parameters") == parameters:
        return DatabaseState.SAME_BUILD
    return DatabaseState.DEMO
