"""The Rasa project: data hygiene, validation, training and held-out scores.

The data checks read the YAML directly and take a second. The ``rasa``-marked
tests call ``.venv-rasa/bin/rasa`` in subprocesses and share the model of
``make train`` (``models/shop.tar.gz``), which retrains only when config,
domain or data changed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.rasa_eval import read_examples, summarize

ROOT = Path(__file__).resolve().parent.parent
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
TRAIN_FILES = sorted((ROOT / "data" / "nlu").glob("*.yml"))
TEST_FILES = {lang: ROOT / "tests" / "nlu" / f"test_{lang}.yml" for lang in ("en", "zh")}
# Development sets: measured while changing data/nlu, so never trained on and
# kept apart from the held-out test sets too.
DEV_FILES = sorted((ROOT / "tests" / "nlu").glob("dev_*.yml"))
MIN_TEST_SHARE = 0.20
MIN_ACCURACY = 0.90
_CJK = re.compile(r"[\u3400-\u9fff]")


def language(text: str) -> str:
    """Return ``zh`` for text with any Chinese character, else ``en``."""
    return "zh" if _CJK.search(text) else "en"


def normalise(text: str) -> str:
    """Lower-case, drop punctuation and collapse whitespace."""
    return " ".join(re.sub(r"[\W_]+", " ", text.lower()).split())


def load_examples(path: Path) -> list[tuple[str, str]]:
    """Return ``(intent, text)`` pairs of a Rasa NLU YAML file."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    pairs = []
    for block in document["nlu"]:
        for line in block["examples"].splitlines():
            if line.strip().startswith("- "):
                pairs.append((block["intent"], line.strip()[2:].strip()))
    return pairs


def domain_intents() -> set[str]:
    """Every intent declared in ``bot/domain``."""
    intents: set[str] = set()
    for path in (ROOT / "bot" / "domain").glob("*.yml"):
        intents.update(yaml.safe_load(path.read_text(encoding="utf-8")).get("intents", []))
    return intents


@pytest.fixture(scope="module")
def train_examples() -> list[tuple[str, str]]:
    return [pair for path in TRAIN_FILES for pair in load_examples(path)]


@pytest.fixture(scope="module")
def test_examples() -> list[tuple[str, str]]:
    return [pair for path in TEST_FILES.values() for pair in load_examples(path)]


def test_no_example_in_both_train_and_test(train_examples, test_examples):
    train = {normalise(text) for _, text in train_examples}
    leaked = [text for _, text in test_examples if normalise(text) in train]
    assert leaked == []


def test_dev_examples_in_neither_train_nor_test(train_examples, test_examples):
    assert DEV_FILES, "no tests/nlu/dev_*.yml development set"
    seen = {normalise(text) for _, text in [*train_examples, *test_examples]}
    dev = [text for path in DEV_FILES for _, text in load_examples(path)]
    assert [text for text in dev if normalise(text) in seen] == []


def test_no_example_repeated_in_training(train_examples):
    counts = Counter(normalise(text) for _, text in train_examples)
    assert [text for text, n in counts.items() if n > 1] == []


def test_test_files_hold_their_language():
    for lang, path in TEST_FILES.items():
        wrong = [text for _, text in load_examples(path) if language(text) != lang]
        assert wrong == [], f"{path.name} holds other-language examples"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_held_out_share_per_language_and_intent(lang, train_examples, test_examples):
    train = Counter(intent for intent, text in train_examples if language(text) == lang)
    test = Counter(intent for intent, text in test_examples if language(text) == lang)
    total_share = sum(test.values()) / (sum(train.values()) + sum(test.values()))
    assert total_share >= MIN_TEST_SHARE
    for intent in domain_intents():
        assert test[intent] > 0, f"no {lang} test example for {intent}"
        share = test[intent] / (train[intent] + test[intent])
        assert share >= MIN_TEST_SHARE, f"{lang} {intent}: {share:.2f} held out"


def test_nlu_data_covers_exactly_the_domain_intents(train_examples, test_examples):
    assert {intent for intent, _ in train_examples} == domain_intents()
    assert {intent for intent, _ in test_examples} == domain_intents()


def test_eval_script_reads_what_yaml_reads():
    for path in [*TRAIN_FILES, *TEST_FILES.values()]:
        assert [(i, t) for i, t, _ in read_examples(path)] == load_examples(path)


def rasa(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run the Rasa CLI from the repository root and capture its output."""
    return subprocess.run(
        [str(RASA), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout
    )


def output_tail(result: subprocess.CompletedProcess) -> str:
    return (result.stdout + result.stderr)[-4000:]


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The model `make train` builds (models/shop.tar.gz), trained now only if its inputs changed.

    Sharing it with `make run` and the integration tests keeps the suite to
    one training run.
    """
    result = subprocess.run(["make", "--no-print-directory", "train"], cwd=ROOT, capture_output=True, text=True,
                            timeout=1800)
    assert result.returncode == 0, output_tail(result)
    return ROOT / "models" / "shop.tar.gz"


@pytest.mark.rasa
def test_data_validates_without_warnings():
    result = rasa(
        "data", "validate", "--config", "config.yml", "--domain", "bot/domain",
        "--data", "data", "--fail-on-warnings",
    )
    assert result.returncode == 0, output_tail(result)
    # Rasa prints some problems as UserWarnings without failing the command.
    assert "UserWarning" not in result.stdout + result.stderr, output_tail(result)


@pytest.mark.rasa
def test_model_trains(trained_model):
    assert trained_model.stat().st_size > 0


@pytest.fixture(scope="session")
def held_out_errors(trained_model, tmp_path_factory) -> list[tuple[str, str, str]]:
    """``(text, intent, predicted)`` for every held-out example NLU got wrong.

    One ``rasa test nlu`` over both files: each run spends a minute starting.
    """
    out = tmp_path_factory.mktemp("nlu")
    # Only the held-out files: tests/nlu also holds the development sets.
    held_out = tmp_path_factory.mktemp("held_out")
    for path in TEST_FILES.values():
        shutil.copy(path, held_out / path.name)
    result = rasa(
        "test", "nlu", "--model", str(trained_model), "--nlu", str(held_out), "--out", str(out)
    )
    assert result.returncode == 0, output_tail(result)
    return [tuple(error) for error in summarize(out, {})["errors"]]


@pytest.mark.rasa
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_held_out_intent_accuracy(lang, held_out_errors):
    examples = load_examples(TEST_FILES[lang])
    wrong = [error for error in held_out_errors if language(error[0]) == lang]
    accuracy = 1 - len(wrong) / len(examples)
    listing = "\n".join(f"{text!r}: {gold} -> {predicted}" for text, gold, predicted in wrong)
    assert accuracy >= MIN_ACCURACY, f"{lang} accuracy {accuracy:.3f}\n{listing}"


@pytest.mark.rasa
def test_dialogue_stories_all_pass(trained_model, tmp_path):
    result = rasa(
        "test", "core", "--model", str(trained_model), "--stories", "tests/stories",
        "--out", str(tmp_path), "--fail-on-prediction-errors",
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text(encoding="utf-8") if failed.exists() else output_tail(result)
    assert result.returncode == 0, details
