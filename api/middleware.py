"""At the door, before any route: body size, NUL bytes and security headers (pure ASGI)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.exceptions import HTTPException

from workflows.limits import MAX_IMPORT_BODY_BYTES, MAX_JSON_BODY_BYTES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

# Routes that take a large upload; every other body is JSON of at most 1 MB.
LARGE_BODY_PATHS = {"/contacts/import": MAX_IMPORT_BODY_BYTES}
DOCS_PATHS = ("/docs", "/redoc", "/docs-assets/")
# The docs pages load their scripts and styles from this server only (api/docs.py).
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; worker-src 'self' blob:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'"
HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class BodyTooLarge(HTTPException):
    """Raised from receive() once a body passes its limit (an HTTPException, so that
    FastAPI's body parsing lets it through to the error handler)."""

    code = "body_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body is over {limit} bytes")


class NulInBody(HTTPException):
    """A NUL character in a JSON body: PostgreSQL cannot store it in text."""

    code = "nul_byte"

    def __init__(self) -> None:
        super().__init__(422, "NUL characters (\\u0000) are not allowed in the body")


def body_limit(path: str) -> int:
    return LARGE_BODY_PATHS.get(path, MAX_JSON_BODY_BYTES)


class DoorMiddleware:
    """Refuses oversize bodies (413, without reading the rest) and NUL bytes (422), and
    adds the security headers to every response."""

    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_headers(scope, send)
        path: str = scope.get("path", "")
        raw_path = scope.get("raw_path") or path.encode()
        if b"%00" in scope.get("query_string", b"") or b"%00" in raw_path or "\x00" in path:
            await _error(send, 422, "nul_byte", "NUL characters are not allowed in the URL")
            return
        limit = body_limit(path)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _error(send, 413, "body_too_large", f"request body is over {limit} bytes")
            return
        await self.app(scope, _counting(receive, limit, _is_json(scope)), send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return b"json" in value.lower()
    return True  # FastAPI reads an untyped body as JSON


def _counting(receive: Receive, limit: int, json_body: bool) -> Receive:
    """Count the body as it streams in (chunked bodies declare no length)."""
    seen = 0
    tail = b""

    async def wrapped() -> Message:
        nonlocal seen, tail
        message = await receive()
        if message["type"] == "http.request":
            chunk: bytes = message.get("body", b"")
            seen += len(chunk)
            if seen > limit:
                raise BodyTooLarge(limit)
            if json_body:
                window = tail + chunk
                if b"\x00" in window or b"\\u0000" in window:
                    raise NulInBody()
                tail = window[-5:]
        return message

    return wrapped


def _with_headers(scope: Scope, send: Send) -> Send:
    path: str = scope.get("path", "")
    docs = path.startswith(DOCS_PATHS)

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
            present = {k.lower() for k, _ in headers}
            headers += [(k, v) for k, v in HEADERS if k not in present]
            if b"content-security-policy" not in present:
                html = any(k.lower() == b"content-type" and b"html" in v for k, v in headers)
                if docs:
                    headers.append((b"content-security-policy", DOCS_CSP.encode()))
                elif not html:
                    headers.append((b"content-security-policy", API_CSP.encode()))
                else:  # the web console sets its own policy; never framed either way
                    headers.append((b"content-security-policy", b"frame-ancestors 'none'"))
            message["headers"] = headers
        await send(message)

    return wrapped


async def _error(send: Send, status: int, code: str, detail: str) -> None:
    body = json.dumps({"code": code, "detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
