"""Command line of the whole-turn benchmark: ``python -m bot.bench_turns --help``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.bench_turns import __doc__ as package_doc
from bot.bench_turns.bench import BenchOptions, run_benchmark
from bot.bench_turns.setup import BenchSetupError
from bot.launch import StartupError
from store.settings import REPO_ROOT

MAX_CONVERSATIONS = 200


def parse_options(argv: list[str] | None) -> tuple[BenchOptions, bool]:
    """Validated options and whether a missed target should set the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bot.bench_turns", description=(package_doc or "").split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, help="trained recommender to serve (default: settings.model_dir)")
    parser.add_argument("--conversations", type=int, default=20, help="concurrent conversations (default 20)")
    parser.add_argument("--turns-per-conversation", type=int, default=10, help="timed turns each (default 10)")
    parser.add_argument("--warmup-turns", type=int, default=2, help="untimed turns each before the timed ones (default 2)")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--database-url", help="store to run against (default: settings.database_url); a SQLite "
                        "store is copied into a fresh var dir, a PostgreSQL one is used in place")
    source.add_argument("--demo-scale", type=float, help="build a fresh demo store of this scale instead")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "bench" / "turns",
                        help="folder for report.md, report.json, latency.png (default results/bench/turns)")
    parser.add_argument("--think-time", type=float, default=0.0,
                        help="seconds a customer pauses between a reply and the next message (default 0: back to back)")
    parser.add_argument("--turn-timeout", type=float, default=120.0, help="seconds before a turn counts as failed")
    parser.add_argument("--keep-var", action="store_true", help="keep the run's var dir (store copy, logs)")
    parser.add_argument("--check", action="store_true", help="exit 3 when a target is missed (ratio or a lost message)")
    args = parser.parse_args(argv)
    if not 1 <= args.conversations <= MAX_CONVERSATIONS:
        parser.error(f"--conversations must be 1..{MAX_CONVERSATIONS}, got {args.conversations}")
    if args.turns_per_conversation < 2:
        parser.error(f"--turns-per-conversation must be >= 2 (one of each kind), got {args.turns_per_conversation}")
    if args.warmup_turns < 0:
        parser.error(f"--warmup-turns must be >= 0, got {args.warmup_turns}")
    if not 0 <= args.think_time <= 60:
        parser.error(f"--think-time must be 0..60 seconds, got {args.think_time}")
    if args.turn_timeout <= 0:
        parser.error(f"--turn-timeout must be positive, got {args.turn_timeout}")
    if args.demo_scale is not None and not 0 < args.demo_scale <= 10:
        parser.error(f"--demo-scale must be in (0, 10], got {args.demo_scale}")
    if args.model_dir is not None and not args.model_dir.is_dir():
        parser.error(f"--model-dir {args.model_dir}: no such folder")
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out}: exists and is not a folder")
    if args.database_url and not args.database_url.startswith(("sqlite", "postgresql")):
        parser.error(f"--database-url must be a sqlite:// or postgresql:// URL, got {args.database_url!r}")
    options = BenchOptions(
        model_dir=args.model_dir, conversations=args.conversations, turns=args.turns_per_conversation,
        warmup_turns=args.warmup_turns, database_url=args.database_url, demo_scale=args.demo_scale,
        out=args.out, turn_timeout_s=args.turn_timeout, keep_var=args.keep_var, think_s=args.think_time,
    )
    return options, args.check


def main(argv: list[str] | None = None) -> int:
    options, check = parse_options(argv)
    try:
        summary = run_benchmark(options)
    except (BenchSetupError, StartupError) as error:
        print(f"bench_turns: {error}", file=sys.stderr)
        return 1
    print((options.out / "report.md").read_text())
    print(f"written: {options.out / 'report.md'}, report.json, latency.png")
    met = summary["verdict"]["ratio_met"] and summary["verdict"]["no_message_lost"]
    return 3 if check and not met else 0


if __name__ == "__main__":
    sys.exit(main())
