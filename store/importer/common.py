"""What every importer shares: errors that name file, line and field, strict reading, parsing."""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from store.models import Base, Order

MAX_PRICE = Decimal("99999999.99")  # Numeric(10, 2)


class ImportFileError(ValueError):
    """The file cannot be imported; nothing of it was kept."""

    def __init__(self, path: str | Path, message: str) -> None:
        self.path, self.message = str(path), message
        super().__init__(f"{path}: {message}")


class ImportRowError(ImportFileError):
    """One line of the file is wrong: ``path``, 1-based ``line``, ``field`` (or None) and why."""

    def __init__(self, path: str | Path, line: int, field: str | None, message: str) -> None:
        self.line, self.field = line, field
        where = f"line {line}" + (f", field '{field}'" if field else "")
        ImportFileError.__init__(self, path, f"{where}: {message}")


@dataclass(frozen=True)
class ImportSummary:
    """What an import wrote, table by table (``created``/``updated`` counts)."""

    kind: str
    path: str
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def read_text(path: str | Path) -> str:
    """The file's text; empty files and anything but UTF-8 are errors naming the line."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ImportFileError(path, f"cannot read the file: {error.strerror or error}") from error
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ImportRowError(
            path, line, None, f"not UTF-8 text (byte 0x{data[error.start]:02x}); save the file as UTF-8"
        ) from error
    if not text.strip():
        raise ImportFileError(path, "the file is empty")
    return text


def csv_rows(
    path: str | Path, required: tuple[str, ...], optional: tuple[str, ...]
) -> Iterator[tuple[int, dict[str, str]]]:
    """Data rows of a CSV file with a header row, as (line number, column -> text)."""
    reader = csv.reader(io.StringIO(read_text(path), newline=""))
    try:
        header = [name.strip() for name in next(reader)]
    except csv.Error as error:
        raise ImportRowError(path, 1, None, f"malformed CSV: {error}") from error
    known = set(required) | set(optional)
    for name in header:
        if name not in known:
            raise ImportRowError(path, 1, name, f"unknown column; expected columns: {', '.join(required + optional)}")
    if len(set(header)) != len(header):
        raise ImportRowError(path, 1, None, "a column appears twice in the header")
    for name in required:
        if name not in header:
            raise ImportRowError(path, 1, name, "required column missing from the header")
    seen = False
    try:
        for values in reader:
            if not values or all(not v.strip() for v in values):
                continue
            if len(values) != len(header):
                raise ImportRowError(path, reader.line_num, None, f"expected {len(header)} fields, found {len(values)}")
            seen = True
            yield reader.line_num, {name: value.strip() for name, value in zip(header, values)}
    except csv.Error as error:
        raise ImportRowError(path, reader.line_num, None, f"malformed CSV: {error}") from error
    if not seen:
        raise ImportFileError(path, "no data rows after the header")


def parse_price(path: str | Path, line: int, name: str, raw: str) -> Decimal:
    """A non-negative amount with at most two decimals."""
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ImportRowError(path, line, name, f"not a number: {raw!r}") from None
    if not value.is_finite() or value < 0:
        raise ImportRowError(path, line, name, f"must be zero or more, got {raw!r}")
    if value > MAX_PRICE or value != value.quantize(Decimal("0.01")):
        raise ImportRowError(path, line, name, f"must be at most {MAX_PRICE} with two decimals, got {raw!r}")
    return value


def parse_int(path: str | Path, line: int, name: str, raw: str, *, minimum: int) -> int:
    """An integer of at least ``minimum``."""
    try:
        value = int(raw)
    except ValueError:
        raise ImportRowError(path, line, name, f"not a whole number: {raw!r}") from None
    if value < minimum:
        raise ImportRowError(path, line, name, f"must be at least {minimum}, got {value}")
    return value


def parse_json_object(path: str | Path, line: int, name: str, raw: str) -> dict[str, Any]:
    """A JSON object (empty text means ``{}``)."""
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as error:
        raise ImportRowError(path, line, name, f"not valid JSON: {error.msg}") from None
    if not isinstance(value, dict):
        raise ImportRowError(path, line, name, 'must be a JSON object like {"size": "M"}')
    return value


def parse_timestamp(path: str | Path, line: int, name: str, raw: str) -> datetime:
    """ISO 8601 or unix seconds, as naive UTC."""
    try:
        if raw.lstrip("-").replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(raw), tz=timezone.utc).replace(tzinfo=None, microsecond=0)
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        raise ImportRowError(path, line, name, f"not an ISO 8601 time or unix seconds: {raw!r}") from None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def checked_text(path: str | Path, line: int, name: str, raw: str, *, limit: int) -> str:
    """Non-empty text of at most ``limit`` characters."""
    if not raw:
        raise ImportRowError(path, line, name, "must not be empty")
    if len(raw) > limit:
        raise ImportRowError(path, line, name, f"longer than {limit} characters")
    return raw


def order_numbers(session: Session, count: int, rng: random.Random) -> list[str]:
    """``count`` new order numbers ("SO" + 8 digits), unique and not sequential."""
    taken = set(session.scalars(select(Order.order_number)))
    numbers: list[str] = []
    while len(numbers) < count:
        candidate = f"SO{rng.randrange(10_000_000, 100_000_000)}"
        if candidate not in taken:
            taken.add(candidate)
            numbers.append(candidate)
    return numbers


def reserve_ids(session: Session, model: type[Base], count: int) -> list[int]:
    """``count`` fresh primary keys for ``model``, so bulk inserts need no RETURNING.

    SQLite's RETURNING with ordered rows runs one statement per row (250,000
    orders took a minute); explicit ids keep it to one batched statement.
    PostgreSQL hands them out from the table's own sequence, safe alongside
    other writers; SQLite serializes writers anyway.
    """
    if count == 0:
        return []
    table = model.__tablename__
    if session.get_bind().dialect.name == "postgresql":
        return list(
            session.scalars(
                text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :count)"),
                {"table": table, "count": count},
            )
        )
    start = (session.scalar(select(func.max(model.id))) or 0) + 1  # type: ignore[attr-defined]
    return list(range(start, start + count))
