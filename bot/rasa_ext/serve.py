"""Rasa's command line with the project's run-time fixes installed first.

``python -m bot.rasa_ext.serve run --model ...`` takes exactly the arguments of
``rasa``; ``bot.launch`` starts the Rasa server this way. Installed fixes:
``bot.rasa_ext.action_results`` (action answers validated without re-checking
the schema on every turn).
"""

from __future__ import annotations

import sys

from bot.rasa_ext import action_results


def main() -> None:
    """Install the fixes, then hand the command line to Rasa."""
    action_results.install()
    from rasa.__main__ import main as rasa_main

    sys.argv[0] = "rasa"
    rasa_main()


if __name__ == "__main__":
    main()
