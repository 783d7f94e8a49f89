"""CPU seconds used per program on this machine, to say where a benchmark's time went."""

from __future__ import annotations

import os
from collections import Counter

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_by_program() -> Counter[str]:
    """utime + stime of every live process, summed by program name (workers of a
    program, like PostgreSQL's backends, count together)."""
    totals: Counter[str] = Counter()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        seconds = (int(fields[11]) + int(fields[12])) / _TICK
        totals[_program(name, cmdline)] += seconds
    return totals


def _program(name: str, cmdline: list[bytes]) -> str:
    args = b" ".join(cmdline).decode(errors="replace")
    if "tgflows worker" in args or args.endswith("tgflows worker "):
        return "worker"
    if "tgflows simulator" in args:
        return "simulator"
    if "bench.bare" in args:
        return "bare_worker"
    if name.startswith("postgres") or "postgres" in args.split(" ")[0]:
        return "postgres"
    if name.startswith("temporal"):
        return "temporal"
    if "pytest" in args:
        return "pytest"
    return "other"


def cpu_delta(before: Counter[str], after: Counter[str], per: int) -> dict[str, float]:
    """Milliseconds of CPU per unit of work (`per` units), by program."""
    keys = ("temporal", "worker", "bare_worker", "postgres", "simulator", "pytest", "other")
    return {f"cpu_ms_{k}": 1000 * (after[k] - before[k]) / per for k in keys}


def cpu_by_thread(pid: int) -> Counter[str]:
    """CPU seconds of each thread of a process, summed by thread name."""
    totals: Counter[str] = Counter()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        totals[name] += (int(fields[11]) + int(fields[12])) / _TICK
    return totals
