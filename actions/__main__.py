"""``python -m actions``: run the action server with the process's settings."""

from __future__ import annotations

import argparse
import logging
import sys

from store.db import DatabaseUnavailable
from store.settings import load_settings


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, load the settings and serve until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m actions", description="Serve the shop's custom actions.")
    parser.add_argument("--port", type=int, help="override the action_port setting")
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    overrides = {"action_port": args.port} if args.port else {}
    settings = load_settings(**overrides)

    from actions.server import serve  # imported here: rasa-sdk and Sanic load only when serving

    try:
        serve(settings)
    except DatabaseUnavailable as error:
        logging.getLogger("actions").error("%s", error)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
