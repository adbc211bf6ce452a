"""Typed ``KEY=VALUE`` overrides of the training config, as the train and evaluate commands take them."""

from __future__ import annotations

import pytest

from recommender.config import OverrideError, parse_overrides, preset
from recommender.evaluate import main as evaluate_main
from recommender.train import main as train_main


def test_values_are_read_as_their_fields_types():
    parsed = parse_overrides(["finetune_epochs=12", "dropout=0.2", "purchase_marker=false",
                              "max_finetune_minutes=none", "preset=items"])
    assert parsed == {"finetune_epochs": 12, "dropout": 0.2, "purchase_marker": False,
                      "max_finetune_minutes": None, "preset": "items"}
    assert isinstance(parsed["dropout"], float)
    assert preset("small", **parse_overrides(["n_layer=2"])).n_layer == 2


@pytest.mark.parametrize("pair, named", [
    ("finetune_epochs", "not KEY=VALUE"),
    ("=3", "not KEY=VALUE"),
    ("finetune_epoch=3", "'finetune_epoch' is not a config key"),
    ("finetune_epochs=3.5", "needs a value of type int, got .3.5."),
    ("purchase_marker=yes", "needs a value of type bool"),
    ("n_layer=none", "'n_layer' cannot be none"),
])
def test_a_bad_override_is_refused_with_its_reason(pair, named):
    with pytest.raises(OverrideError, match=named):
        parse_overrides([pair])


@pytest.mark.parametrize("command, flag", [(train_main, "--set"), (evaluate_main, "--gpt-set")])
def test_the_commands_refuse_a_bad_override_before_any_work(command, flag, tmp_path, capsys):
    arguments = ["--out", str(tmp_path / "out"), flag, "lora_rank=8"]
    arguments += ["--dataset", str(tmp_path / "missing.txt")] if command is evaluate_main else []
    with pytest.raises(SystemExit) as exit_info:
        command(arguments)
    assert exit_info.value.code == 2
    assert "'lora_rank' is not a config key" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
