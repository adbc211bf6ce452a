"""``python -m recommender.serving --model-dir DIR``: run the model server.

The model is loaded before the port opens, so a missing or broken model
dir ends the process at once with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from aiohttp import web

from recommender.serving.app import create_app
from recommender.serving.engine import RecommendationEngine
from recommender.serving.model_dir import ModelDirError, check_model_dir
from store.settings import load_settings


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m recommender.serving", description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", required=True, type=Path, help="a recommender.train output folder")
    parser.add_argument("--adapter", default="default", help="adapter name under MODEL_DIR/adapters")
    parser.add_argument("--port", type=int, help="port (default: the settings' model_port)")
    parser.add_argument("--database-url", help="store database URL (default: the settings' database_url)")
    parser.add_argument("--max-batch", type=int, default=32, help="largest micro-batch (1 = no batching)")
    parser.add_argument("--max-wait-ms", type=float, default=5.0, help="longest wait for batch companions")
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: the model's config)")
    parser.add_argument("--evidence-events", type=int, default=4, help="recent events tried for evidence")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """Load the model, then serve until interrupted."""
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    settings = load_settings()
    if args.max_batch < 1:
        print("error: --max-batch must be at least 1", file=sys.stderr)
        sys.exit(2)
    try:
        check_model_dir(args.model_dir, args.adapter)
        engine = RecommendationEngine.load(args.model_dir, args.adapter,
                                           database_url=args.database_url or settings.database_url,
                                           threads=args.threads, evidence_events=args.evidence_events)
    except ModelDirError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
    except Exception as error:  # noqa: BLE001 - torch, safetensors, peft and json each raise their own types
        first = str(error).splitlines()[0] if str(error) else ""
        print(f"error: model dir {args.model_dir} could not be loaded: {type(error).__name__}: {first}",
              file=sys.stderr)
        sys.exit(2)
    app = create_app(settings, lambda: engine, max_batch=args.max_batch, max_wait_s=args.max_wait_ms / 1000)
    web.run_app(app, host=settings.bind_host, port=args.port or settings.model_port, print=None,
                access_log=None)


if __name__ == "__main__":
    main()
