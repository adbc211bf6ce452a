"""The model server's aiohttp application.

``create_app`` builds the app; nothing starts until aiohttp runs its
``cleanup_ctx``: then the micro-batcher starts and the model loads in the
background on the batcher's worker thread. Until it is loaded every endpoint
but ``/healthz`` answers 503 ``warming_up``. Every endpoint but ``/healthz``
and ``/readyz`` needs ``Authorization: Bearer <model_server_token>``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from recommender.serving.batcher import BatcherClosed, MicroBatcher
from recommender.serving.engine import AdapterRejected, Outcome, RecommendationEngine, RecommendRequest, RequestError
from recommender.serving.metrics import ServerMetrics
from recommender.serving.schemas import AdapterBody, RecommendBody, first_error
from store.settings import Settings

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
OPEN_PATHS = frozenset({"/healthz", "/readyz"})

EngineFactory = Callable[[], RecommendationEngine]


class _State:
    """What the handlers share: the engine once warm, the batcher, metrics."""

    def __init__(self, batcher: MicroBatcher[RecommendRequest, Outcome], metrics: ServerMetrics) -> None:
        self.batcher = batcher
        self.metrics = metrics
        self.engine: RecommendationEngine | None = None
        self.load_error: str | None = None
        self.swap_lock = asyncio.Lock()


STATE = web.AppKey("state", _State)


def create_app(settings: Settings, engine_factory: EngineFactory, *, max_batch: int = 32,
               max_wait_s: float = 0.005) -> web.Application:
    """The model server app.

    Args:
        settings: Gives ``model_server_token``.
        engine_factory: Builds the loaded ``RecommendationEngine``; called once, on the model worker thread.
        max_batch: Largest micro-batch (1 disables batching).
        max_wait_s: Longest a request waits for companions.
    """
    token = settings.model_server_token.get_secret_value().encode()
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_auth_middleware(token)])

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        metrics = ServerMetrics.create()
        state: _State

        def run_batch(requests: list[RecommendRequest]) -> list[Outcome]:
            assert state.engine is not None
            return state.engine.run_batch(requests)

        batcher: MicroBatcher[RecommendRequest, Outcome] = MicroBatcher(
            run_batch, max_batch=max_batch, max_wait_s=max_wait_s, on_batch=metrics.observe_batch)
        state = _State(batcher, metrics)
        app[STATE] = state
        batcher.start()
        warm = asyncio.get_running_loop().create_task(_warm_up(state, engine_factory), name="model-warm-up")
        yield
        warm.cancel()
        await batcher.stop()
        if state.engine is not None:
            state.engine.close()

    app.cleanup_ctx.append(lifecycle)
    app.router.add_get("/healthz", _healthz)
    app.router.add_get("/readyz", _readyz)
    app.router.add_get("/metrics", _warm(_metrics))
    app.router.add_post("/v1/recommend", _warm(_recommend))
    app.router.add_post("/v1/admin/adapter", _warm(_swap_adapter))
    return app


async def _warm_up(state: _State, engine_factory: EngineFactory) -> None:
    try:
        engine = await state.batcher.run_in_worker(engine_factory)
    except Exception as error:  # noqa: BLE001 - stays not-ready and says why in the log and /readyz
        state.load_error = f"{type(error).__name__}: {error}"
        log.error("model failed to load: %s", state.load_error)
        return
    state.metrics.set_model(engine.version, engine.device)
    state.engine = engine
    log.info("model %s ready on %s", engine.version, engine.device)


def _auth_middleware(token: bytes) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def auth(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
                   ) -> web.StreamResponse:
        if request.path not in OPEN_PATHS:
            header = request.headers.get("Authorization", "")
            given = header[len("Bearer "):].encode() if header.startswith("Bearer ") else b""
            if not hmac.compare_digest(given, token):
                return web.json_response({"error": "unauthorized"}, status=401)
        return await handler(request)

    return auth


def _warm(handler: Callable[[web.Request], Awaitable[web.Response]]) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def guarded(request: web.Request) -> web.Response:
        state = request.app[STATE]
        started = time.monotonic()
        if state.engine is None:
            response = web.json_response({"error": "warming_up"}, status=503)
        else:
            response = await handler(request)
        state.metrics.requests.labels(endpoint=request.path, status=str(response.status)).inc()
        state.metrics.latency.labels(endpoint=request.path).observe(time.monotonic() - started)
        return response

    return guarded


async def _healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def _readyz(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if state.engine is None:
        body = {"status": "warming_up"} if state.load_error is None else {"status": "failed", "error": state.load_error}
        return web.json_response(body, status=503)
    return web.json_response({"status": "ready", "model_version": state.engine.version})


async def _metrics(request: web.Request) -> web.Response:
    return web.Response(body=request.app[STATE].metrics.render(), content_type="text/plain", charset="utf-8")



T = TypeVar("T", bound=BaseModel)

async def _read_body(request: web.Request) -> str | web.Response:
    try:
        return await request.text()
    except web.HTTPRequestEntityTooLarge:
        return web.json_response({"error": "invalid_request", "field": "body", "message": "body too large"},
                                 status=413)
    except UnicodeDecodeError:
        return web.json_response({"error": "invalid_request", "field": "body", "message": "body is not UTF-8"},
                                 status=400)


async def _parse_body(request: web.Request, model: type[T]) -> T | web.Response:
    """The request body as ``model``, or the 400/413 answer that names what is wrong."""
    raw = await _read_body(request)
    if isinstance(raw, web.Response):
        return raw
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        return web.json_response(first_error(error), status=400)


async def _recommend(request: web.Request) -> web.Response:
    body = await _parse_body(request, RecommendBody)
    if isinstance(body, web.Response):
        return body
    try:
        outcome = await request.app[STATE].batcher.submit(body.to_request())
    except BatcherClosed:
        return web.json_response({"error": "shutting_down"}, status=503)
    if isinstance(outcome, RequestError):
        payload = {"error": outcome.error, "message": outcome.message}
        if outcome.field is not None:
            payload["field"] = outcome.field
        return web.json_response(payload, status=outcome.status)
    return web.json_response(outcome)


async def _swap_adapter(request: web.Request) -> web.Response:
    body = await _parse_body(request, AdapterBody)
    if isinstance(body, web.Response):
        return body
    state = request.app[STATE]
    engine = state.engine
    assert engine is not None
    async with state.swap_lock:
        previous = engine.version
        try:
            version = await state.batcher.run_in_worker(lambda: engine.swap_adapter(body.path, body.name))
        except AdapterRejected as error:
            log.warning("adapter %s refused: %s", body.path, error)
            return web.json_response({"error": "adapter_rejected", "message": str(error), "model_version": previous},
                                     status=409)
    state.metrics.set_model(version, engine.device)
    log.info("adapter swapped: %s -> %s", previous, version)
    return web.json_response({"model_version": version, "previous": previous})
