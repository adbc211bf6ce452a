"""The store API's aiohttp application: orders in from the shop's backend, click tracking out.

``create_app`` builds the app; the database engine is opened in its
``cleanup_ctx`` (and disposed there) unless the caller passes a session
factory. Every endpoint but ``GET /healthz`` and the click links
``GET /r/{event_id}`` (opened by customers' browsers, which carry their own
signature instead) needs ``Authorization: Bearer <store_api_token>``.
Database work runs in worker threads, one transaction per request.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timezone
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from store.api.clicks import product_link, record_click, signature_ok
from store.api.errors import ApiError, conflict, invalid
from store.api.order_status import change_status
from store.api.orders import OrderResult, place_order
from store.api.schemas import OrderBody, StatusBody, first_error
from store.db import make_engine, make_session_factory
from store.settings import Settings

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
OPEN_PATHS = frozenset({"/healthz"})
CLICK_PREFIX = "/r/"

Clock = Callable[[], datetime]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
R = TypeVar("R")
T = TypeVar("T", bound=BaseModel)

SETTINGS = web.AppKey("settings", Settings)
SESSIONS = web.AppKey("sessions", sessionmaker)
CLOCK = web.AppKey("clock", Callable)  # type: ignore[arg-type]


def utc_now() -> datetime:
    """Now, as the store keeps times: naive UTC."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def create_app(
    settings: Settings, session_factory: sessionmaker[Session] | None = None, *, clock: Clock = utc_now
) -> web.Application:
    """The store API app.

    Args:
        settings: Gives the token, the database URL, the attribution window, the product URL and the
            click de-duplication window.
        session_factory: Sessions on the store database; by default one is made from
            ``settings.database_url`` when the app starts and disposed when it stops.
        clock: Now, naive UTC (tests pass a fixed one).
    """
    token = settings.store_api_token.get_secret_value().encode()
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_auth_middleware(token)])
    app[SETTINGS] = settings
    app[CLOCK] = clock

    async def database(app: web.Application) -> AsyncIterator[None]:
        if session_factory is not None:
            app[SESSIONS] = session_factory
            yield
            return
        engine = make_engine(settings.database_url)
        app[SESSIONS] = make_session_factory(engine)
        yield
        engine.dispose()

    app.cleanup_ctx.append(database)
    app.router.add_get("/healthz", _healthz)
    app.router.add_post("/v1/orders", _post_order)
    app.router.add_patch("/v1/orders/{order_number}", _patch_order)
    app.router.add_get("/r/{event_id}", _click)
    return app


def _auth_middleware(token: bytes) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def auth(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path not in OPEN_PATHS and not request.path.startswith(CLICK_PREFIX):
            header = request.headers.get("Authorization", "")
            given = header[len("Bearer "):].encode() if header.startswith("Bearer ") else b""
            if not hmac.compare_digest(given, token):
                return web.json_response({"error": "unauthorized", "message": "a valid bearer token is required"},
                                         status=401)
        return await handler(request)

    return auth


async def _in_transaction(request: web.Request, work: Callable[[Session], R]) -> R:
    """Run ``work`` in a worker thread inside one transaction: committed on return, rolled back on any error."""
    factory = request.app[SESSIONS]

    def run() -> R:
        with factory() as session, session.begin():
            return work(session)

    return await asyncio.to_thread(run)


async def _parse_body(request: web.Request, model: type[T]) -> T:
    """The request body as ``model``; raises ``ApiError`` naming ``body`` or the bad field."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise ApiError(413, "invalid_request", "body", f"body is larger than {MAX_BODY_BYTES} bytes") from None
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise invalid(*first_error(error)) from None


def _error(error: ApiError) -> web.Response:
    return web.json_response(error.body(), status=error.status)


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def _post_order(request: web.Request) -> web.Response:
    settings, now = request.app[SETTINGS], request.app[CLOCK]()
    try:
        body = await _parse_body(request, OrderBody)

        def work(session: Session) -> OrderResult:
            return place_order(session, body, now=now, window_days=settings.attribution_window_days)

        try:
            result = await _in_transaction(request, work)
        except IntegrityError:
            # Another request wrote the same order number (or redeemed the same grant) first: run again and
            # answer as for a retry or a conflict, from what that request committed.
            log.info("order %s raced another request; retrying once", body.order_number)
            result = await _in_transaction(request, work)
    except ApiError as error:
        return _error(error)
    except IntegrityError:
        return _error(conflict("body", "the order conflicts with data written at the same time; send it again"))
    if result.created:
        log.info("order %s placed: total %s, %d attributed", result.order_number, result.total,
                 len(result.attributed))
    return web.json_response(result.body(), status=201 if result.created else 200)


async def _patch_order(request: web.Request) -> web.Response:
    now = request.app[CLOCK]()
    number = request.match_info["order_number"]
    try:
        body = await _parse_body(request, StatusBody)
        state = await _in_transaction(request, lambda session: change_status(session, number, body, now=now))
    except ApiError as error:
        return _error(error)
    return web.json_response(state)


async def _click(request: web.Request) -> web.StreamResponse:
    settings, now = request.app[SETTINGS], request.app[CLOCK]()
    text = request.match_info["event_id"]
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return _error(ApiError(404, "not_found", "event_id", f"no recommendation has the id {text!r}"))
    event_id = int(text)
    if not signature_ok(settings, event_id, request.query.get("sig", "")):
        return _error(ApiError(403, "forbidden", "sig", "the link's signature is missing or wrong"))
    try:
        sku = await _in_transaction(request, lambda session: record_click(
            session, event_id, now=now, dedup_seconds=settings.click_dedup_seconds))
    except ApiError as error:
        return _error(error)
    raise web.HTTPFound(product_link(settings, sku))
