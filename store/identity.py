"""Customer tokens signed by the store: the only way a chat gets an identity.

A token is a JWT (HS256) whose subject is the customer's ``external_id`` and
whose ``exp`` bounds its life. Anything else (missing, malformed, forged,
expired, wrong algorithm) means an anonymous visitor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt

ALGORITHM = "HS256"
ISSUER = "shop"


class InvalidToken(ValueError):
    """The token cannot be trusted; the message says why (for logs, not customers)."""


@dataclass(frozen=True)
class Identity:
    """Who the store vouches for: a customer's external id, or nobody."""

    customer_external_id: str | None

    @property
    def anonymous(self) -> bool:
        return self.customer_external_id is None


ANONYMOUS = Identity(None)


def sign_token(customer_external_id: str, secret: str, ttl_s: int, *, now: float | None = None) -> str:
    """Sign a token for ``customer_external_id`` valid for ``ttl_s`` seconds."""
    issued = int(now if now is not None else time.time())
    claims = {"sub": customer_external_id, "iat": issued, "exp": issued + ttl_s, "iss": ISSUER}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(token: str, secret: str) -> str:
    """Return the customer external id the token vouches for, or raise ``InvalidToken``."""
    if not isinstance(token, str) or not token or len(token) > 4096:
        raise InvalidToken("token missing or not a short string")
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "sub", "iss"]}
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(f"token rejected: {error}") from error
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise InvalidToken("token has no subject")
    return subject


def identity_from_metadata(metadata: Any, secret: str) -> Identity:
    """The identity carried by a message's metadata; anonymous unless a valid token is there."""
    if not isinstance(metadata, dict):
        return ANONYMOUS
    token = metadata.get("token")
    if token is None:
        return ANONYMOUS
    try:
        return Identity(verify_token(token, secret))
    except InvalidToken:
        return ANONYMOUS
