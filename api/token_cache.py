"""Bearer tokens already checked, remembered for a few seconds so that a crowd of reads
does not look each one up (issue 19: each lookup is a query and an ORM load per read).

Only reads use it (GET and HEAD: their routes never change the user); a write with a
token forgets that token's entry (it may change the user), a revoke through this api
forgets every entry at once, and one made elsewhere (another api process)
takes effect within `ttl` seconds. An entry holds the token's digest, never the token.
"""

from __future__ import annotations

import time

from db.models import User


class TokenCache:
    def __init__(self, ttl: float, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: dict[str, tuple[float, User]] = {}

    def get(self, digest: str) -> User | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if entry[0] <= time.monotonic():
            del self._entries[digest]
            return None
        return entry[1]

    def put(self, digest: str, user: User) -> None:
        if self.ttl <= 0:
            return
        now = time.monotonic()
        if len(self._entries) >= self.size:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
            if len(self._entries) >= self.size:
                self._entries.clear()
        self._entries[digest] = (now + self.ttl, user)

    def forget(self, digest: str) -> None:
        self._entries.pop(digest, None)

    def clear(self) -> None:
        self._entries.clear()
