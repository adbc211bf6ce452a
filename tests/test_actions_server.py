"""The real action server in a subprocess: token header required on the webhook, /health open."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from store.db import make_engine, make_session_factory
from store.models import Base
from tests.store_factory import ALICE, SECRET, build_store, token

REPO = Path(__file__).resolve().parent.parent
ACTION_TOKEN = "test-action-token-7f3a"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(url: str, body: dict | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    db = tmp_path_factory.mktemp("server") / "shop.db"
    engine = make_engine(f"sqlite:///{db}")
    Base.metadata.create_all(engine)
    build_store(make_session_factory(engine))
    engine.dispose()
    port = free_port()
    env = {
        **os.environ,
        "SHOP_DATABASE_URL": f"sqlite:///{db}",
        "SHOP_ACTION_TOKEN": ACTION_TOKEN,
        "SHOP_TOKEN_SECRET": SECRET,
        "SHOP_ACTION_PORT": str(port),
        "SHOP_BIND_HOST": "127.0.0.1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "actions"], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail("action server exited:\n" + process.stdout.read().decode(errors="replace"))
            try:
                if request(f"{base}/health")[0] == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            if time.monotonic() > deadline:
                pytest.fail("action server did not answer /health within 60 s")
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def greet_call() -> dict:
    latest = {
        "text": "hello",
        "intent": {"name": "greet", "confidence": 1.0},
        "entities": [],
        "metadata": {"token": token(ALICE)},
    }
    return {
        "next_action": "action_greet",
        "sender_id": "server-test",
        "version": "3.6.21",
        "domain": {"slots": {"lang": {"type": "text"}}},
        "tracker": {
            "sender_id": "server-test",
            "slots": {"lang": None},
            "latest_message": latest,
            "events": [{"event": "user", "text": "hello", "parse_data": latest}],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


def test_health_is_open(server):
    assert request(f"{server}/health") == (200, {"status": "ok"})


def test_webhook_without_or_with_wrong_token_is_rejected(server):
    for headers in (
        {},
        {"X-Shop-Action-Token": "wrong"},
        {"X-Shop-Action-Token": ACTION_TOKEN + "x"},
        {"X-Shop-Action-Token": ""},
    ):
        status, body = request(f"{server}/webhook", greet_call(), headers)
        assert status == 401 and "error" in body, headers
    assert request(f"{server}/actions")[0] == 401


def test_webhook_with_token_runs_the_action(server):
    status, body = request(f"{server}/webhook", greet_call(), {"X-Shop-Action-Token": ACTION_TOKEN})
    assert status == 200
    assert "Alice" in body["responses"][0]["text"]
    assert {"event": "slot", "name": "lang", "value": "en"}.items() <= body["events"][0].items()


def test_server_refuses_to_start_on_a_database_without_store_tables(tmp_path):
    env = {
        **os.environ,
        "SHOP_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}",
        "SHOP_ACTION_PORT": str(free_port()),
    }
    result = subprocess.run(
        [sys.executable, "-m", "actions"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "no store tables" in result.stdout + result.stderr
