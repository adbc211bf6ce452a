"""The HTTP contract of ``POST /v1/recommend``, validated at the boundary (pydantic v2)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from recommender.serving.engine import RecommendRequest

MAX_CONVERSATION_CHARS = 4000


class RecommendBody(BaseModel):
    """Request body; unknown fields and wrong types are refused (strict mode)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    customer_id: str | None = Field(default=None, min_length=1, max_length=64)
    conversation: str = Field(default="", max_length=MAX_CONVERSATION_CHARS)
    kind: Literal["product", "service", "coupon"] = "product"
    k: int = Field(default=5, ge=1, le=50)
    category: str | None = Field(default=None, min_length=1, max_length=64)
    budget: float | None = Field(default=None, gt=0)
    language: Literal["en", "zh"] | None = None
    explain: bool = True  # False: no evidence, one model input instead of one per recent event

    def to_request(self) -> RecommendRequest:
        """The engine's request."""
        return RecommendRequest(**self.model_dump())


class AdapterBody(BaseModel):
    """``POST /v1/admin/adapter``: an adapter folder on the server and the name it will serve under."""

    model_config = ConfigDict(extra="forbid", strict=True)

    path: str = Field(min_length=1, max_length=1024)
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


def invalid(field: str, message: str) -> dict[str, Any]:
    """The 400 body naming ``field``."""
    return {"error": "invalid_request", "field": field, "message": message}


def first_error(error: ValidationError) -> dict[str, Any]:
    """The 400 body for the first problem pydantic found."""
    problem = error.errors()[0]
    field = ".".join(str(part) for part in problem["loc"]) or "body"
    return invalid(field, problem["msg"])
