"""``python -m store.api``: run the store API until interrupted.

Exit codes: 1 the database is unreachable or has no store tables, or the
port cannot be opened; 2 a bad flag or setting. Each failure is one line on
stderr, never a traceback. The database is checked before the port opens,
so a misconfigured process ends at once.
"""

from __future__ import annotations

import argparse
import logging
import sys

from aiohttp import web
from pydantic import ValidationError

from store.api.app import create_app
from store.db import DatabaseUnavailable, check_reachable, has_schema, make_engine, make_session_factory
from store.settings import Settings, load_settings


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m store.api`` (also ``python -m store serve-api``)."""
    parser = argparse.ArgumentParser(prog="python -m store.api", description="Run the store API.")
    parser.add_argument("--port", type=int, help="port (default: the store_api_port setting)")
    parser.add_argument("--database-url", help="overrides the database_url setting")
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, object] = {"database_url": args.database_url} if args.database_url else {}
    if args.port is not None:
        overrides["store_api_port"] = args.port
    return load_settings(**overrides)


def serve(settings: Settings) -> int:
    """Check the database, then serve on ``bind_host:store_api_port`` until interrupted; returns the exit code.

    ``python -m store serve-api`` can call this with the settings it loaded.
    """
    engine = make_engine(settings.database_url)
    try:
        check_reachable(engine)
        if not has_schema(engine):
            print("store api: error: the database has no store tables; run `python -m store migrate` first",
                  file=sys.stderr)
            return 1
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        app = create_app(settings, make_session_factory(engine))
        web.run_app(app, host=settings.bind_host, port=settings.store_api_port, print=None, access_log=None)
    except DatabaseUnavailable as error:
        print("store api: error: " + " ".join(str(error).split()), file=sys.stderr)
        return 1
    except OSError as error:
        print(f"store api: error: cannot serve on {settings.bind_host}:{settings.store_api_port}: {error}",
              file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, load the settings and serve; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        settings = _settings(args)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "settings"
        print(f"store api: error: bad setting {where}: {problem['msg']}", file=sys.stderr)
        return 2
    return serve(settings)


if __name__ == "__main__":
    raise SystemExit(main())
