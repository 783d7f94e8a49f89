"""api.errors.STATUS_OF, the one place a domain error becomes an HTTP status."""

from __future__ import annotations

from pathlib import Path

import pytest

from api import domain_errors as d
from api.errors import status_of


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (d.Unauthenticated("x"), 401),
        (d.Forbidden("x"), 403),
        (d.NotFound("x"), 404),
        (d.Conflict("x", code="status_active"), 409),
        (d.Invalid("x", field="name"), 422),
        (d.TooManyRequests("x", retry_after=3), 429),
        (d.TooManyRequests("x", code="too_many_attempts"), 429),
        (d.Unavailable("x"), 503),
        (d.DomainError("x"), 400),
    ],
)
def test_each_domain_error_has_its_status(error: d.DomainError, status: int) -> None:
    assert status_of(error) == status


def test_a_subclass_takes_its_parents_status() -> None:
    class Gone(d.NotFound):
        code = "gone"

    assert status_of(Gone("x")) == 404


def test_domain_errors_know_nothing_of_http() -> None:
    source = Path(d.__file__).read_text()
    assert "fastapi" not in source and "starlette" not in source and "status_code" not in source
