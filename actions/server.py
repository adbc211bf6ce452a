"""The action server: rasa-sdk's app for this package, behind a shared-secret header.

rasa-sdk checks no credentials, so every request except ``/health`` must
carry ``X-Shop-Action-Token`` equal to ``settings.action_token`` (compared
in constant time); anything else gets a 401 with a JSON error.
"""

from __future__ import annotations

import hmac
import logging

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions.context import build_context, set_context
from store.db import DatabaseUnavailable, check_reachable, has_schema
from store.settings import Settings

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Shop-Action-Token"
OPEN_PATHS = frozenset({"/health"})
ACTIONS_PACKAGE = "actions"


def token_matches(presented: str | None, expected: str) -> bool:
    """Whether the presented header equals the expected token, in constant time."""
    if presented is None:
        return False
    return hmac.compare_digest(presented.encode("utf-8"), expected.encode("utf-8"))


def build_app(settings: Settings) -> Sanic:
    """The rasa-sdk Sanic app serving every action of the package, guarded by the token header."""
    executor = ActionExecutor()
    executor.register_package(ACTIONS_PACKAGE)
    # No browser should call the action server directly: no CORS origins.
    app = create_app(executor, cors_origins="")
    expected = settings.action_token.get_secret_value()

    @app.on_request
    async def require_token(request: Request) -> HTTPResponse | None:
        if request.path in OPEN_PATHS:
            return None
        if not token_matches(request.headers.get(TOKEN_HEADER), expected):
            logger.warning("rejected %s %s: missing or wrong %s", request.method, request.path, TOKEN_HEADER)
            return response.json({"error": f"missing or invalid {TOKEN_HEADER} header"}, status=401)
        return None

    return app


def serve(settings: Settings) -> None:
    """Check the database and its schema, then serve the actions on ``bind_host:action_port`` until stopped."""
    context = build_context(settings)
    check_reachable(context.engine)
    if not has_schema(context.engine):
        raise DatabaseUnavailable(
            f"the database at {context.engine.url.render_as_string(hide_password=True)} has no store tables; "
            "build or migrate it first (python -m store ...)"
        )
    set_context(context)
    app = build_app(settings)
    logger.info("action server listening on http://%s:%s", settings.bind_host, settings.action_port)
    # One process: the context above (engine, pool) is built once and shared by every request.
    app.prepare(host=settings.bind_host, port=settings.action_port, single_process=True, motd=False, access_log=False)
    Sanic.serve_single(app)
