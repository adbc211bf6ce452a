"""``python -m store``: what each command prints and its exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from store.cli import main
from store.db import make_engine
from store.demo.stamp import generator_version
from store.identity import verify_token
from store.settings import REPO_ROOT

FIXTURES = Path(__file__).parent / "fixtures" / "import"
SECRET = "test-secret-for-the-cli-0123456789abcdef"
DEMO = ["build-demo", "--scale", "0.02", "--end-date", "2026-01-15", "--quiet"]


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("SHOP_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SHOP_TOKEN_SECRET", SECRET)
    return f"sqlite:///{tmp_path / 'shop.db'}"


def run(url: str, *argv: str) -> int:
    return main(["--database-url", url, *argv])


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("store: error: ")
    return err[0]


def test_build_demo_builds_then_reuses_then_rebuilds_on_new_parameters(
    url: str, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(url, *DEMO) == 0
    assert "built the demo store" in capsys.readouterr().out
    stamp = json.loads((tmp_path / "var" / "demo-build.json").read_text())
    assert list(stamp) == [url]
    assert stamp[url]["parameters"] == {
        "seed": 7,
        "end_date": "2026-01-15",
        "scale": 0.02,
        "generator": generator_version(),
    }
    assert run(url, *DEMO) == 0
    assert "reused" in capsys.readouterr().out
    assert run(url, *DEMO, "--seed", "8") == 0
    assert "built the demo store with seed 8" in capsys.readouterr().out
    assert run(url, *DEMO, "--seed", "8", "--force") == 0
    assert "built" in capsys.readouterr().out
    monkeypatch.setattr("store.demo.stamp.generator_version", lambda: "changed")
    assert run(url, *DEMO, "--seed", "8") == 0
    assert "built" in capsys.readouterr().out


def test_build_demo_refuses_to_overwrite_other_data(url: str, capsys) -> None:
    assert run(url, "migrate") == 0
    assert run(url, "import", "catalog", str(FIXTURES / "catalog.csv")) == 0
    capsys.readouterr()
    assert run(url, *DEMO) == 1
    assert "not a demo build" in one_line_error(capsys)
    assert run(url, *DEMO, "--force") == 0


def test_a_demo_grown_by_an_import_is_no_longer_a_demo(url: str, capsys) -> None:
    assert run(url, *DEMO) == 0
    assert run(url, "import", "catalog", str(FIXTURES / "catalog.csv")) == 0
    capsys.readouterr()
    assert run(url, *DEMO) == 1
    assert "--force" in one_line_error(capsys)


def test_migrate_creates_the_schema(url: str) -> None:
    assert run(url, "migrate") == 0
    engine = make_engine(url)
    assert inspect(engine).has_table("products") and inspect(engine).has_table("alembic_version")
    engine.dispose()


def test_token_is_signed_for_an_existing_customer_only(url: str, capsys) -> None:
    assert run(url, *DEMO) == 0
    capsys.readouterr()
    assert run(url, "token", "C00001", "--ttl", "120") == 0
    assert verify_token(capsys.readouterr().out.strip(), SECRET) == "C00001"
    assert run(url, "token", "C99999") == 2
    assert "C99999" in one_line_error(capsys)
    assert run(url, "token", "C00001", "--ttl", "0") == 2
    assert "--ttl" in one_line_error(capsys)


def test_token_without_schema_says_migrate(url: str, capsys) -> None:
    assert run(url, "token", "C00001") == 1
    assert "migrate" in one_line_error(capsys)


def test_check_db(url: str, capsys) -> None:
    assert run(url, "check-db") == 0
    assert "reachable" in capsys.readouterr().out
    assert run("postgresql://postgres@127.0.0.1:9/test", "check-db") == 1
    assert "cannot reach" in one_line_error(capsys)


def test_import_reports_bad_files_in_one_line(url: str, tmp_path: Path, capsys) -> None:
    assert run(url, "migrate") == 0
    assert run(url, "import", "catalog", str(FIXTURES / "catalog.csv")) == 0
    assert "4 products created" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("customer,item,timestamp\nU1,TEA-001,2024-01-01\nU1,GHOST,2024-01-01\n", encoding="utf-8")
    assert run(url, "import", "interactions", str(bad)) == 2
    message = one_line_error(capsys)
    assert str(bad) in message and "line 3" in message and "'item'" in message and "GHOST" in message


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["build-demo", "--scale", "nope"], "--scale"),
        (["build-demo", "--scale", "0"], "--scale"),
        (["build-demo", "--end-date", "2026-02-30"], "--end-date"),
        (["build-demo", "--seed", "x"], "--seed"),
        (["build-demo", "--colour", "red"], "--colour"),
        (["import", "catalogue", "x.csv"], "catalogue"),
        (["import", "catalog", "/no/such/file.csv"], "no such file"),
        (["token"], "customer"),
        (["explode"], "explode"),
        ([], "command"),
    ],
)
def test_bad_flags_exit_2_with_one_line(url: str, capsys, argv: list[str], named: str) -> None:
    assert run(url, *argv) == 2
    assert named in one_line_error(capsys)


def test_bad_database_url_is_a_usage_error(capsys) -> None:
    assert main(["--database-url", "mysql://somewhere/shop", "check-db"]) == 2
    assert "database_url" in one_line_error(capsys)


def test_module_entry_point_never_shows_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "store",
            "--database-url",
            f"sqlite:///{tmp_path / 'x.db'}",
            "import",
            "sequences",
            "missing.txt",
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stderr.strip().count("\n") == 0
    assert "no such file: missing.txt" in result.stderr
