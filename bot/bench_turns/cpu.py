"""CPU time spent by each process of the stack, and by the whole machine, read from Linux's /proc.

Turn latency on a shared 2-core box is mostly waiting for a core; these
figures say which process the cores went to during the timed part (and how
much went to other work on the machine), so the next optimisation goes to
the right place. Elsewhere than Linux nothing is measured and the report
says so.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

PROC = Path("/proc")
TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def available() -> bool:
    """Whether /proc can be read here."""
    return (PROC / "stat").is_file()


def group_cpu_seconds(process_group: int) -> float:
    """User + system CPU seconds of the live processes in ``process_group`` (a stack process and its workers)."""
    total = 0
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # the process ended while we looked
        fields = stat[stat.rindex(")") + 2:].split()  # from field 3 (state) on; the name may hold spaces
        if int(fields[2]) == process_group:  # field 5, pgrp
            total += int(fields[11]) + int(fields[12])  # fields 14 and 15, utime and stime
    return total / TICKS_PER_S


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine spent not idle since boot (all cores)."""
    values = [int(v) for v in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return (sum(values[:8]) - idle) / TICKS_PER_S


def snapshot(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each named process group, this client, the machine, and the wall clock."""
    reading = {name: group_cpu_seconds(group) for name, group in groups.items()}
    reading["benchmark client"] = time.process_time()
    reading["machine (all processes)"] = machine_busy_seconds()
    reading["wall"] = time.monotonic()
    return reading


def usage(before: dict[str, float], after: dict[str, float]) -> dict[str, float | int]:
    """CPU seconds spent between two snapshots, with the wall time and the cores the machine has."""
    spent: dict[str, float | int] = {name: round(after[name] - before[name], 1) for name in before if name != "wall"}
    spent["wall_s"] = round(after["wall"] - before["wall"], 1)
    spent["cores"] = os.cpu_count() or 1
    return spent
