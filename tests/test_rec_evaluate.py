"""The evaluation command end to end on a tiny sequence file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from recommender import evaluate
from recommender.evaluate import REPO_ROOT as REPO
from recommender.dataset import leave_one_out, load_sequence_file
from recommender.metrics import ndcg_at_k, rank_of_targets


@pytest.fixture
def tiny_file(tmp_path):
    rng = np.random.default_rng(5)
    lines = []
    for user in range(80):
        start, length = rng.integers(0, 15), rng.integers(3, 8)
        lines.append(f"u{user} " + " ".join(f"item{(start + k) % 15}" for k in range(length)))
    path = tmp_path / "tiny.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def test_command_writes_the_three_files_with_real_numbers(tiny_file, tmp_path):
    out = tmp_path / "report"
    status = evaluate.main(["--dataset", str(tiny_file), "--models", "pop,cooc,sasrec", "--out", str(out),
                            "--max-epochs", "2", "--sasrec-max-len", "8", "--threads", "1", "--quiet"])

    assert status == 0
    assert {p.name for p in out.iterdir()} == {"report.md", "report.json", "ndcg.png"}
    assert (out / "ndcg.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    models = {m["name"]: m for m in report["models"]}
    assert [models[n]["status"] for n in ("pop", "cooc", "sasrec")] == ["ok", "ok", "ok"]
    assert models["sasrec"]["epochs"] == 2 and models["sasrec"]["train_seconds"] > 0
    # torch is imported inside the child, so a fitted SASRec always shows memory of its own.
    assert models["sasrec"]["peak_rss_delta_bytes"] > 50 * 2**20
    assert report["ratios"]["gpt_over_sasrec_ndcg10"] is None

    # The popularity figure matches an independent computation on the same split.
    dataset = load_sequence_file(tiny_file)
    split = leave_one_out(dataset)
    counts = np.bincount([p.item for h in split.train for p in h.purchases], minlength=dataset.n_items)
    ranks = rank_of_targets(np.tile(counts, (len(split.test), 1)), np.array([e.target for e in split.test]))
    assert models["pop"]["metrics"]["test_ndcg10"] == pytest.approx(ndcg_at_k(ranks, 10))
    assert report["dataset"]["test_examples"] == len(split.test)
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "| pop | ok | " in markdown and "GPT / SASRec: n/a" in markdown


def test_missing_gpt_is_marked_missing_in_every_file(tiny_file, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "recommender.gpt", None)  # as before the GPT model exists
    out = tmp_path / "report"
    dataset = load_sequence_file(tiny_file)
    results = evaluate.evaluate(dataset, ["pop", "gpt", "gpt-notext"], evaluate.ModelOptions(), out,
                                progress=False, isolate=False)

    assert [r.status for r in results] == ["ok", "missing", "missing"]
    assert results[1].metrics == {} and "not importable" in results[1].detail
    markdown = (out / "report.md").read_text(encoding="utf-8")
    assert "| gpt | **missing** |" in markdown and "| gpt-notext | **missing** |" in markdown
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["ratios"] == {"gpt_over_sasrec_ndcg10": None, "gpt_over_gpt_notext_ndcg10": None}


def test_a_failing_model_is_reported_never_scored(tiny_file):
    dataset = load_sequence_file(tiny_file)
    result = evaluate.run_model("no-such-model", dataset, leave_one_out(dataset), evaluate.ModelOptions(),
                                progress=False)
    assert result.status == "failed" and "unknown model" in result.detail and result.metrics == {}


def _dying_worker(connection, *args) -> None:
    os._exit(3)


def test_a_child_that_dies_is_reported(tiny_file):
    dataset = load_sequence_file(tiny_file)
    result = evaluate.run_model("pop", dataset, leave_one_out(dataset), evaluate.ModelOptions(), progress=False,
                                worker=_dying_worker)
    assert result.status == "failed" and "exit code 3" in result.detail


def _sleeping_worker(connection, pid_file, *args) -> None:
    Path(pid_file).write_text(str(os.getpid()))
    time.sleep(300)


@pytest.mark.parametrize("stop, exit_code", [(signal.SIGTERM, 128 + signal.SIGTERM), (signal.SIGKILL, -signal.SIGKILL)],
                         ids=["sigterm", "sigkill"])
def test_stopping_the_evaluation_stops_the_model_child_too(tmp_path, stop, exit_code):
    pid_file = tmp_path / "child.pid"
    parent = subprocess.Popen([sys.executable, "-c", (
        "from recommender import evaluate; from tests.test_rec_evaluate import _sleeping_worker; "
        "evaluate.exit_on_sigterm(); "
        f"evaluate.run_model({str(pid_file)!r}, None, None, evaluate.ModelOptions(), worker=_sleeping_worker)")],
        cwd=REPO)
    child = None
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline and parent.poll() is None, "the child never started"
            time.sleep(0.1)
        child = int(pid_file.read_text())
        parent.send_signal(stop)
        assert parent.wait(timeout=30) == exit_code
        deadline = time.monotonic() + 10
        while _alive(child):
            assert time.monotonic() < deadline, "the model child outlived its evaluation"
            time.sleep(0.1)
    finally:  # a failing run must not leave either process sleeping behind the suite
        parent.kill()
        if child is not None and _alive(child):
            os.kill(child, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split(")")[-1].split()[0] != "Z"


def test_unknown_model_is_a_usage_error(tiny_file):
    with pytest.raises(SystemExit):
        evaluate.main(["--dataset", str(tiny_file), "--models", "pop,bert4rec"])


def test_gpt_models_are_built_with_and_without_text(monkeypatch):
    import types

    class FakeGPT:
        def __init__(self, preset: str = "small", use_text: bool = True, base_model=None, seed: int = 7, *,
                     threads=None):
            self.kwargs = dict(preset=preset, use_text=use_text, base_model=base_model, seed=seed, threads=threads)

    monkeypatch.setitem(sys.modules, "recommender.gpt", types.SimpleNamespace(GPTRecommender=FakeGPT))
    options = evaluate.ModelOptions(seed=11, max_epochs=3, gpt_preset="tiny", gpt_base_model="/models/base", threads=1)
    with_text, without_text = evaluate.build_model("gpt", options), evaluate.build_model("gpt-notext", options)
    assert with_text.kwargs == dict(preset="tiny", use_text=True, base_model="/models/base", seed=11, threads=1)
    assert without_text.kwargs["use_text"] is False  # max_epochs is not passed: the class does not take it


def test_a_gpt_work_dir_keeps_the_base_and_a_second_run_only_fine_tunes(tiny_file, tmp_path):
    work = tmp_path / "gpt-work"
    args = ["--dataset", str(tiny_file), "--models", "gpt", "--gpt-preset", "tiny", "--gpt-work-dir", str(work),
            "--gpt-set", "pretrain_epochs=1", "--gpt-set", "finetune_epochs=1", "--threads", "1", "--quiet"]
    assert evaluate.main([*args, "--out", str(tmp_path / "first")]) == 0
    base_weights = next((work / "base").glob("*.safetensors"))
    first_base = base_weights.read_bytes()
    first_log = json.loads((work / "train_log.json").read_text(encoding="utf-8"))

    with pytest.raises(SystemExit):  # the adapter name is taken
        evaluate.main([*args, "--out", str(tmp_path / "second")])
    assert evaluate.main([*args, "--out", str(tmp_path / "second"), "--gpt-set", "finetune_lr=0.01",
                          "--gpt-adapter", "lr01"]) == 0
    assert (work / "adapters" / "lr01" / "adapter_config.json").is_file()
    assert base_weights.read_bytes() == first_base  # the base was reused, not pretrained again
    second_log = json.loads((work / "train_log.json").read_text(encoding="utf-8"))
    assert second_log["pretrain"] == first_log["pretrain"]
    report = json.loads((tmp_path / "second" / "report.json").read_text(encoding="utf-8"))
    assert report["models"][0]["status"] == "ok"


def test_a_gpt_work_dir_without_the_gpt_model_or_with_half_a_base_is_a_usage_error(tiny_file, tmp_path, capsys):
    with pytest.raises(SystemExit):
        evaluate.main(["--dataset", str(tiny_file), "--models", "pop", "--gpt-work-dir", str(tmp_path)])
    assert "leaves out" in capsys.readouterr().err
    (tmp_path / "half" / "base").mkdir(parents=True)
    (tmp_path / "half" / "base" / "config.json").write_text("{}", encoding="utf-8")
    with pytest.raises(SystemExit):
        evaluate.main(["--dataset", str(tiny_file), "--models", "gpt", "--gpt-work-dir", str(tmp_path / "half")])
    assert "without its tokenizer" in capsys.readouterr().err


def test_masked_ranks_leave_out_what_the_customer_bought_and_a_rebuy_target_ranks_last():
    from datetime import datetime

    from recommender.dataset import Example, History, Purchase

    day = datetime(2030, 1, 1)

    class Fixed:
        def score(self, examples):
            return np.tile(np.array([0.9, 0.8, 0.7, 0.6, 0.5]), (len(examples), 1))

    def example(bought, target):
        history = History("c", "en", "regular", tuple(Purchase(day, i) for i in bought), ())
        return Example(history, target, day)

    plain, masked = evaluate.ranks_for(Fixed(), [example([0, 1], 3), example([2], 2)])
    assert plain.tolist() == [4, 3]
    assert masked.tolist() == [2, 5]  # items 0 and 1 leave the ranking; a bought target ranks last
