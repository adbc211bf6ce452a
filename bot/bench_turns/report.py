"""Figures of a run and the files that hold them: report.md, report.json and latency.png."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from bot.bench_turns.client import TurnResult
from bot.bench_turns.script import KINDS, PLAIN, RECOMMEND
from bot.bench_turns.tracker_check import DeliveryCheck, RecommendationSources

RATIO_TARGET = 1.5


def latency_stats(seconds: list[float]) -> dict[str, float | int | None]:
    """Count, p50, p95, max and mean in milliseconds (``None`` without samples); linear-interpolated percentiles."""
    if not seconds:
        return {"n": 0, "p50_ms": None, "p95_ms": None, "max_ms": None, "mean_ms": None}
    ms = np.asarray(seconds) * 1000
    return {"n": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p95_ms": round(float(np.percentile(ms, 95)), 1), "max_ms": round(float(ms.max()), 1),
            "mean_ms": round(float(ms.mean()), 1)}


def summarize(results: list[TurnResult], delivery: DeliveryCheck, sources: RecommendationSources,
              model_server: dict[str, Any] | None, cpu_seconds: dict[str, float | int] | None,
              run: dict[str, Any]) -> dict[str, Any]:
    """Everything the report shows, as one JSON-ready dict; timed turns that failed are counted, not timed."""
    timed = [r for r in results if not r.warmup]
    by_kind = {kind: latency_stats([r.seconds for r in timed if r.kind == kind and r.ok]) for kind in KINDS}
    by_kind_language = {
        f"{kind}/{language}": latency_stats([r.seconds for r in timed if r.kind == kind and r.language == language
                                             and r.ok])
        for kind in KINDS for language in sorted({r.language for r in timed})
    }
    plain_p95, rec_p95 = by_kind[PLAIN]["p95_ms"], by_kind[RECOMMEND]["p95_ms"]
    ratio = round(rec_p95 / plain_p95, 2) if rec_p95 and plain_p95 else None
    return {
        "run": run,
        "latency": by_kind,
        "latency_by_language": by_kind_language,
        "failed_timed_turns": {kind: sum(1 for r in timed if r.kind == kind and not r.ok) for kind in KINDS},
        "p95_ratio_recommend_over_plain": ratio,
        "ratio_target": RATIO_TARGET,
        "recommendation_sources": {**asdict(sources), "fallback_share": _round(sources.fallback_share)},
        "model_server_timed_part": model_server,
        "cpu_seconds_timed_part": cpu_seconds,
        "delivery": {
            "sent": delivery.sent, "tracked_user_messages": delivery.tracked_user_messages,
            "missing_from_tracker": delivery.missing_from_tracker, "without_bot_reply": delivery.without_bot_reply,
            "lost": delivery.lost, "empty_or_failed_http": delivery.empty_or_failed_http,
            "text_mismatches": delivery.text_mismatches, "wrong_action": dict(delivery.wrong_action),
            "passed": delivery.passed, "problems": delivery.problems,
        },
        "verdict": {
            "ratio_met": ratio is not None and ratio <= RATIO_TARGET,
            "no_message_lost": delivery.passed,
        },
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _ms(value: float | int | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _pause(think_s: float) -> str:
    return f"{think_s:g} s pause between a reply and the next message" if think_s else "messages back to back"


def _cpu_line(spent: dict[str, float | int] | None) -> str:
    if spent is None:
        return "not measured (no /proc here)."
    named = ", ".join(f"{name} {value}" for name, value in spent.items() if name not in ("wall_s", "cores"))
    return f"{named}; {spent['cores']} cores x {spent['wall_s']} s wall = {spent['cores'] * spent['wall_s']:.1f} available."


def _server_line(server: dict[str, Any] | None) -> str:
    if server is None:
        return "not running (no model)."
    if "error" in server:
        return f"could not be read: {server['error']}."
    return (f"{server['requests']} recommend requests, mean {_ms(server['mean_request_ms'])} ms, p95 at most "
            f"{_ms(server['p95_request_ms_at_most'])} ms (histogram bucket), {server['failed_requests']} not answered "
            f"200; {server['batches']} batches, mean size {server['mean_batch_size']}, mean "
            f"{_ms(server['mean_batch_ms'])} ms in the model per batch.")


def render_markdown(summary: dict[str, Any]) -> str:
    """The human-readable report."""
    run, sources, delivery = summary["run"], summary["recommendation_sources"], summary["delivery"]
    share = sources["fallback_share"]
    lines = [
        "# Whole-turn benchmark through Rasa's REST channel",
        "",
        f"{run['conversations']} concurrent conversations x {run['timed_turns_per_conversation']} timed turns "
        f"(+{run['warmup_turns_per_conversation']} warm-up each, not timed), "
        f"{_pause(run.get('think_s', 0.0))}, signed-in demo customers, "
        f"English and Chinese; measured {run['finished_at']} on {run['cpu_count']} CPUs "
        f"(load average before {run['load_before']}, after {run['load_after']}).",
        "",
        f"- store: {run['store']}",
        f"- recommender: {run['model']}",
        f"- commit: {run['commit']}; wall time of the timed part {run['timed_wall_s']} s "
        f"({run.get('timed_turns_per_s', '-')} turns/s through the whole stack)",
        "",
        "| turn type | n | p50 ms | p95 ms | max ms | mean ms | failed |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind, stats in summary["latency"].items():
        lines.append(f"| {kind} | {stats['n']} | {_ms(stats['p50_ms'])} | {_ms(stats['p95_ms'])} | "
                     f"{_ms(stats['max_ms'])} | {_ms(stats['mean_ms'])} | {summary['failed_timed_turns'][kind]} |")
    lines += ["", "| turn type / language | n | p50 ms | p95 ms | max ms |", "|---|---|---|---|---|"]
    for key, stats in summary["latency_by_language"].items():
        lines.append(f"| {key} | {stats['n']} | {_ms(stats['p50_ms'])} | {_ms(stats['p95_ms'])} | "
                     f"{_ms(stats['max_ms'])} |")
    ratio = summary["p95_ratio_recommend_over_plain"]
    lines += [
        "",
        f"**p95 ratio recommendation / plain: {ratio if ratio is not None else '-'}** "
        f"(target <= {summary['ratio_target']}: {'met' if summary['verdict']['ratio_met'] else 'NOT met'}) "
        f"— **fallback share of recommendation turns: {'-' if share is None else f'{share:.1%}'}** "
        f"({sources['fallback']} fallback, {sources['model']} model, {sources['nothing_shown']} showed nothing, "
        f"of {sources['turns']}; model versions {sources['model_versions']})",
        "",
        f"Model server during the timed part (its own metrics): {_server_line(summary['model_server_timed_part'])}",
        "",
        f"CPU seconds during the timed part: {_cpu_line(summary['cpu_seconds_timed_part'])}",
        "",
        f"**No message lost: {'yes' if delivery['passed'] else 'NO'}** — {delivery['sent']} messages sent "
        f"(warm-up included), {delivery['tracked_user_messages']} user messages in the tracker store, "
        f"{delivery['missing_from_tracker']} missing, {delivery['without_bot_reply']} without a bot reply, "
        f"{delivery['empty_or_failed_http']} empty or failed HTTP replies, {delivery['text_mismatches']} out of "
        f"place; turns that did not run their intended action: {delivery['wrong_action'] or 'none'}.",
    ]
    if delivery["problems"]:
        lines += ["", "First problems:", ""] + [f"- {p}" for p in delivery["problems"]]
    lines += ["", "![latency](latency.png)", ""]
    return "\n".join(lines)


def plot_latency(results: list[TurnResult], summary: dict[str, Any], path: Path) -> None:
    """Latency distribution per turn type (ECDF, p95 marked) and every timed turn over the run."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    timed = [r for r in results if not r.warmup and r.ok]
    if not timed:
        return
    origin = min(r.started_at for r in timed)
    figure, (ecdf, timeline) = plt.subplots(1, 2, figsize=(11, 4))
    for kind, colour in zip(KINDS, ("tab:blue", "tab:orange")):
        ms = np.sort([r.seconds * 1000 for r in timed if r.kind == kind])
        if not len(ms):
            continue
        ecdf.step(ms, np.arange(1, len(ms) + 1) / len(ms), where="post", color=colour, label=kind)
        ecdf.axvline(summary["latency"][kind]["p95_ms"], color=colour, linestyle="--", linewidth=1)
        points = [((r.started_at - origin).total_seconds(), r.seconds * 1000) for r in timed if r.kind == kind]
        timeline.scatter(*zip(*points), s=8, color=colour, label=kind)
    sources = summary["recommendation_sources"]
    share = sources["fallback_share"]
    ecdf.set(xlabel="turn wall time (ms)", ylabel="share of turns", xscale="log",
             title=f"p95 ratio {summary['p95_ratio_recommend_over_plain']}, fallback share "
                   f"{'-' if share is None else f'{share:.0%}'}")
    timeline.set(xlabel="seconds since the timed part began", ylabel="turn wall time (ms)", yscale="log",
                 title=f"{summary['run']['conversations']} concurrent conversations")
    for axis in (ecdf.xaxis, timeline.yaxis):  # plain milliseconds at 1-2-5 steps, not 10^x
        axis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(ticker.FuncFormatter(lambda value, _: f"{value:g}"))
        axis.set_minor_formatter(ticker.NullFormatter())
    ecdf.legend()
    timeline.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write_report(results: list[TurnResult], summary: dict[str, Any], out: Path) -> None:
    """report.md, report.json (summary + every turn) and latency.png into ``out``, all or none."""
    out.mkdir(parents=True, exist_ok=True)
    turns = [{**asdict(r), "started_at": r.started_at.isoformat(timespec="milliseconds"),
              "seconds": round(r.seconds, 4)} for r in results]
    with tempfile.TemporaryDirectory(dir=out, prefix=".writing-") as staging:
        staged = Path(staging)
        plot_latency(results, summary, staged / "latency.png")
        (staged / "report.json").write_text(
            json.dumps({**summary, "turns": turns}, ensure_ascii=False, indent=1) + "\n")
        (staged / "report.md").write_text(render_markdown(summary))
        for name in ("latency.png", "report.json", "report.md"):
            if (staged / name).exists():
                os.replace(staged / name, out / name)
            else:  # no timed turn to plot: never leave an older run's plot beside this report
                (out / name).unlink(missing_ok=True)
