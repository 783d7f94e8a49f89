"""What a use case refuses, said without HTTP: services and guards raise these, and
api.errors (the one handler) maps each kind to its status in one table."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refusal with a stable machine-readable code, a sentence for a person, and the
    input at fault (or each problem found) when there is one."""

    code = "bad_request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        field: str | None = None,
        problems: list[dict[str, Any]] | None = None,
    ):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.problems = problems
        if code:
            self.code = code


class Unauthenticated(DomainError):
    """The caller is not known: no credentials, or wrong ones."""

    code = "unauthenticated"


class Forbidden(DomainError):
    """The caller sees the thing but may not do this to it."""

    code = "forbidden"


class NotFound(DomainError):
    """No such thing, or none the caller may know of."""

    code = "not_found"


class Conflict(DomainError):
    """The current state does not allow it."""

    code = "conflict"


class Invalid(DomainError):
    """The input is wrong; `field` names where."""

    code = "invalid"


class Unavailable(DomainError):
    """A service it needs (PostgreSQL, Temporal, Telegram) cannot be reached now."""

    code = "unavailable"


class TooManyRequests(DomainError):
    """Too many failed attempts; `retry_after` seconds, when known, until the next may pass."""

    code = "too_many_requests"

    def __init__(self, detail: str, *, retry_after: int | None = None, code: str | None = None):
        super().__init__(detail, code=code)
        self.retry_after = retry_after
