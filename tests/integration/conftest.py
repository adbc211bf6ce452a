"""Fixtures that start the real product: model server, store API, action server and Rasa server.

The Rasa model must have been trained (``make train``, which ``make test``
runs first). The store is a small-scale demo store built into a fresh
SQLite file; the recommender is the ``tiny`` preset trained on it here
(seconds), so the model server runs the real code path on a real model.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.chat import send
from bot.launch import Stack
from store.db import make_engine, make_session_factory
from store.identity import sign_token
from store.settings import REPO_ROOT, Settings, load_settings

MODEL_DIR = REPO_ROOT / "models"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def it_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    if not list(MODEL_DIR.glob("*.tar.gz")):
        pytest.fail("no trained Rasa model in models/: run `make train` (make test does it first)")
    var_dir: Path = tmp_path_factory.mktemp("it-var")
    return load_settings(
        database_url=f"sqlite:///{var_dir / 'shop.db'}",
        var_dir=var_dir,
        model_dir=var_dir / "gpt-tiny",
        rasa_port=free_port(),
        action_port=free_port(),
        model_port=free_port(),
        store_api_port=free_port(),
        recommend_timeout_s=5.0,  # the shared CI box is slow; the bound itself is tested with a stub
    )


@pytest.fixture(scope="session")
def it_store(it_settings: Settings) -> sessionmaker[Session]:
    from recommender.train import main as train
    from store.demo import build_demo_store

    build_demo_store(it_settings.database_url, seed=11, scale=0.05, progress=False)
    train(["--preset", "tiny", "--database-url", it_settings.database_url, "--out", str(it_settings.model_dir),
           "--threads", "1"])
    return make_session_factory(make_engine(it_settings.database_url))


@pytest.fixture(scope="session")
def stack(it_settings: Settings, it_store: sessionmaker[Session]) -> Iterator[Stack]:
    with Stack(it_settings) as running:
        yield running


@pytest.fixture
def store_api(stack: Stack, it_settings: Settings):
    """POST/PATCH to the running store API as the shop's backend; returns (status, body)."""
    import json
    import urllib.error
    import urllib.request

    token = it_settings.store_api_token.get_secret_value()
    base = f"http://{it_settings.bind_host}:{it_settings.store_api_port}"

    def call(method: str, path: str, body: dict) -> tuple[int, dict]:
        request = urllib.request.Request(f"{base}{path}", data=json.dumps(body).encode(), method=method,
                                         headers={"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    return call


class Chat:
    """One conversation over the REST channel, as a signed-in customer or anonymous."""

    def __init__(self, stack: Stack, token: str | None, sender: str | None = None) -> None:
        self.stack = stack
        self.token = token
        self.sender = sender or f"it-{uuid.uuid4().hex[:10]}"

    def say(self, text: str) -> list[dict]:
        return send(self.stack.rasa_url, self.sender, text, self.token, timeout_s=60)

    def text(self, message: str) -> str:
        """Send and join every text reply into one string."""
        return "\n".join(reply.get("text") or "" for reply in self.say(message))


@pytest.fixture
def chat_as(stack: Stack, it_settings: Settings):
    secret = it_settings.token_secret.get_secret_value()

    def make(customer: str | None, sender: str | None = None) -> Chat:
        token = sign_token(customer, secret, 600) if customer else None
        return Chat(stack, token, sender)

    return make
