"""Failed authentications counted per client address and per token prefix (429 beyond)."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable

WINDOW_SECONDS = 60.0
# Keys are dropped once idle; this bounds the memory an attacker can make us hold.
MAX_KEYS = 100_000


class FailureLimiter:
    """At most `limit` failures per key in a sliding window, in this api process."""

    def __init__(
        self,
        limit: int,
        clock: Callable[[], float] = time.monotonic,
        *,
        window: float = WINDOW_SECONDS,
    ) -> None:
        self._limit = limit
        self._clock = clock
        self._window = window
        self._hits: dict[str, deque[float]] = {}

    def retry_after(self, keys: Iterable[str]) -> int | None:
        """Seconds until one of these keys may try again, or None if none is blocked."""
        now = self._clock()
        wait = 0.0
        for key in keys:
            hits = self._prune(key, now)
            if hits is not None and len(hits) >= self._limit:
                wait = max(wait, hits[0] + self._window - now)
        return max(1, math.ceil(wait)) if wait > 0 else None

    def record(self, keys: Iterable[str]) -> None:
        now = self._clock()
        if len(self._hits) > MAX_KEYS:
            for key in [k for k, v in self._hits.items() if not v or v[-1] < now - self._window]:
                del self._hits[key]
        for key in keys:
            self._hits.setdefault(key, deque(maxlen=self._limit)).append(now)

    def clear(self, key: str) -> None:
        self._hits.pop(key, None)

    def _prune(self, key: str, now: float) -> deque[float] | None:
        hits = self._hits.get(key)
        while hits and hits[0] < now - self._window:
            hits.popleft()
        return hits
