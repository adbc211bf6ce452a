"""Writes an evaluation's ``report.md``, ``report.json`` and ``ndcg.png``."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from recommender.dataset import Dataset, Split

if TYPE_CHECKING:
    from recommender.evaluate import ModelResult

MEMORY_NOTE = (
    "Memory: `peak RSS delta` is the peak resident set size of the child process that fitted and scored the "
    "model (Linux VmHWM, reset once the child had received the data set) minus its resident size at that "
    "moment: the model's own memory during fit AND scoring, including the libraries it imported (torch alone "
    "is roughly 300 MiB). `CUDA peak` is torch.cuda.max_memory_allocated, only when the model ran on a GPU."
)
PROTOCOL_NOTE = (
    "Protocol: leave-one-out (last purchase = test, second-to-last = validation, customers with at least 3 "
    "purchases), history strictly before the target's time, full ranking over ALL items, ties ranked "
    "pessimistically, no masking of already-bought items. Validation is used only for early stopping and "
    "tuning; every number below the validation column is on test."
)


def ratio(results: list[ModelResult], numerator: str, denominator: str, metric: str = "test_ndcg10") -> float | None:
    """``metric`` of ``numerator`` over that of ``denominator``; None if either is missing or zero."""
    by_name = {r.name: r for r in results if r.status == "ok"}
    if numerator not in by_name or denominator not in by_name:
        return None
    bottom = by_name[denominator].metrics[metric]
    return by_name[numerator].metrics[metric] / bottom if bottom > 0 else None


def dataset_summary(dataset: Dataset, split: Split) -> dict[str, object]:
    """Sizes of the data set and of the split."""
    interactions = sum(len(h.purchases) for h in dataset.histories)
    return {
        "name": dataset.name, "histories": len(dataset.histories), "items": dataset.n_items,
        "interactions": interactions, "notes": sum(len(h.notes) for h in dataset.histories),
        "has_text": dataset.has_text, "valid_examples": len(split.valid), "test_examples": len(split.test),
        "train_interactions": sum(len(h.purchases) for h in split.train),
        "mean_test_history_length": (sum(len(e.history.purchases) for e in split.test) / len(split.test))
        if split.test else 0.0,
    }


def write_report(out: Path, dataset: Dataset, split: Split, results: list[ModelResult], *,
                 options: dict[str, object], source: str = "",
                 service_baselines: dict[str, dict[str, float]] | None = None) -> None:
    """Write the three report files into ``out`` (created if needed).

    ``service_baselines``: metrics of ``recommender.service_eval``'s baselines on the held-out
    service takes (empty or None: the data has none).
    """
    out.mkdir(parents=True, exist_ok=True)
    ratios = {"gpt_over_sasrec_ndcg10": ratio(results, "gpt", "sasrec"),
              "gpt_over_gpt_notext_ndcg10": ratio(results, "gpt", "gpt-notext")}
    payload = {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "dataset": dataset_summary(dataset, split) | {"source": source}, "options": options, "ratios": ratios,
        "environment": _environment(), "protocol": PROTOCOL_NOTE, "memory": MEMORY_NOTE,
        "models": [asdict(r) for r in results], "service_baselines": service_baselines or {},
    }
    (out / "report.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str) + "\n",
                                     encoding="utf-8")
    (out / "report.md").write_text(_markdown(payload, results), encoding="utf-8")
    plot(out / "ndcg.png", dataset.name, results)


def _markdown(payload: dict, results: list[ModelResult]) -> str:
    data, ratios = payload["dataset"], payload["ratios"]
    lines = [
        f"# Recommender evaluation: {data['name']}", "",
        f"Created {payload['created_at']} from {data['source'] or 'an in-memory data set'}. "
        f"{data['histories']} customers, {data['items']} items, "
        f"{data['interactions']} purchases, {data['notes']} consultation notes (text: {data['has_text']}); "
        f"{data['valid_examples']} validation and {data['test_examples']} test examples; "
        f"mean test history length {data['mean_test_history_length']:.1f}.", "",
        PROTOCOL_NOTE, "", *result_rows(results),
    ]
    lines += ["", "## Ratios on test NDCG@10", "",
              f"- GPT / SASRec: {_ratio_text(ratios['gpt_over_sasrec_ndcg10'])}",
              f"- GPT / GPT without consultation text: {_ratio_text(ratios['gpt_over_gpt_notext_ndcg10'])}", ""]
    lines += masked_lines(results)
    lines += _service_lines(payload["service_baselines"], results)
    problems = [r for r in results if r.status != "ok"]
    if problems:
        lines += ["## Models without numbers", ""]
        lines += [f"- `{r.name}` {r.status}: {r.detail.splitlines()[0] if r.detail else ''}" for r in problems]
        lines.append("")
    lines += ["## Measurement", "", MEMORY_NOTE, "",
              "Environment: " + ", ".join(f"{k} {v}" for k, v in payload["environment"].items()) + ".", "",
              "Options: `" + json.dumps(payload["options"], default=str) + "`", ""]
    configs = [r for r in results if r.config]
    if configs:
        lines += ["## Model configurations", ""]
        lines += [f"- `{r.name}`: `{json.dumps(r.config, default=str)}`" for r in configs]
        lines.append("")
    return "\n".join(lines)


def result_rows(results: list[ModelResult]) -> list[str]:
    """The markdown table of ``results``: header, rule and one row per model."""
    lines = [
        "| model | status | HR@5 | HR@10 | NDCG@5 | NDCG@10 (95% CI) | valid NDCG@10 | epochs | train s "
        "| score s | peak RSS delta | CUDA peak |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if r.status != "ok":
            lines.append(f"| {r.name} | **{r.status}** |" + " - |" * 10)
            continue
        m, low_high = r.metrics, r.ndcg10_ci95 or (0.0, 0.0)
        lines.append(
            f"| {r.name} | ok | {m['test_hr5']:.4f} | {m['test_hr10']:.4f} | {m['test_ndcg5']:.4f} | "
            f"{m['test_ndcg10']:.4f} ({low_high[0]:.4f}-{low_high[1]:.4f}) | {m['valid_ndcg10']:.4f} | "
            f"{r.epochs} | {r.train_seconds:.1f} | {r.score_seconds:.1f} | {_mib(r.peak_rss_delta_bytes)} | "
            f"{_mib(r.cuda_peak_bytes)} |"
        )
    return lines


def masked_lines(results: list[ModelResult]) -> list[str]:
    """A secondary table: test figures with each customer's already-bought items masked (not the protocol)."""
    rows = [r for r in results if r.status == "ok" and "test_ndcg10_bought_masked" in r.metrics]
    if not rows:
        return []
    lines = ["## Beside the protocol: already-bought items masked", "",
             "The same scores with every item in the customer's history removed from the ranking. A model "
             "that learns customers do not buy twice gets this for free; here any model gets it.", "",
             "| model | HR@10 masked | NDCG@10 masked | NDCG@10 as scored |", "|---|---|---|---|"]
    lines += [f"| {r.name} | {r.metrics['test_hr10_bought_masked']:.4f} | {r.metrics['test_ndcg10_bought_masked']:.4f} "
              f"| {r.metrics['test_ndcg10']:.4f} |" for r in rows]
    return lines + [""]


def _service_lines(baselines: dict[str, dict[str, float]], results: list[ModelResult]) -> list[str]:
    rows = list(baselines.items()) + [(r.name, r.service_metrics) for r in results if r.service_metrics]
    if not rows:
        return []
    from recommender.service_eval import PROTOCOL

    lines = ["## Services: which one is taken with an order", "", PROTOCOL, "",
             "| model | HR@1 | HR@3 | NDCG@3 | MRR | valid NDCG@3 |", "|---|---|---|---|---|---|"]
    lines += [f"| {name} | {m['test_hr1']:.4f} | {m['test_hr3']:.4f} | {m['test_ndcg3']:.4f} | {m['test_mrr']:.4f} "
              f"| {m['valid_ndcg3']:.4f} |" for name, m in rows]
    return lines + [""]


def plot(path: Path, title: str, results: list[ModelResult]) -> None:
    """Bar chart of test NDCG@10 (with its 95% interval) and HR@10 per model, written to ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    names = [r.name for r in results]
    ok = [r.status == "ok" for r in results]
    ndcg = [r.metrics["test_ndcg10"] if good else 0.0 for r, good in zip(results, ok)]
    hr = [r.metrics["test_hr10"] if good else 0.0 for r, good in zip(results, ok)]
    errors = [[n - r.ndcg10_ci95[0], r.ndcg10_ci95[1] - n] if good and r.ndcg10_ci95 else [0.0, 0.0]
              for n, r, good in zip(ndcg, results, ok)]
    figure, axes = plt.subplots(figsize=(1.6 * len(names) + 3, 4))
    positions = range(len(names))
    axes.bar([p - 0.2 for p in positions], ndcg, width=0.4, label="NDCG@10 (95% CI)",
             yerr=list(zip(*errors)) if errors else None, capsize=3)
    axes.bar([p + 0.2 for p in positions], hr, width=0.4, label="HR@10")
    for p, good, r in zip(positions, ok, results):
        if not good:
            axes.text(p, 0.0, r.status, ha="center", va="bottom", rotation=90, color="firebrick")
    axes.set_xticks(list(positions), names)
    axes.set_ylabel("test metric (full ranking)")
    axes.set_title(f"{title}: leave-one-out test")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)


def _environment() -> dict[str, str]:
    versions = {}
    for package in ("torch", "transformers", "peft", "numpy"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "absent"
    return {"python": platform.python_version(), "cpus": str(os.cpu_count()), **versions}


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:.0f} MiB"


def _ratio_text(value: float | None) -> str:
    return "n/a (a model is missing, failed or scored 0)" if value is None else f"{value:.3f}"
