"""``python -m store``: see ``store.cli``."""

from store.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
