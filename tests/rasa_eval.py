"""Train (or reuse) the Rasa model and score its NLU on the held-out test sets.

Runs the Rasa CLI of ``.venv-rasa`` in subprocesses; needs only the Python
standard library, so it runs in either environment::

    python tests/rasa_eval.py                     # train if needed, evaluate
    python tests/rasa_eval.py --model models/x.tar.gz
    python tests/rasa_eval.py tune-fallback       # pick the fallback threshold

``evaluate`` writes Rasa's reports to ``results/nlu_<lang>/`` and a summary to
``results/nlu_summary.json``, and prints per-language intent accuracy, macro
F1 and the confused intents. ``tune-fallback`` trains on 80% of ``data/nlu``,
scores the other 20% (never the test sets) and prints the accuracy and the
share of wrong answers caught for each candidate threshold.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
LANGUAGES = ("en", "zh")
_ROUND = re.compile(r"^# Round (\d+)")
_EXAMPLE = re.compile(r"^\s+- (.+)$")
_INTENT = re.compile(r"^- intent: (\S+)")


def run_rasa(*args: str) -> None:
    """Run one Rasa CLI command from the repository root; raise on failure."""
    command = [str(RASA), *args]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-3000:]
        raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}):\n{tail}")


def train_model(out_dir: Path) -> Path:
    """Train the full model into ``out_dir`` and return the current model.

    Rasa skips training when the newest model in ``out_dir`` was trained on
    the same config, domain and data, so this also reuses that model.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    run_rasa(
        "train", "--config", "config.yml", "--domain", "bot/domain",
        "--data", "data", "--out", str(out_dir),
    )
    return newest_model(out_dir)


def newest_model(model_dir: Path) -> Path:
    """Return the most recently written model archive in ``model_dir``."""
    models = sorted(model_dir.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    if not models:
        raise FileNotFoundError(f"no model in {model_dir}")
    return models[-1]


def read_examples(path: Path) -> list[tuple[str, str, int]]:
    """Read ``(intent, text, round)`` from a Rasa NLU file.

    Only the flat layout this project uses is understood: ``- intent:`` lines
    followed by a block of ``    - example`` lines. ``round`` is 1 until a
    ``# Round N`` comment line; test examples added later are marked so, so
    each batch can be scored on its own (a batch is cleanest before anyone
    has seen a model's errors on it).
    """
    examples = []
    intent = None
    batch = 1
    for line in path.read_text(encoding="utf-8").splitlines():
        if match := _ROUND.match(line):
            batch = int(match.group(1))
        elif match := _INTENT.match(line):
            intent = match.group(1)
        elif intent and (match := _EXAMPLE.match(line)):
            examples.append((intent, match.group(1).strip(), batch))
    return examples


def summarize(report_dir: Path, rounds: dict[str, int]) -> dict:
    """Read Rasa's intent report in ``report_dir`` into a small summary."""
    report = json.loads((report_dir / "intent_report.json").read_text(encoding="utf-8"))
    errors = json.loads((report_dir / "intent_errors.json").read_text(encoding="utf-8"))
    confusions = {
        intent: scores["confused_with"]
        for intent, scores in report.items()
        if isinstance(scores, dict) and scores.get("confused_with")
    }
    summary = {
        "accuracy": report["accuracy"],
        "macro_f1": report["macro avg"]["f1-score"],
        "examples": report["macro avg"]["support"],
        "confusions": confusions,
        "errors": [
            [e["text"], e["intent"], e["intent_prediction"]["name"]] for e in errors
        ],
    }
    wrong = [error["text"] for error in errors]
    summary["rounds"] = {}
    for batch in sorted(set(rounds.values())):
        texts = [text for text, number in rounds.items() if number == batch]
        missed = sum(1 for text in wrong if rounds.get(text) == batch)
        summary["rounds"][batch] = {"accuracy": 1 - missed / len(texts), "examples": len(texts)}
    return summary


def evaluate(model: Path, results: Path) -> dict:
    """Run ``rasa test nlu`` per language and return the summaries by language."""
    summaries = {}
    for lang in LANGUAGES:
        test_file = ROOT / "tests" / "nlu" / f"test_{lang}.yml"
        out = results / f"nlu_{lang}"
        run_rasa("test", "nlu", "--model", str(model), "--nlu", str(test_file), "--out", str(out))
        rounds = {text: batch for _, text, batch in read_examples(test_file)}
        summaries[lang] = summarize(out, rounds)
    (results / "nlu_summary.json").write_text(
        json.dumps({"model": str(model), **summaries}, ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    return summaries


def print_summary(summaries: dict) -> None:
    """Print accuracy, macro F1 and confusions per language."""
    for lang, summary in summaries.items():
        line = (
            f"{lang}: intent accuracy {summary['accuracy']:.3f}, "
            f"macro F1 {summary['macro_f1']:.3f} on {summary['examples']} examples"
        )
        print(line)
        for batch, scores in summary["rounds"].items():
            print(f"    round {batch}: accuracy {scores['accuracy']:.3f} on {scores['examples']}")
        for intent, confused in sorted(summary["confusions"].items()):
            print(f"    {intent} confused with {confused}")


def write_nlu(path: Path, examples: list[tuple[str, str]]) -> None:
    """Write ``(intent, text)`` pairs as a Rasa NLU YAML file."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for intent, text in examples:
        by_intent[intent].append(text)
    lines = ['version: "3.1"', "nlu:"]
    for intent, texts in by_intent.items():
        lines += [f"- intent: {intent}", "  examples: |"]
        lines += [f"    - {text}" for text in texts]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def split_training_data(seed: int, share: float) -> tuple[list, list]:
    """Split ``data/nlu`` per intent into training and validation examples."""
    by_intent: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for intent, text, _ in read_examples(path):
            by_intent[intent].append((intent, text))
    rng = random.Random(seed)
    train, validation = [], []
    for examples in by_intent.values():
        rng.shuffle(examples)
        cut = max(1, round(len(examples) * share))
        validation += examples[:cut]
        train += examples[cut:]
    return train, validation


def tune_fallback(config_path: Path, seed: int, thresholds: list[float]) -> None:
    """Score candidate FallbackClassifier thresholds on a validation split.

    Also the place to compare pipeline variants (``--config``) without
    touching the test sets: the accuracy at threshold 0 is the model's.
    """
    train, validation = split_training_data(seed, share=0.2)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        write_nlu(work / "train.yml", train)
        write_nlu(work / "validation.yml", validation)
        config = config_path.read_text(encoding="utf-8")
        # Threshold 0 keeps DIET's own confidence on every prediction.
        config = re.sub(r"(\n\s+threshold:) [0-9.]+", r"\1 0.0", config, count=1)
        (work / "config.yml").write_text(config, encoding="utf-8")
        run_rasa(
            "train", "nlu", "--config", str(work / "config.yml"),
            "--nlu", str(work / "train.yml"), "--out", str(work / "models"),
        )
        model = newest_model(work / "models")
        out = work / "report"
        run_rasa(
            "test", "nlu", "--model", str(model), "--nlu", str(work / "validation.yml"),
            "--out", str(out), "--successes",
        )
        predictions = []
        for name in ("intent_successes.json", "intent_errors.json"):
            for item in json.loads((out / name).read_text(encoding="utf-8")):
                predicted = item["intent_prediction"]
                correct = predicted["name"] == item["intent"]
                predictions.append((correct, predicted["name"], predicted["confidence"]))
    wrong = sum(1 for correct, _, _ in predictions if not correct)
    print(f"validation: {len(predictions)} examples, {wrong} wrong with no threshold")
    print("threshold  accuracy  wrong answers caught  right answers lost")
    for threshold in thresholds:
        kept = [
            (correct, name) for correct, name, confidence in predictions
            if confidence >= threshold and name != "nlu_fallback"
        ]
        accuracy = sum(correct for correct, _ in kept) / len(predictions)
        caught = wrong - sum(1 for correct, _ in kept if not correct)
        lost = sum(1 for c, _, _ in predictions if c) - sum(c for c, _ in kept)
        print(f"{threshold:9.2f}  {accuracy:8.3f}  {caught:4d} / {wrong:<4d}            {lost:4d}")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", nargs="?", default="evaluate", choices=["evaluate", "tune-fallback"])
    parser.add_argument("--model", type=Path, help="model archive to evaluate (default: train/reuse)")
    parser.add_argument("--models-dir", type=Path, default=ROOT / "models")
    parser.add_argument("--results", type=Path, default=ROOT / "results")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml", help="tune-fallback only")
    args = parser.parse_args(argv)
    if args.command == "tune-fallback":
        tune_fallback(args.config, args.seed, [0.0, 0.3, 0.4, 0.5, 0.55, 0.6, 0.7, 0.8])
        return 0
    model = args.model if args.model else train_model(args.models_dir)
    print(f"model: {model}")
    print_summary(evaluate(model, args.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
