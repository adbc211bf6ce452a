"""A terminal chat with the bot over Rasa's REST channel, signed in as a demo customer.

Buttons are listed with numbers: type the number to press one. Empty line or
``/quit`` ends the chat. The token is signed here with the store's secret,
as the store's web page would do for a signed-in customer.

    python -m bot.chat [--as C00001 | --anonymous] [--url http://127.0.0.1:5005]
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.error
import urllib.request
import uuid
from typing import Any

from store.identity import sign_token
from store.settings import Settings, load_settings


class ChatError(RuntimeError):
    """The Rasa server could not be reached or answered nonsense."""


def send(rasa_url: str, sender: str, text: str, token: str | None, timeout_s: float = 30) -> list[dict[str, Any]]:
    """Send one message; return the bot's messages (``text``, ``buttons``, ``custom``...)."""
    body: dict[str, Any] = {"sender": sender, "message": text}
    if token:
        body["metadata"] = {"token": token}
    request = urllib.request.Request(
        f"{rasa_url}/webhooks/rest/webhook",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return list(json.loads(response.read()))
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
        raise ChatError(f"no answer from {rasa_url}: {error}") from error


def chat_loop(settings: Settings, rasa_url: str, customer: str | None) -> int:
    """Run the interactive loop until the user quits."""
    token = sign_token(customer, settings.token_secret.get_secret_value(), settings.token_ttl_s) if customer else None
    sender = f"terminal-{uuid.uuid4().hex[:8]}"
    who = f"signed in as {customer}" if customer else "anonymous"
    print(f"Chat with the shop assistant ({who}). English or 中文. Empty line or /quit to leave.")
    buttons: list[dict[str, Any]] = []
    while True:
        try:
            line = input("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not line or line == "/quit":
            return 0
        if line.isdigit() and 1 <= int(line) <= len(buttons):
            chosen = buttons[int(line) - 1]
            if chosen.get("type") == "web_url":
                # A link opens in a browser; a terminal can only show it.
                print(f"     open in a browser: {chosen.get('url')}")
                continue
            line = chosen["payload"]
        try:
            replies = send(rasa_url, sender, line, token)
        except ChatError as error:
            print(f"[error] {error}", file=sys.stderr)
            continue
        buttons = []
        for reply in replies:
            if reply.get("text"):
                print(f"bot> {reply['text']}")
            for button in reply.get("buttons") or []:
                buttons.append(button)
                link = f" ({button.get('url')})" if button.get("type") == "web_url" else ""
                print(f"     [{len(buttons)}] {button.get('title')}{link}")
            if reply.get("custom"):
                print(f"     {json.dumps(reply['custom'], ensure_ascii=False)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.chat", description=__doc__.splitlines()[0])
    who = parser.add_mutually_exclusive_group()
    who.add_argument("--as", dest="customer", default="C00001")
    who.add_argument("--anonymous", action="store_true")
    parser.add_argument("--url", default=None, help="Rasa server (default from settings)")
    args = parser.parse_args(argv)
    settings = load_settings()
    url = args.url or f"http://{settings.bind_host}:{settings.rasa_port}"
    return chat_loop(settings, url, None if args.anonymous else args.customer)


if __name__ == "__main__":
    sys.exit(main())
