"""One error hierarchy carrying its HTTP status, rendered by one handler."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, IntegrityError


class ErrorBody(BaseModel):
    code: str
    detail: str
    field: str | None = None


class AppError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None, field: str | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field = field
        if code:
            self.code = code


class Unauthenticated(AppError):
    status_code, code = 401, "unauthenticated"


class Forbidden(AppError):
    status_code, code = 403, "forbidden"


class NotFound(AppError):
    status_code, code = 404, "not_found"


class Conflict(AppError):
    status_code, code = 409, "conflict"


class Invalid(AppError):
    status_code, code = 422, "invalid"


class Unavailable(AppError):
    status_code, code = 503, "unavailable"


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "Missing or invalid token"},
    403: {"model": ErrorBody, "description": "Visible, but this role may not do it"},
    404: {"model": ErrorBody, "description": "Not found, or not visible to the caller"},
    409: {"model": ErrorBody, "description": "The current state does not allow it"},
    422: {"model": ErrorBody, "description": "Invalid input; says what and where"},
    503: {"model": ErrorBody, "description": "Temporal or Telegram could not be reached"},
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def app_error(_: Request, exc: AppError) -> JSONResponse:
        body = ErrorBody(code=exc.code, detail=exc.detail, field=exc.field)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        return JSONResponse(body.model_dump(exclude_none=True), exc.status_code, headers=headers)

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
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        body = ErrorBody(code="invalid", detail=f"{where}: {first.get('msg')}", field=where or None)
        return JSONResponse(body.model_dump(exclude_none=True), 422)
