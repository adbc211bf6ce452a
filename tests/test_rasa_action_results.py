"""The faster check of action-server answers gives Rasa's own verdicts, in the Rasa environment (Python 3.10)."""

from __future__ import annotations

import textwrap

from tests.test_tracker_store import run_rasa_python

SCRIPT = textwrap.dedent(
    """
    import json
    from jsonschema import ValidationError, validate
    from rasa.core.actions.action import RemoteAction
    from bot.rasa_ext import action_results

    card = {"text": "1. Kettle", "buttons": [{"title": "more", "payload": '/more_like_this{"sku": "K1"}'}]}
    answers = [
        {"events": [], "responses": [card, card, card]},
        {"events": [{"event": "slot", "name": "lang", "value": "zh"}], "responses": []},
        {"events": [{"event": "followup", "name": "action_listen"}]},
        {},
        {"events": "not a list"},
        {"events": [{"event": "no_such_event"}]},
        {"events": [{"event": "slot", "value": 1}]},
        {"responses": ["a string, not a message"]},
        [],
    ]
    original = RemoteAction._validate_action_result
    action_results.install()
    assert RemoteAction._validate_action_result is action_results.validate_action_result
    action = RemoteAction("action_x", None)
    for answer in answers:
        try:
            validate(answer, RemoteAction.action_response_format_spec())
            expected = "ok"
        except ValidationError as error:
            expected = error.message
        try:
            action._validate_action_result(answer)
            got = "ok"
        except ValidationError as error:
            got = error.message
        if expected != "ok":
            assert got.startswith(expected + ". Failed to validate Action server response"), (answer, got)
        else:
            assert got == "ok", (answer, got)
        print("VERDICT", json.dumps(answer)[:40], "ok" if got == "ok" else "rejected")
    """
)


def test_answers_get_rasas_verdicts_and_messages():
    result = run_rasa_python("-c", SCRIPT)
    assert result.returncode == 0, result.stderr[-2000:]
    verdicts = [line.rsplit(" ", 1)[1] for line in result.stdout.splitlines() if line.startswith("VERDICT")]
    # Four well-formed answers pass; every malformed one is still refused.
    assert verdicts == ["ok"] * 4 + ["rejected"] * 5


def test_the_server_entry_point_installs_the_fix_and_runs_rasas_cli():
    result = run_rasa_python("-m", "bot.rasa_ext.serve", "--version")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "3.6.21" in result.stdout
