"""`tgflows dev` restarts a child that dies, and gives up on one that keeps dying."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tgflows.devchildren import Children, GaveUp


def python(code: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", code])


def test_a_child_that_dies_is_restarted(tmp_path: Path) -> None:
    marker = tmp_path / "died-once"
    # Dies the first time, runs the second.
    code = (
        "import pathlib, sys, time\n"
        f"m = pathlib.Path({str(marker)!r})\n"
        "if not m.exists():\n    m.touch(); sys.exit(3)\n"
        "time.sleep(60)\n"
    )
    children = Children()
    first = children.start("worker", lambda: python(code))
    try:
        deadline = time.monotonic() + 20
        while children["worker"] is first or children["worker"].poll() is not None:
            assert time.monotonic() < deadline, "not restarted"
            children.watch()
            time.sleep(0.05)
        assert first.returncode == 3
    finally:
        children.stop(timeout=5)


def test_a_child_that_keeps_crashing_ends_dev_with_a_clear_message() -> None:
    children = Children(max_backoff=0.05)
    children.start("api", lambda: python("import sys; sys.exit(7)"))
    deadline = time.monotonic() + 30
    with pytest.raises(GaveUp) as gave_up:
        while time.monotonic() < deadline:
            children.watch()
            time.sleep(0.02)
    assert str(gave_up.value) == "api exited 5 times within 60s (last exit code 7); giving up"
    children.stop(timeout=5)
