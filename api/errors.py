"""The one handler: domain errors (api.domain_errors) and framework errors become HTTP
answers of one shape, ErrorBody; STATUS_OF maps each domain error to its status."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from psycopg.errors import QueryCanceled
from pydantic import BaseModel, Field
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException

from api.domain_errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    TooManyRequests,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """Every error the api answers, whatever raised it."""

    code: str = Field(description="Stable machine-readable reason, e.g. invalid, not_found")
    detail: str = Field(description="What went wrong and where, for a person")
    field: str | None = Field(default=None, description="The input at fault, when there is one")
    problems: list[dict[str, Any]] | None = Field(
        default=None,
        description="Each problem found, when there are several (a refused launch's checks)",
    )


# The one place a domain error becomes an HTTP status (the most specific class wins).
STATUS_OF: dict[type[DomainError], int] = {
    Unauthenticated: 401,
    Forbidden: 403,
    NotFound: 404,
    Conflict: 409,
    Invalid: 422,
    TooManyRequests: 429,
    Unavailable: 503,
}


def status_of(exc: DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return 400


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
    422: "invalid",
}
# Errors any route may answer (the app-wide part of every operation's responses).
COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorBody, "description": "Body over its limit (1 MB JSON, 20 MB import)"},
    422: {"model": ErrorBody, "description": "Invalid input; says what and where"},
    429: {
        "model": ErrorBody,
        "description": "Too many failed authentications, or reads beyond the caller's "
        "pace; see Retry-After",
    },
    503: {"model": ErrorBody, "description": "PostgreSQL, Temporal or Telegram unreachable"},
}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid token"},
    403: {"model": ErrorBody, "description": "Visible, but this role may not do it"},
    404: {"model": ErrorBody, "description": "Not found, or not visible to the caller"},
    409: {"model": ErrorBody, "description": "The current state does not allow it"},
    **COMMON_RESPONSES,
}


def _json(status: int, code: str, detail: str, **extra: Any) -> JSONResponse:
    body = ErrorBody(
        code=code,
        detail=detail,
        field=extra.pop("field", None),
        problems=extra.pop("problems", None),
    )
    return JSONResponse(body.model_dump(exclude_none=True), status, **extra)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        status = status_of(exc)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, TooManyRequests) and exc.retry_after is not None:
            headers = {"Retry-After": str(exc.retry_after)}
        return _json(
            status,
            exc.code,
            exc.detail,
            field=exc.field,
            problems=exc.problems,
            headers=headers,
        )

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400 and "parsing the body" in str(exc.detail):
            # FastAPI's answer to a body it cannot decode (not UTF-8, say).
            return _json(422, "invalid_body", "body is not valid JSON", field="body")
        code = getattr(exc, "code", None) or _HTTP_CODES.get(exc.status_code, "error")
        return _json(exc.status_code, code, str(exc.detail), headers=exc.headers)

    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(PoolTimeout)
    async def database_down(_: Request, exc: Exception) -> JSONResponse:
        if isinstance(getattr(exc, "orig", None), QueryCanceled):
            # TGFLOWS_API_STATEMENT_TIMEOUT: the database is fine, the read too large.
            return _json(
                503, "query_timeout", "The query took too long; narrow it (filters, a period)"
            )
        # No statement text in the log: it may carry a caller's data.
        log.warning("PostgreSQL unreachable: %s", type(exc).__name__)
        return _json(503, "database_unavailable", "PostgreSQL is unreachable; try again")

    @app.exception_handler(DataError)
    async def data_error(_: Request, exc: DataError) -> JSONResponse:
        # A value PostgreSQL cannot hold (an id beyond 64 bits, say) is bad input, not a crash.
        body = ErrorBody(code="invalid", detail="A value is out of range for its field")
        return JSONResponse(body.model_dump(exclude_none=True), 422)

    @app.exception_handler(IntegrityError)
    async def integrity_error(_: Request, exc: IntegrityError) -> JSONResponse:
        body = ErrorBody(code="conflict", detail="This would duplicate or break an existing record")
        return JSONResponse(body.model_dump(exclude_none=True), 409)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid input"}
        if first.get("type") == "json_invalid":
            return _json(422, "invalid_json", f"body is not valid JSON: {first.get('msg')}")
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        return _json(422, "invalid", f"{where}: {first.get('msg')}", field=where or None)


def install_crash_handler(app: FastAPI) -> None:
    """A crash answers in the same shape (the server still logs it with its traceback)."""

    @app.exception_handler(Exception)
    async def crash(_: Request, exc: Exception) -> JSONResponse:
        return _json(500, "internal_error", "Internal error; it has been logged")
