"""The benchmark run: a fresh store and stack, the conversations, the checks, the report."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from sqlalchemy.engine import make_url
from tqdm import tqdm

from bot.bench_turns import cpu
from bot.bench_turns.client import Conversation, TurnResult, run_conversations
from bot.bench_turns.model_metrics import MetricsUnavailable, Snapshot, difference, read_snapshot
from bot.bench_turns.report import summarize, write_report
from bot.bench_turns.setup import (
    BenchSetupError,
    copy_sqlite_store,
    free_port,
    make_conversations,
    pick_customers,
    sqlite_path,
)
from bot.bench_turns.tracker_check import (
    DeliveryCheck,
    RecommendationSources,
    check_delivery,
    read_tracked_turns,
    recommendation_sources,
)
from bot.launch import Stack, has_model
from store.db import make_engine, make_session_factory
from store.settings import REPO_ROOT, Settings, load_settings


@dataclass(frozen=True)
class BenchOptions:
    """What the command line asked for (validated there)."""

    model_dir: Path | None
    conversations: int
    turns: int
    warmup_turns: int
    database_url: str | None
    demo_scale: float | None
    out: Path
    turn_timeout_s: float
    keep_var: bool
    think_s: float = 0.0
    rasa_models: Path = REPO_ROOT / "models"


@dataclass
class CpuWatch:
    """CPU seconds of the stack's process groups over the timed part (``used`` stays ``None`` without /proc)."""

    groups: dict[str, int]
    first: dict[str, float] | None = None
    used: dict[str, float | int] | None = None

    def start(self) -> None:
        if cpu.available():
            self.first = cpu.snapshot(self.groups)

    def stop(self) -> None:
        if self.first is not None:
            self.used = cpu.usage(self.first, cpu.snapshot(self.groups))


@dataclass(frozen=True)
class Measurement:
    """Every turn of a run, what the database says about them and the model server's own counters."""

    results: list[TurnResult]
    delivery: DeliveryCheck
    sources: RecommendationSources
    model_server: dict[str, Any] | None
    cpu_seconds: dict[str, float | int] | None


async def hold_and_scrape(settings: Settings, rasa_url: str, held: list[Conversation], turn_timeout_s: float,
                          on_turn: Callable[[TurnResult], None], scrape: bool, think_s: float,
                          cpu_watch: CpuWatch) -> tuple[list[TurnResult], dict | None]:
    """Run the conversations; with ``scrape``, read the model server's counters around the timed part."""
    token = settings.model_server_token.get_secret_value()
    before: list[Snapshot | MetricsUnavailable] = []

    async def snapshot(session: aiohttp.ClientSession) -> None:
        cpu_watch.start()
        if not scrape:
            return
        try:
            before.append(await read_snapshot(session, settings.model_server_url, token))
        except MetricsUnavailable as error:
            before.append(error)

    results = await run_conversations(rasa_url, held, turn_timeout_s=turn_timeout_s, on_turn=on_turn,
                                      between_phases=snapshot, think_s=think_s)
    cpu_watch.stop()
    if not scrape:
        return results, None
    try:
        if isinstance(before[0], MetricsUnavailable):
            raise before[0]
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
            after = await read_snapshot(session, settings.model_server_url, token)
    except MetricsUnavailable as error:  # the model server may be the thing that failed: report it, go on
        return results, {"error": str(error)}
    return results, difference(before[0], after)


def measure(settings: Settings, rasa_url: str, *, conversations: int, turns: int, warmup_turns: int,
            turn_timeout_s: float, think_s: float = 0.0, process_groups: dict[str, int] | None = None,
            progress: bool = True) -> Measurement:
    """Hold the conversations against a running stack, then check the tracker store and recommendation events;
    ``process_groups`` (name: process group id) are the stack's processes whose CPU time is reported."""
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)
    held = make_conversations(settings, pick_customers(factory, conversations), warmup_turns, turns)
    total = sum(len(c.plan) for c in held)
    with tqdm(total=total, unit="turn", desc="turns", disable=not progress) as bar:
        failed = 0

        def on_turn(result: TurnResult) -> None:
            nonlocal failed
            failed += not result.ok
            bar.update()
            bar.set_postfix(failed=failed, refresh=False)

        cpu_watch = CpuWatch(process_groups or {})
        results, model_server = asyncio.run(
            hold_and_scrape(settings, rasa_url, held, turn_timeout_s, on_turn, scrape=has_model(settings),
                            think_s=think_s, cpu_watch=cpu_watch))
    try:
        tracked = read_tracked_turns(engine, [c.sender for c in held])
        return Measurement(results, check_delivery(results, tracked), recommendation_sources(factory, results),
                           model_server, cpu_watch.used)
    finally:
        engine.dispose()


def prepare_store(options: BenchOptions, var_dir: Path, base: Settings) -> tuple[str, str]:
    """The database URL the stack will use, and a line saying where it came from."""
    if options.demo_scale is not None:
        from store.demo import build_demo_store

        url = f"sqlite:///{var_dir / 'shop.db'}"
        build_demo_store(url, scale=options.demo_scale, progress=True)
        return url, f"fresh demo store, scale {options.demo_scale}, seed 7, built into the run's var dir"
    source_url = options.database_url or base.database_url
    source = sqlite_path(source_url)
    if source is None:
        return source_url, f"{make_url_safe(source_url)} used in place (the run's conversations stay in it)"
    copy_sqlite_store(source, var_dir / "shop.db")
    return f"sqlite:///{var_dir / 'shop.db'}", f"copy of {source} in a fresh var dir"


def make_url_safe(url: str) -> str:
    """The URL without its password, for reports."""
    return make_url(url).render_as_string(hide_password=True)


def git_commit() -> str:
    """HEAD's short hash, marked when the working tree has changes."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=REPO_ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}{' + uncommitted changes' if dirty else ''}"


def run_info(options: BenchOptions, settings: Settings, store: str, model: str, results: list[TurnResult],
             load_before: str, dead: list[str]) -> dict[str, Any]:
    """The run's conditions, for the report."""
    timed = [r for r in results if not r.warmup]
    began = min((r.started_at for r in timed), default=None)
    ended = max((r.started_at + timedelta(seconds=r.seconds) for r in timed), default=None)
    return {
        "conversations": options.conversations, "timed_turns_per_conversation": options.turns,
        "warmup_turns_per_conversation": options.warmup_turns, "think_s": options.think_s, "store": store,
        "model": model,
        "recommend_timeout_s": settings.recommend_timeout_s, "commit": git_commit(),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"), "cpu_count": os.cpu_count(),
        "load_before": load_before, "load_after": _load(), "python": sys.version.split()[0],
        "timed_wall_s": round((ended - began).total_seconds(), 1) if began and ended else None,
        "timed_turns_per_s": round(len(timed) / (ended - began).total_seconds(), 2) if began and ended else None,
        "processes_dead_at_end": dead,
    }


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def run_benchmark(options: BenchOptions) -> dict[str, Any]:
    """Start a fresh stack, run the conversations, check them and write the report; returns the summary."""
    if not list(options.rasa_models.glob("*.tar.gz")):
        raise BenchSetupError(f"no trained Rasa model in {options.rasa_models}: run `make train`")
    base = load_settings()
    var_dir = Path(tempfile.mkdtemp(prefix="bench-turns-"))
    succeeded = False
    try:
        url, store = prepare_store(options, var_dir, base)
        settings = load_settings(
            database_url=url, var_dir=var_dir, model_dir=options.model_dir or base.model_dir,
            rasa_port=free_port(), action_port=free_port(), model_port=free_port(), store_api_port=free_port(),
        )
        if has_model(settings):
            model = f"{settings.model_dir} (adapter {settings.model_adapter}), served by the model server"
        else:
            model = f"NONE: {settings.model_dir} holds no trained recommender, every recommendation is the fallback"
            print(f"warning: {model}", file=sys.stderr)
        print(f"store: {store}\nrecommender: {model}\nstarting the stack (logs in {var_dir / 'logs'}) ...",
              flush=True)
        load_before = _load()
        with Stack(settings, model_path=options.rasa_models) as stack:
            measured = measure(settings, stack.rasa_url, conversations=options.conversations, turns=options.turns,
                               warmup_turns=options.warmup_turns, turn_timeout_s=options.turn_timeout_s,
                               think_s=options.think_s,
                               process_groups={p.name: p.popen.pid for p in stack.processes if p.popen is not None})
            dead = [p.name for p in stack.processes if p.popen is not None and p.popen.poll() is not None]
        info = run_info(options, settings, store, model, measured.results, load_before, dead)
        summary = summarize(measured.results, measured.delivery, measured.sources, measured.model_server,
                            measured.cpu_seconds, info)
        write_report(measured.results, summary, options.out)
        succeeded = True
        return summary
    finally:
        if succeeded and not options.keep_var:
            shutil.rmtree(var_dir)
        else:
            print(f"the run's var dir (store copy, logs) is kept in {var_dir}", file=sys.stderr)
