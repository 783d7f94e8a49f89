"""The children of `tgflows dev`: restarted with backoff when they die, until they crash
too often."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

# Five crashes of one child within a minute: something is wrong that restarting will
# not fix (a port taken, a broken database), so dev stops and says so.
CRASH_LIMIT = 5
CRASH_WINDOW = 60.0
MAX_BACKOFF = 8.0

Start = Callable[[], "subprocess.Popen[bytes]"]


class GaveUp(RuntimeError):
    pass


@dataclass
class _Child:
    start: Start
    proc: subprocess.Popen[bytes]
    crashes: deque[float] = field(default_factory=deque)
    restart_at: float | None = None


class Children:
    def __init__(
        self,
        *,
        crash_limit: int = CRASH_LIMIT,
        window: float = CRASH_WINDOW,
        max_backoff: float = MAX_BACKOFF,
    ) -> None:
        self._children: dict[str, _Child] = {}
        self._limit = crash_limit
        self._window = window
        self._max_backoff = max_backoff

    def start(self, name: str, start: Start) -> subprocess.Popen[bytes]:
        proc = start()
        self._children[name] = _Child(start, proc)
        return proc

    def __getitem__(self, name: str) -> subprocess.Popen[bytes]:
        return self._children[name].proc

    def processes(self) -> Iterator[subprocess.Popen[bytes]]:
        return (child.proc for child in self._children.values())

    def watch(self) -> None:
        """Restart what died, after a backoff; raise GaveUp after too many crashes."""
        now = time.monotonic()
        for name, child in self._children.items():
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restart_at = None
                    child.proc = child.start()
                    print(f"{name} restarted", file=sys.stderr, flush=True)
                continue
            code = child.proc.poll()
            if code is None:
                continue
            child.crashes.append(now)
            while child.crashes and child.crashes[0] < now - self._window:
                child.crashes.popleft()
            if len(child.crashes) >= self._limit:
                raise GaveUp(
                    f"{name} exited {len(child.crashes)} times within {self._window:.0f}s "
                    f"(last exit code {code}); giving up"
                )
            delay = min(self._max_backoff, 0.5 * 2 ** (len(child.crashes) - 1))
            child.restart_at = now + delay
            print(
                f"{name} exited with code {code}; restarting in {delay:.1f}s",
                file=sys.stderr,
                flush=True,
            )

    def stop(self, timeout: float = 10) -> None:
        for proc in self.processes():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.processes():
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
