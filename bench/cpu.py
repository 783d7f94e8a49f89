"""CPU seconds used per program on this machine, to say where a benchmark's time went."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Collection

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_by_process() -> dict[tuple[str, int], float]:
    """utime + stime of every live process, by (program name, pid)."""
    totals: dict[tuple[str, int], float] = {}
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
        totals[(_program(name, cmdline), int(entry))] = seconds
    return totals


def cpu_by_program() -> dict[str, float]:
    """CPU seconds of every live process, summed by program name (workers of a program,
    like PostgreSQL's backends, count together)."""
    totals: dict[str, float] = defaultdict(float)
    for (program, _), seconds in cpu_by_process().items():
        totals[program] += seconds
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


def cpu_delta(
    before: dict[tuple[str, int], float],
    after: dict[tuple[str, int], float],
    per: int,
    *,
    only: Collection[int] | None = None,
) -> dict[str, float]:
    """Milliseconds of CPU per unit of work (`per` units), by program, between two
    `cpu_by_process` snapshots. A process that ended in between is left out (an earlier
    benchmark's server still exiting), one that started counts from zero.

    With `only` (this run's processes, `stack_pids`), every other process on the
    machine (another run's server or database) counts as `elsewhere`, not as its
    program: the machine is shared, and `temporal` or `postgres` then mean this run's."""
    keys: tuple[str, ...] = (
        "temporal",
        "worker",
        "bare_worker",
        "postgres",
        "simulator",
        "pytest",
        "other",
    )
    used: dict[str, float] = defaultdict(float)
    for key, seconds in after.items():
        program = key[0] if only is None or key[1] in only else "elsewhere"
        used[program] += seconds - before.get(key, 0.0)
    if only is not None:
        keys = (*keys, "elsewhere")
    return {f"cpu_ms_{k}": 1000 * used[k] / per for k in keys}


def stack_pids(*roots: int) -> set[int]:
    """These processes and all their descendants: this run's stack is the test process
    (its Temporal server, worker, simulator and baseline worker are its children) and
    the PostgreSQL postmaster (whose backends are its children)."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        children[int(raw[raw.rindex(")") + 2 :].split()[1])].append(int(entry))
    found: set[int] = set()
    todo = list(roots)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        raw = f.read()
    return int(raw[raw.rindex(")") + 2 :].split()[1])


def cpu_by_thread(pid: int) -> dict[str, float]:
    """CPU seconds of each thread of a process, summed by thread name."""
    totals: dict[str, float] = defaultdict(float)
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


def _parent_and_cpu(pid: int) -> tuple[int, float] | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            raw = f.read()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK


def tree_cpu(roots: dict[str, int], labels: dict[int, str] | None = None) -> dict[str, float]:
    """CPU seconds of each root's process tree (the root and its descendants), by the
    root's label; `labels` names single processes apart from their tree (a database
    server's backends by client). Only this run's processes count, not a neighbour's."""
    parents: dict[int, int] = {}
    seconds: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (found := _parent_and_cpu(int(entry))) is not None:
            parents[int(entry)], seconds[int(entry)] = found
    owner = {pid: label for label, pid in roots.items()}
    totals: dict[str, float] = defaultdict(float)
    for pid, used in seconds.items():
        label, walk = (labels or {}).get(pid), pid
        while label is None and walk > 1:
            label, walk = owner.get(walk), parents.get(walk, 0)
        if label is not None:
            totals[label] += used
    return totals
