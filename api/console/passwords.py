"""argon2 password hashes and the failed sign-in limiter."""

from __future__ import annotations

import time
from collections import deque

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

HASHER = PasswordHasher()
# A hash to verify against for unknown emails, so both paths cost the same time.
DUMMY_HASH = HASHER.hash("tgflows-no-such-user")
MIN_LENGTH = 8


def hash_password(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise ValueError(f"a password has at least {MIN_LENGTH} characters")
    return HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    try:
        return HASHER.verify(stored or DUMMY_HASH, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


class FailureLimiter:
    """At most `limit` failed sign-ins per key in a sliding window (per api process)."""

    def __init__(self, limit: int = 5, window: float = 300.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def retry_after(self, keys: list[str]) -> int:
        """Seconds until another attempt is allowed; 0 when it is allowed now."""
        now = time.monotonic()
        wait = 0.0
        for key in keys:
            times = self._recent(key, now)
            if len(times) >= self.limit:
                wait = max(wait, self.window - (now - times[0]))
        return int(wait) + (1 if wait else 0)

    def fail(self, keys: list[str]) -> None:
        now = time.monotonic()
        for key in keys:
            self._recent(key, now).append(now)

    def clear(self, key: str) -> None:
        self._failures.pop(key, None)
