"""The one exception the store API's operations raise to refuse a request."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A refused request: HTTP status, error code, the field at fault and a readable message.

    Raised inside a transaction, it rolls everything back; the app turns it
    into a JSON answer ``{"error", "field", "message"}``.
    """

    def __init__(self, status: int, error: str, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.status = status
        self.error = error
        self.field = field
        self.message = message

    def body(self) -> dict[str, Any]:
        """The JSON answer."""
        return {"error": self.error, "field": self.field, "message": self.message}


def unknown(field: str, message: str) -> ApiError:
    """A body that names something the store does not have (400)."""
    return ApiError(400, "unknown", field, message)


def invalid(field: str, message: str) -> ApiError:
    """A body the store will not accept as it is (400)."""
    return ApiError(400, "invalid_request", field, message)


def conflict(field: str, message: str) -> ApiError:
    """A request that contradicts what the store holds (409)."""
    return ApiError(409, "conflict", field, message)
