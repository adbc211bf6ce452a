"""One table and plot from evaluations of the same data set and split that ran separately.

``python -m recommender.combine_reports results/eval/beauty results/eval/beauty-sasrec ... --out results/eval/beauty-all``

A long model (SASRec or the GPT on Amazon Beauty takes up to 70 minutes on
this machine) is often evaluated in its own run; the split is deterministic,
so its numbers stand beside the others' as long as the data set is the same.
This reads each folder's ``report.json``, refuses folders whose data set or
split differ (sizes, example counts, mean history length), names each row
``model (folder)`` and writes ``report.md``, ``report.json`` and ``ndcg.png``
into ``--out`` with every source's options and creation time.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from recommender.evaluate import ModelResult
from recommender.report import MEMORY_NOTE, PROTOCOL_NOTE, masked_lines, plot, result_rows

#: Fields of a report's data-set summary that must agree (its ``source`` path may differ).
SAME_SPLIT_FIELDS = ("name", "histories", "items", "interactions", "notes", "valid_examples", "test_examples",
                     "train_interactions", "mean_test_history_length")


class ReportMismatch(ValueError):
    """A folder has no report, or its data set or split differs from the first folder's (the message says which)."""


def load_reports(folders: Sequence[Path]) -> list[dict]:
    """Each folder's parsed ``report.json``, checked to be on the same data set and split."""
    reports = []
    for folder in folders:
        path = folder / "report.json"
        if not path.is_file():
            raise ReportMismatch(f"{folder}: no report.json (run recommender.evaluate --out {folder} first)")
        reports.append(json.loads(path.read_text(encoding="utf-8")))
    first = reports[0]["dataset"]
    for folder, report in zip(folders[1:], reports[1:]):
        differing = [k for k in SAME_SPLIT_FIELDS if report["dataset"].get(k) != first.get(k)]
        if differing:
            raise ReportMismatch(f"{folder}: data set differs from {folders[0]} in {', '.join(differing)}")
    return reports


def combine(folders: Sequence[Path], out: Path) -> list[ModelResult]:
    """Write the combined report of ``folders`` into ``out``; returns its rows in order."""
    reports = load_reports(folders)
    models = [dict(model, name=f"{model['name']} ({folder.name})")
              for folder, report in zip(folders, reports) for model in report["models"]]
    results = [ModelResult(**{**model, "ndcg10_ci95": tuple(model["ndcg10_ci95"]) if model.get("ndcg10_ci95")
                              else None}) for model in models]
    data = reports[0]["dataset"]
    sources = [{"folder": str(folder), "created_at": report["created_at"], "options": report["options"],
                "environment": report["environment"]} for folder, report in zip(folders, reports)]
    out.mkdir(parents=True, exist_ok=True)
    payload = {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "dataset": data,
               "protocol": PROTOCOL_NOTE, "memory": MEMORY_NOTE, "sources": sources, "models": models}
    (out / "report.json").write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = [f"# Recommender evaluations combined: {data['name']}", "",
             f"{data['histories']} customers, {data['items']} items, {data['interactions']} purchases; "
             f"{data['valid_examples']} validation and {data['test_examples']} test examples. Each row comes from "
             "its own run of `recommender.evaluate` on this same data set and deterministic split (folder in "
             "brackets; sources below).", "", PROTOCOL_NOTE, "", *result_rows(results), "", *masked_lines(results),
             "## Sources", ""]
    lines += [f"- `{s['folder']}` ({s['created_at']}): `{json.dumps(s['options'], default=str)}`" for s in sources]
    lines += ["", "## Measurement", "", MEMORY_NOTE, ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")
    plot(out / "ndcg.png", data["name"], results)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; exit status 2 with the reason when the folders cannot be combined."""
    parser = argparse.ArgumentParser(prog="python -m recommender.combine_reports", description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="+", type=Path, help="evaluation folders holding report.json")
    parser.add_argument("--out", type=Path, required=True, help="folder for the combined report")
    args = parser.parse_args(argv)
    try:
        results = combine(args.folders, args.out)
    except ReportMismatch as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"combined {len(results)} rows from {len(args.folders)} reports into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
