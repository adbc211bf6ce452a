"""Start, supervise and stop the product's processes.

The stack: the model server (when ``settings.model_dir`` holds a trained
recommender; without one the actions answer from their fallback and the
launcher says so), the store API, the action server and the Rasa server.
Used by ``make run`` (then hands over to the terminal chat) and by the
integration tests (``Stack`` as a context manager). Every process logs to
``<var_dir>/logs/<name>.log``; a process that dies before it is ready makes
start-up fail with the tail of its log.

    python -m bot.launch [--no-chat] [--as C00001 | --anonymous]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from recommender.serving.model_dir import ModelDirError, check_model_dir
from store.db import DatabaseUnavailable, check_reachable, make_engine
from pydantic import SecretStr

from store.settings import REPO_ROOT, Settings, load_settings

# Rasa runs through bot.rasa_ext.serve: its own CLI, with the project's run-time fixes installed first.
RASA_PYTHON = REPO_ROOT / ".venv-rasa" / "bin" / "python"
PYTHON_BIN = REPO_ROOT / ".venv" / "bin" / "python"


class StartupError(RuntimeError):
    """A process of the stack did not become ready."""


@dataclass
class Process:
    """One child process with its log file and readiness URL."""

    name: str
    argv: list[str]
    ready_url: str
    log_path: Path
    env: dict[str, str]
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child owns it until exit
        self.popen = subprocess.Popen(
            self.argv, cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.popen is not None and self.popen.poll() is not None:
                raise StartupError(f"{self.name} exited with {self.popen.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.ready_url, timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        raise StartupError(f"{self.name} not ready after {timeout_s:.0f}s at {self.ready_url}:\n{self.log_tail()}")

    def stop(self, timeout_s: float = 15) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait()

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def child_env(settings: Settings) -> dict[str, str]:
    """Environment for children: every setting as a SHOP_* variable, so all processes agree."""
    env = dict(os.environ)
    for key, value in settings.model_dump().items():
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        env[f"SHOP_{key.upper()}"] = str(value)
    env.update(
        {
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
            # Rasa's telemetry would try to reach the internet.
            "RASA_TELEMETRY_ENABLED": "false",
        }
    )
    return env


def has_model(settings: Settings) -> bool:
    """Whether ``settings.model_dir`` holds a finished recommender with the configured adapter."""
    try:
        check_model_dir(settings.model_dir, settings.model_adapter)
    except ModelDirError:
        return False
    return True


@dataclass
class Stack:
    """Model server (when there is a model), store API, action server and Rasa server."""

    settings: Settings
    model_path: Path = REPO_ROOT / "models"
    with_model_server: bool = True
    processes: list[Process] = field(default_factory=list)

    def process(self, name: str) -> Process:
        """The running process called ``name`` ("model server", "store api", "action server", "rasa server")."""
        return next(p for p in self.processes if p.name == name)

    def __enter__(self) -> Stack:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def rasa_url(self) -> str:
        return f"http://{self.settings.bind_host}:{self.settings.rasa_port}"

    def start(self, timeout_s: float = 180) -> None:
        try:
            check_reachable(make_engine(self.settings.database_url))
        except DatabaseUnavailable as error:
            raise StartupError(str(error)) from error
        env = child_env(self.settings)
        logs = self.settings.var_dir / "logs"
        host = self.settings.bind_host
        settings = self.settings
        wanted: list[Process] = []
        if self.with_model_server and has_model(settings):
            wanted.append(Process(
                "model server",
                [str(PYTHON_BIN), "-m", "recommender.serving", "--model-dir", str(settings.model_dir),
                 "--adapter", settings.model_adapter],
                f"http://{host}:{settings.model_port}/readyz",
                logs / "model-server.log",
                env,
            ))
        wanted.append(Process(
            "store api",
            [str(PYTHON_BIN), "-m", "store.api"],
            f"http://{host}:{settings.store_api_port}/healthz",
            logs / "store-api.log",
            env,
        ))
        actions = Process(
            "action server",
            [str(PYTHON_BIN), "-m", "actions"],
            f"http://{host}:{self.settings.action_port}/health",
            logs / "actions.log",
            env,
        )
        rasa = Process(
            "rasa server",
            [
                str(RASA_PYTHON), "-m", "bot.rasa_ext.serve", "run", "--model", str(self.model_path),
                "--endpoints", "bot/endpoints.yml",
                "--credentials", "bot/credentials.yml", "--interface", host, "--port", str(self.settings.rasa_port),
                "--cors", "*",
            ],
            f"{self.rasa_url}/webhooks/rest/",
            logs / "rasa.log",
            env,
        )
        try:
            for process in (*wanted, actions, rasa):
                self.processes.append(process)
                process.start()
            for process in self.processes:
                process.wait_ready(timeout_s)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.launch", description=__doc__.splitlines()[0])
    parser.add_argument("--no-chat", action="store_true", help="start the servers and wait (Ctrl-C stops)")
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--as", dest="customer", default="C00001", help="demo customer to chat as (default C00001)")
    who.add_argument("--anonymous", action="store_true", help="chat as an anonymous visitor")
    args = parser.parse_args(argv)
    settings = load_settings()
    if has_model(settings):
        print(f"starting the model server ({settings.model_dir}), store API, action server and Rasa server ...",
              flush=True)
    else:
        print(f"no trained recommender in {settings.model_dir} (make recommender trains one): recommendations "
              "come from the fallback (co-purchases, best sellers). Starting the store API, action server and "
              "Rasa server ...", flush=True)
    try:
        with Stack(settings) as stack:
            print(f"ready: REST channel at {stack.rasa_url}/webhooks/rest/webhook; logs in {settings.var_dir / 'logs'}")
            if args.no_chat:
                signal.signal(signal.SIGTERM, signal.default_int_handler)
                while True:
                    time.sleep(3600)
            from bot.chat import chat_loop

            return chat_loop(settings, stack.rasa_url, None if args.anonymous else args.customer)
    except StartupError as error:
        print(f"start-up failed: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
