"""Pure parsing of a customer's raw message: cleaning, order numbers, budgets.

Order numbers, budgets, product names and categories come from the text,
not from NLU entities; these helpers never raise on any input.
"""

from __future__ import annotations

import json
import re
import unicodedata
from decimal import Decimal, InvalidOperation

# Bidirectional overrides can make a summary read differently to staff than it was typed.
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

ORDER_NUMBER = re.compile(r"(?i)(?<![A-Za-z0-9])SO\d{8}(?!\d)")

_AMOUNT = r"[$¥￥]?\s*((?:\d{1,3}(?:,\d{3})+|\d{1,7})(?:\.\d{1,2})?)\s*(?:元|块钱|块|rmb|cny|usd|dollars?|yuan|bucks)?"
_BUDGET_PATTERNS = [
    re.compile(
        r"(?i)\b(?:under|below|less than|cheaper than|up to|max(?:imum)?|at most|within|no more than"
        r"|budget(?: of| is)?)"
        r"\s*:?\s*" + _AMOUNT
    ),
    re.compile(r"(?:预算|不超过|不到|低于|少于|最多|小于|控制在)\s*(?:是|为)?\s*" + _AMOUNT),
    re.compile(r"(?i)" + _AMOUNT + r"\s*(?:以内|以下|之内|内)"),
    re.compile(r"<\s*=?\s*" + _AMOUNT),
]


def clean_text(value: object, max_chars: int) -> str:
    """The message as safe text: a string, cut to ``max_chars``, control characters as spaces."""
    if not isinstance(value, str):
        return ""
    value = value[:max_chars]
    value = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") or ch in _BIDI_CONTROLS else ch for ch in value)
    return " ".join(value.split())


def find_order_number(text: str) -> str | None:
    """The first order number ("SO" + 8 digits) anywhere in the text, upper-cased."""
    match = ORDER_NUMBER.search(text or "")
    return match.group(0).upper() if match else None


def parse_budget(text: str) -> Decimal | None:
    """An upper price limit stated in the text ("under 200", "预算300", "500元以内"), else ``None``."""
    for pattern in _BUDGET_PATTERNS:
        match = pattern.search(text or "")
        if match:
            try:
                amount = Decimal(match.group(1).replace(",", ""))
            except InvalidOperation:
                continue
            if amount > 0:
                return amount
    return None


def is_payload(text: str) -> bool:
    """Whether the text is a button payload ("/intent" or "/intent{...}") rather than typed text."""
    return bool(re.match(r"^/[A-Za-z_]+(\{.*\})?$", (text or "").strip()))


def payload_entities(text: str) -> dict[str, object]:
    """The JSON entities of a payload like ``/inform{"line_id":"12"}``; ``{}`` for anything else."""
    match = re.match(r"^/[A-Za-z_]+(\{.*\})$", (text or "").strip())
    if not match:
        return {}
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def mentions_any(text: str, words: tuple[str, ...]) -> bool:
    """Whether any of ``words`` occurs in the text (case-insensitive substring)."""
    lowered = (text or "").lower()
    return any(word in lowered for word in words)
