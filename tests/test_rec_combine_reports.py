"""Combining evaluations of one split that ran separately; refusing those of another data set."""

from __future__ import annotations

import json

import pytest

from recommender import combine_reports, evaluate
from tests.test_rec_evaluate import tiny_file  # noqa: F401 - the fixture


def test_rows_of_separate_runs_stand_side_by_side_with_their_sources(tiny_file, tmp_path):  # noqa: F811
    for models in ("pop", "cooc"):
        assert evaluate.main(["--dataset", str(tiny_file), "--models", models, "--out", str(tmp_path / models),
                              "--quiet"]) == 0
    assert combine_reports.main([str(tmp_path / "pop"), str(tmp_path / "cooc"), "--out", str(tmp_path / "all")]) == 0
    combined = json.loads((tmp_path / "all" / "report.json").read_text())
    alone = {m: json.loads((tmp_path / m / "report.json").read_text())["models"][0] for m in ("pop", "cooc")}
    assert [m["name"] for m in combined["models"]] == ["pop (pop)", "cooc (cooc)"]
    assert [m["metrics"] for m in combined["models"]] == [alone["pop"]["metrics"], alone["cooc"]["metrics"]]
    assert [s["folder"] for s in combined["sources"]] == [str(tmp_path / "pop"), str(tmp_path / "cooc")]
    markdown = (tmp_path / "all" / "report.md").read_text()
    assert f"{alone['cooc']['metrics']['test_ndcg10']:.4f}" in markdown
    assert (tmp_path / "all" / "ndcg.png").stat().st_size > 0


def test_a_run_on_other_data_is_refused_with_the_fields_that_differ(tiny_file, tmp_path, capsys):  # noqa: F811
    other = tmp_path / "other.txt"
    other.write_text("\n".join(f"v{u} a b c d" for u in range(10)), encoding="utf-8")
    evaluate.main(["--dataset", str(tiny_file), "--models", "pop", "--out", str(tmp_path / "a"), "--quiet"])
    evaluate.main(["--dataset", str(other), "--models", "pop", "--out", str(tmp_path / "b"), "--quiet"])
    assert combine_reports.main([str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "all")]) == 2
    assert "histories" in capsys.readouterr().err and not (tmp_path / "all").exists()
    with pytest.raises(combine_reports.ReportMismatch, match="no report.json"):
        combine_reports.load_reports([tmp_path / "a", tmp_path / "missing"])
