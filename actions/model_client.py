"""The actions' client of the model server (``POST /v1/recommend``), bounded in time.

Every call is bounded by ``settings.recommend_timeout_s`` as a whole
(connect, send, model, read). Anything that keeps a usable answer from
coming back in time raises ``ModelUnavailable`` with the reason; the caller
answers from a fallback. Each call opens its own HTTP session: a loopback
connection costs well under a millisecond against tens for the model, and
a session never outlives the event loop that made it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

MAX_CONVERSATION_CHARS = 4000  # the server's own cap (recommender.serving.schemas)
MAX_K = 50


class ModelUnavailable(Exception):
    """The model server gave no usable answer in time; ``reason`` says why (for logs and metrics)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Evidence:
    """One reason the model gave: a purchase, a consultation line or this conversation."""

    type: str
    text: str
    date: str | None
    weight: float


@dataclass(frozen=True)
class ModelItem:
    """One ranked entry: the catalog code (SKU, service or coupon code), score and evidence."""

    code: str
    score: float
    evidence: tuple[Evidence, ...] = ()


@dataclass(frozen=True)
class ModelAnswer:
    """The model server's answer: items best first and the model version that chose them."""

    items: tuple[ModelItem, ...]
    model_version: str


@dataclass(frozen=True)
class ModelQuery:
    """What to ask: customer external id (``None``: anonymous), conversation text, kind, how many, filters."""

    customer_id: str | None
    conversation: str
    kind: str
    k: int
    language: str
    category: str | None = None
    budget: float | None = None
    explain: bool = True

    def body(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "customer_id": self.customer_id,
            "conversation": self.conversation[-MAX_CONVERSATION_CHARS:],
            "kind": self.kind,
            "k": max(1, min(self.k, MAX_K)),
            "language": self.language,
            "explain": self.explain,
        }
        if self.category is not None:
            payload["category"] = self.category
        if self.budget is not None:
            payload["budget"] = self.budget
        return payload


@dataclass
class ModelServerClient:
    """Calls the model server at ``base_url`` with a bearer ``token``, each call bounded by ``timeout_s``."""

    base_url: str
    token: str
    timeout_s: float

    async def recommend(self, query: ModelQuery) -> ModelAnswer:
        """The server's ranking for ``query``.

        Raises:
            ModelUnavailable: Timeout, connection failure, a non-200 answer or a malformed body.
        """
        try:
            async with asyncio.timeout(self.timeout_s), aiohttp.ClientSession(headers=self._headers) as session:
                async with session.post(f"{self.base_url}/v1/recommend", json=query.body()) as response:
                    raw = await response.text()
                    if response.status != 200:
                        raise ModelUnavailable(f"HTTP {response.status}: {raw[:200]}")
        except TimeoutError as error:
            raise ModelUnavailable(f"no answer within {self.timeout_s}s") from error
        except aiohttp.ClientError as error:
            raise ModelUnavailable(f"{type(error).__name__}: {error}") from error
        return parse_answer(raw)

    @property
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def parse_answer(raw: str) -> ModelAnswer:
    """The server's JSON body as a ``ModelAnswer``; ``ModelUnavailable`` if it is not the expected shape."""
    try:
        body = json.loads(raw)
        items = tuple(
            ModelItem(
                code=str(item["id"]),
                score=float(item["score"]),
                evidence=tuple(
                    Evidence(str(e["type"]), str(e["text"]), e.get("date"), float(e["weight"]))
                    for e in item.get("evidence", [])
                ),
            )
            for item in body["items"]
        )
        return ModelAnswer(items, str(body["model_version"]))
    except (ValueError, KeyError, TypeError) as error:
        raise ModelUnavailable(f"malformed answer: {type(error).__name__}: {error}") from error
