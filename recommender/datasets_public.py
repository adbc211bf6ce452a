"""Public and synthetic sequence data sets in the one-line-per-user format.

    python -m recommender.datasets_public ml-100k [--wheel PATH] [--out var/datasets/ml-100k.txt]
    python -m recommender.datasets_public synthetic [--users 22363 --items 12101 --interactions 198502]
        [--out var/datasets/synthetic-beauty.txt] [--seed 7]

No data set can be downloaded at run time here, but RecBole's wheel on PyPI
ships MovieLens-100k (943 users, 1,682 items, 100,000 ratings, GroupLens) as
atomic files. ``ml-100k`` takes them from that wheel (``pip download --no-deps
recbole==1.2.1`` when no ``--wheel`` is given; nothing is installed) and
writes each user's rated items in timestamp order. ``synthetic`` writes a
file the size of Amazon Beauty 5-core (the real file cannot be fetched at run time here;
the README says where this project's copy came from)
to check that loading and evaluation scale; its numbers say nothing about
model quality on real data. Output goes under ``var/`` (git-ignored).
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
RECBOLE_PIN = "recbole==1.2.1"
ML100K_MEMBER = "recbole/dataset_example/ml-100k/ml-100k.inter"


class ConversionError(ValueError):
    """An input file does not have the expected layout; the message says which and where."""


def atomic_sequences(lines: Iterable[str], source: str = "<inter>") -> dict[str, list[str]]:
    """Per-user item ids in time order from a RecBole ``.inter`` atomic file.

    The header names ``user_id:token``, ``item_id:token`` and ``timestamp:float``
    columns (tab-separated). Items with equal timestamps keep file order.
    """
    reader = csv.reader(lines, delimiter="\t")
    header = next(reader, None)
    if header is None:
        raise ConversionError(f"{source}: empty file")
    names = [column.split(":")[0] for column in header]
    try:
        user_col, item_col, time_col = (names.index(n) for n in ("user_id", "item_id", "timestamp"))
    except ValueError as error:
        raise ConversionError(f"{source}:1: header {header} lacks user_id, item_id or timestamp") from error
    rows: dict[str, list[tuple[float, int, str]]] = {}
    for line_number, row in enumerate(reader, start=2):
        if not row:
            continue
        try:
            rows.setdefault(row[user_col], []).append((float(row[time_col]), line_number, row[item_col]))
        except (IndexError, ValueError) as error:
            raise ConversionError(f"{source}:{line_number}: bad row {row!r}: {error}") from error
    return {user: [item for _, _, item in sorted(events)] for user, events in rows.items()}


def write_sequence_file(sequences: Mapping[str, Sequence[str]], path: Path) -> Path:
    """Write ``user item1 item2 ...`` lines (users in the mapping's order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for user, items in sequences.items():
            handle.write(f"{user} {' '.join(items)}\n")
    return path


def recbole_wheel(download_dir: Path) -> Path:
    """Fetch RecBole's wheel (no dependencies, not installed) with pip; return its path."""
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", RECBOLE_PIN,
                    "-d", str(download_dir)], check=True)
    wheels = sorted(download_dir.glob("recbole-*.whl"))
    if not wheels:
        raise ConversionError(f"pip left no RecBole wheel in {download_dir}")
    return wheels[0]


def ml100k_from_wheel(wheel: Path) -> dict[str, list[str]]:
    """MovieLens-100k sequences read straight out of RecBole's wheel."""
    with zipfile.ZipFile(wheel) as archive:
        try:
            raw = archive.read(ML100K_MEMBER)
        except KeyError as error:
            raise ConversionError(f"{wheel}: no {ML100K_MEMBER} inside") from error
    return atomic_sequences(io.StringIO(raw.decode("utf-8")), f"{wheel}!{ML100K_MEMBER}")


def synthetic_sequences(users: int, items: int, interactions: int, *, seed: int = 7,
                        min_length: int = 5) -> dict[str, list[str]]:
    """Beauty-shaped random sequences: ``users`` lines, exactly ``interactions`` items in all.

    Lengths are ``min_length`` plus a geometric tail; items follow a Zipf-like
    popularity, and with probability 0.3 the next item is a neighbour of the
    previous one, so sequence models have something to learn.
    """
    if interactions < users * min_length:
        raise ValueError(f"{interactions} interactions cannot give {users} users {min_length} items each")
    rng = np.random.default_rng(seed)
    extra = interactions - users * min_length
    lengths = min_length + rng.multinomial(extra, rng.dirichlet(np.full(users, 0.6)))
    popularity = 1.0 / np.arange(1, items + 1) ** 0.8
    popularity /= popularity.sum()
    draws = rng.choice(items, size=interactions, p=popularity)
    neighbour = rng.random(interactions) < 0.3
    steps = rng.integers(1, 4, size=interactions)
    sequences: dict[str, list[str]] = {}
    position = 0
    for user, length in enumerate(lengths):
        sequence = [int(draws[position])]
        for offset in range(position + 1, position + length):
            sequence.append((sequence[-1] + int(steps[offset])) % items if neighbour[offset] else int(draws[offset]))
        sequences[f"u{user}"] = [f"i{item}" for item in sequence]
        position += length
    return sequences


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; prints the file written and its size."""
    parser = argparse.ArgumentParser(prog="python -m recommender.datasets_public", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    ml = commands.add_parser("ml-100k", help="MovieLens-100k from RecBole's wheel")
    ml.add_argument("--wheel", type=Path, help="a downloaded recbole-*.whl (default: pip download it)")
    ml.add_argument("--out", type=Path, default=REPO_ROOT / "var" / "datasets" / "ml-100k.txt")
    synthetic = commands.add_parser("synthetic", help="a random file the size of Amazon Beauty 5-core")
    synthetic.add_argument("--users", type=int, default=22363)
    synthetic.add_argument("--items", type=int, default=12101)
    synthetic.add_argument("--interactions", type=int, default=198502)
    synthetic.add_argument("--seed", type=int, default=7)
    synthetic.add_argument("--out", type=Path, default=REPO_ROOT / "var" / "datasets" / "synthetic-beauty.txt")
    args = parser.parse_args(argv)

    if args.command == "ml-100k":
        if args.wheel:
            sequences = ml100k_from_wheel(args.wheel)
        else:
            with tempfile.TemporaryDirectory() as folder:
                sequences = ml100k_from_wheel(recbole_wheel(Path(folder)))
    else:
        sequences = synthetic_sequences(args.users, args.items, args.interactions, seed=args.seed)
    path = write_sequence_file(sequences, args.out)
    total = sum(len(s) for s in sequences.values())
    distinct = len({item for s in sequences.values() for item in s})
    print(f"wrote {path}: {len(sequences)} users, {distinct} items, {total} interactions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
