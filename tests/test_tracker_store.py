"""The Rasa-side tracker store, exercised in the Rasa environment (Python 3.10).

Runs a small script with ``.venv-rasa``'s Python, because Rasa cannot be
imported in this 3.11 environment.
"""

from __future__ import annotations

import subprocess
import textwrap

import pytest

from store.settings import REPO_ROOT

RASA_PYTHON = REPO_ROOT / ".venv-rasa" / "bin" / "python"

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from bot.rasa_ext.tracker_store import ShopTrackerStore

    async def main(url):
        domain = Domain.from_dict({"slots": {"conversation_erased": {"type": "bool", "mappings": [{"type": "custom"}]}}})
        store = ShopTrackerStore(domain=domain, host=url)
        for sender in ("keep", "erase"):
            tracker = DialogueStateTracker.from_events(sender, [ActionExecuted("action_listen"), UserUttered("hi")])
            await store.save(tracker)
        tracker = await store.retrieve("erase")
        tracker.update(SlotSet("conversation_erased", True))
        await store.save(tracker)
        kept = await store.retrieve("keep")
        erased = await store.retrieve("erase")
        print("KEEP", len(kept.events) if kept else 0)
        print("ERASE", len(erased.events) if erased else 0)

    asyncio.run(main(sys.argv[1]))
    """
)


def run_rasa_python(*args: str) -> subprocess.CompletedProcess[str]:
    if not RASA_PYTHON.exists():
        pytest.fail("the Rasa environment is missing: run `make install`")
    return subprocess.run(
        [str(RASA_PYTHON), *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120,
        env={"PYTHONPATH": str(REPO_ROOT), "PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false"},
    )


def test_erase_slot_deletes_only_that_conversation(store_url):
    result = run_rasa_python("-c", SCRIPT, store_url)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = dict(line.split() for line in result.stdout.splitlines() if line.startswith(("KEEP", "ERASE")))
    assert int(lines["KEEP"]) >= 2
    assert int(lines["ERASE"]) == 0


def test_unreachable_database_stops_start_up():
    script = "from bot.rasa_ext.tracker_store import ShopTrackerStore; ShopTrackerStore(host='postgresql://nobody@127.0.0.1:1/none')"
    result = run_rasa_python("-c", script)
    assert result.returncode != 0
    assert "cannot reach the database" in result.stderr
