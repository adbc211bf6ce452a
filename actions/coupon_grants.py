"""Granting coupons from the chat, idempotently.

A grant is keyed by what it answers: ``chat:<customer>:<conversation>`` for
a coupon asked for in a conversation, ``make-good:<customer>:<conversation>``
for the apology after a complaint. The key is unique in the database and the
insert is ``ON CONFLICT DO NOTHING``, so a retried turn, a repeated request
or two racing turns of one conversation all end with one grant, and the
customer is shown the coupon already granted.

Every grant is also limited per customer: a coupon's ``per_customer_limit``
counts the customer's grants of it in all conversations, and make-good
coupons have their own limit over a period. Both grant paths count under a
lock on the customer's row (``store.locks``), taken before their first
read, so requests racing in several conversations of one customer are
granted one after another and never more than a limit between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions.upsert import insert_for
from store.locks import lock_row
from store.models import Coupon, CouponGrant, Customer, ItemKind, RecEventType, RecommendationEvent
from store.rules import coupon_eligibility, eligible_coupons, granted_counts


@dataclass(frozen=True)
class GrantResult:
    """The coupon the customer holds for this key, and whether this call granted it."""

    coupon: Coupon
    new: bool


def chat_key(customer_id: int, sender_id: str) -> str:
    """The key of the coupon asked for in one conversation."""
    return f"chat:{customer_id}:{sender_id}"[:128]


def make_good_key(customer_id: int, sender_id: str) -> str:
    """The key of the make-good coupon of one conversation."""
    return f"make-good:{customer_id}:{sender_id}"[:128]


def granted_for(session: Session, key: str) -> Coupon | None:
    """The coupon already granted under ``key``, if any."""
    return session.scalar(select(Coupon).join(CouponGrant, CouponGrant.coupon_id == Coupon.id)
                          .where(CouponGrant.idempotency_key == key))


def still_eligible(session: Session, customer: Customer, coupons: list[Coupon], now: datetime, *,
                   allow_make_good: bool = False) -> list[Coupon]:
    """Those of ``coupons`` the store rules let ``customer`` be granted now, order kept."""
    counts = granted_counts(session, customer.id)
    return [c for c in coupons if coupon_eligibility(c, customer, now=now, times_granted=counts.get(c.id, 0),
                                                      allow_make_good=allow_make_good) is None]


def grant(session: Session, *, customer_id: int, coupon: Coupon, key: str, source: str, sender_id: str,
          now: datetime, model_version: str, fallback: bool) -> GrantResult:
    """Grant ``coupon`` under ``key`` unless a grant with that key exists; record a "granted" event when new."""
    statement = (
        insert_for(session, CouponGrant)
        .values(coupon_id=coupon.id, customer_id=customer_id, granted_at=now, source=source, idempotency_key=key)
        .on_conflict_do_nothing(index_elements=[CouponGrant.idempotency_key])
        .returning(CouponGrant.id)
    )
    inserted = session.execute(statement).scalar_one_or_none() is not None
    held = granted_for(session, key)
    assert held is not None  # the row exists: inserted now or before
    if inserted:
        session.add(RecommendationEvent(customer_id=customer_id, sender_id=sender_id, created_at=now,
                                        kind=ItemKind.COUPON, item_id=coupon.id, event=RecEventType.GRANTED,
                                        model_version=model_version, fallback=fallback, reason=source))
    return GrantResult(held, inserted)


def grant_chat(session: Session, *, customer_id: int, sender_id: str, now: datetime,
               ranked_codes: list[str] | None, model_version: str) -> GrantResult | None:
    """The coupon asked for in this conversation: the best of ``ranked_codes`` the rules allow, else the rules' best.

    ``ranked_codes`` is the model's order (``None`` when the model did not
    answer); when none of them is allowed the grant is a fallback from the
    rules (``rules-v0``). A new grant is recorded as shown (rank 1), then
    granted. Returns ``None`` when no coupon is open to the customer; the
    same conversation always gets the same grant. Holds a lock on the
    customer's row until the caller's transaction ends, so concurrent calls
    for one customer count each other's grants against ``per_customer_limit``.
    """
    lock_row(session, Customer, customer_id)
    key = chat_key(customer_id, sender_id)
    held = granted_for(session, key)
    if held is not None:
        return GrantResult(held, False)
    customer = session.get(Customer, customer_id)
    assert customer is not None
    fallback = ranked_codes is None
    candidates: list[Coupon] = []
    if ranked_codes:
        by_code = {c.code: c for c in session.scalars(select(Coupon).where(Coupon.code.in_(ranked_codes)))}
        candidates = still_eligible(session, customer, [by_code[c] for c in ranked_codes if c in by_code], now)
    if not candidates:
        fallback, model_version = True, "rules-v0"
        candidates = eligible_coupons(session, customer, now)
    if not candidates:
        return None
    session.add(RecommendationEvent(customer_id=customer_id, sender_id=sender_id, created_at=now,
                                    kind=ItemKind.COUPON, item_id=candidates[0].id, event=RecEventType.SHOWN,
                                    rank=1, model_version=model_version, fallback=fallback))
    return grant(session, customer_id=customer_id, coupon=candidates[0], key=key, source="chat",
                 sender_id=sender_id, now=now, model_version=model_version, fallback=fallback)


def make_good_count(session: Session, customer_id: int, since: datetime) -> int:
    """Make-good coupons granted to the customer since ``since``."""
    return session.scalar(
        select(func.count()).select_from(CouponGrant).join(Coupon, Coupon.id == CouponGrant.coupon_id)
        .where(CouponGrant.customer_id == customer_id, Coupon.make_good.is_(True), CouponGrant.granted_at >= since)
    ) or 0


def grant_make_good(session: Session, *, customer_id: int, sender_id: str, now: datetime, limit: int,
                    period_days: int) -> GrantResult | None:
    """The make-good coupon for a complaint in this conversation, within ``limit`` per ``period_days``.

    Returns ``None`` when the customer is over the limit or no make-good
    coupon is open to them; the same conversation always gets the same grant.
    Holds a lock on the customer's row until the caller's transaction ends,
    so concurrent calls for one customer count each other's grants.
    """
    lock_row(session, Customer, customer_id)
    key = make_good_key(customer_id, sender_id)
    held = granted_for(session, key)
    if held is not None:
        return GrantResult(held, False)
    if make_good_count(session, customer_id, now - timedelta(days=period_days)) >= limit:
        return None
    customer = session.get(Customer, customer_id)
    assert customer is not None
    offers = session.scalars(select(Coupon).where(Coupon.make_good.is_(True), Coupon.active.is_(True))
                             .order_by(Coupon.discount_value.desc(), Coupon.id)).all()
    open_to_customer = still_eligible(session, customer, list(offers), now, allow_make_good=True)
    if not open_to_customer:
        return None
    return grant(session, customer_id=customer_id, coupon=open_to_customer[0], key=key, source="make_good",
                 sender_id=sender_id, now=now, model_version="rules-v0", fallback=False)
