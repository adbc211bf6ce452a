"""``python -m store``: migrate, build-demo, import, token, check-db.

Exit codes: 0 done; 1 the database is unreachable, has no schema, or holds
data ``build-demo`` will not overwrite without ``--force``; 2 a bad flag,
value or file (one line on stderr, never a traceback).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timezone
from pathlib import Path
from typing import NoReturn

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from store.settings import Settings, load_settings

STAMP_FILE = "demo-build.json"


class UsageError(Exception):
    """A bad flag, value or file: exit code 2."""


class StoreError(Exception):
    """The database cannot do what was asked: exit code 1."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line naming the problem, not argparse's usage block.
        raise UsageError(
            f"{message} (see `python -m store {self.prog.split()[-1]} --help`)"
            if " " in self.prog
            else f"{message} (see `python -m store --help`)"
        )


def _end_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date in YYYY-MM-DD form: {text!r}") from None


def _scale(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 10:
        raise argparse.ArgumentTypeError(f"must be more than 0 and at most 10, got {text}")
    return value


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return path


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m store``."""
    parser = _Parser(prog="store", description="The store's data tools.")
    parser.add_argument("--database-url", help="overrides the database_url setting")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser("migrate", help="bring the database to the newest schema")
    demo = commands.add_parser("build-demo", help="build the seeded demo store (reused when unchanged)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument("--end-date", type=_end_date, default=None, help="YYYY-MM-DD; default today (UTC)")
    demo.add_argument("--scale", type=_scale, default=1.0)
    demo.add_argument("--force", action="store_true", help="rebuild, even over data that is not a demo build")
    demo.add_argument(
        "--quiet", action="store_true", help="no progress bar (there is none unless stderr is a terminal)"
    )
    load = commands.add_parser("import", help="import a catalog, interactions or sequence file")
    load.add_argument("kind", choices=("catalog", "interactions", "sequences"))
    load.add_argument("file", type=_file)
    load.add_argument(
        "--quiet", action="store_true", help="no progress bar (there is none unless stderr is a terminal)"
    )
    token = commands.add_parser("token", help="print a signed token for a customer")
    token.add_argument("customer")
    token.add_argument("--ttl", type=_positive, default=None, help="seconds; default the token_ttl_s setting")
    commands.add_parser("check-db", help="exit non-zero if the database is unreachable")
    api = commands.add_parser("serve-api", help="run the store API (orders in, click links) until interrupted")
    api.add_argument("--port", type=_positive, default=None, help="default: the store_api_port setting")
    return parser


def _progress(args: argparse.Namespace) -> bool:
    # Bars only on a terminal: in logs and pipes they are noise.
    return not args.quiet and sys.stderr.isatty()


def _migrate(settings: Settings, _args: argparse.Namespace) -> str:
    from store.db import upgrade

    upgrade(settings.database_url)
    return "database schema is up to date"


def _build_demo(settings: Settings, args: argparse.Namespace) -> str:
    from store.db import make_engine
    from store.demo import build_demo_store
    from store.demo.stamp import (
        DatabaseState,
        classify,
        fingerprint,
        generator_version,
        read_stamps,
        url_key,
        write_stamp,
    )

    url = settings.database_url
    end_date = args.end_date or datetime.now(timezone.utc).date()
    parameters = {
        "seed": args.seed,
        "end_date": end_date.isoformat(),
        "scale": args.scale,
        "generator": generator_version(),
    }
    stamp_path = settings.var_dir / STAMP_FILE
    engine = make_engine(url)
    try:
        counts = fingerprint(engine)
    finally:
        engine.dispose()
    state = classify(counts, read_stamps(stamp_path).get(url_key(url)), parameters)
    if state is DatabaseState.SAME_BUILD and not args.force:
        return f"reused the demo store already built with {_describe(parameters)} (use --force to rebuild)"
    if state is DatabaseState.OTHER and not args.force:
        raise StoreError(
            f"the database holds data that is not a demo build ({counts.get('products', 0)} products, "
            f"{counts.get('orders', 0)} orders); pass --force to replace it"
        )
    summary = build_demo_store(url, seed=args.seed, end_date=end_date, scale=args.scale, progress=_progress(args))
    engine = make_engine(url)
    try:
        built = fingerprint(engine)
    finally:
        engine.dispose()
    write_stamp(
        stamp_path,
        url,
        {
            "parameters": parameters,
            "counts": built,
            "seconds": summary.seconds,
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
    )
    counts_text = ", ".join(
        f"{n} {t}" for t, n in summary.counts.items() if t in ("products", "customers", "order_lines", "consultations")
    )
    return f"built the demo store with {_describe(parameters)} in {summary.seconds:.1f} s: {counts_text}"


def _describe(parameters: dict) -> str:
    return f"seed {parameters['seed']}, end date {parameters['end_date']}, scale {parameters['scale']:g}"


def _import(settings: Settings, args: argparse.Namespace) -> str:
    from store.importer import ImportFileError, SchemaMissing, run_import

    try:
        summary = run_import(settings.database_url, args.kind, args.file, progress=_progress(args))
    except ImportFileError as error:
        raise UsageError(str(error)) from error
    except SchemaMissing as error:
        raise StoreError(str(error)) from error
    done = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in summary.counts.items())
    return f"imported {args.file} in {summary.seconds:.1f} s: {done}"


def _token(settings: Settings, args: argparse.Namespace) -> str:
    from store.db import has_schema, make_engine
    from store.identity import sign_token
    from store.models import Customer

    engine = make_engine(settings.database_url)
    try:
        if not has_schema(engine):
            raise StoreError("the database has no store tables; run `python -m store migrate` first")
        with engine.connect() as connection:
            found = connection.scalar(select(Customer.id).where(Customer.external_id == args.customer))
    finally:
        engine.dispose()
    if found is None:
        raise UsageError(f"no customer with external id {args.customer!r}")
    return sign_token(args.customer, settings.token_secret.get_secret_value(), args.ttl or settings.token_ttl_s)


def _check_db(settings: Settings, _args: argparse.Namespace) -> str:
    from store.db import check_reachable, has_schema, make_engine

    engine = make_engine(settings.database_url)
    try:
        check_reachable(engine)
        schema = "store tables present" if has_schema(engine) else "no store tables yet (run migrate)"
    finally:
        engine.dispose()
    return f"database reachable: {engine.url.render_as_string(hide_password=True)}; {schema}"


def _fail(message: str) -> None:
    # Drivers write several lines; the user gets one.
    print("store: error: " + " ".join(message.split()), file=sys.stderr)


COMMANDS = {"migrate": _migrate, "build-demo": _build_demo, "import": _import, "token": _token, "check-db": _check_db}


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    from store.db import DatabaseUnavailable

    try:
        args = build_parser().parse_args(argv)
        overrides: dict[str, object] = {"database_url": args.database_url} if args.database_url else {}
        if args.command == "serve-api" and args.port is not None:
            overrides["store_api_port"] = args.port
        try:
            settings = load_settings(**overrides)
        except ValidationError as error:
            problem = error.errors()[0]
            where = ".".join(str(p) for p in problem["loc"]) or "settings"
            raise UsageError(f"bad setting {where}: {problem['msg']}") from None
        if args.command == "serve-api":
            from store.api.__main__ import serve

            return serve(settings)
        print(COMMANDS[args.command](settings, args))
        return 0
    except UsageError as error:
        _fail(str(error))
        return 2
    except (StoreError, DatabaseUnavailable) as error:
        _fail(str(error))
        return 1
    except OperationalError as error:
        _fail(f"database failure: {error.orig}")
        return 1
    except KeyboardInterrupt:
        print("store: interrupted", file=sys.stderr)
        return 130
