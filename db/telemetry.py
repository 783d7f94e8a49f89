"""Structured logs: JSON lines off a terminal, readable lines on one, ids from context."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

# The ids a line can carry. Only ids: never usernames, phones, texts or tokens.
CONTEXT_KEYS = ("campaign_id", "execution_id", "account_id", "workflow_id", "route")
_context: contextvars.ContextVar[Mapping[str, object] | None] = contextvars.ContextVar(
    "tgflows_log_context", default=None
)

# Libraries that would log what must stay out of the logs at INFO: httpx logs every
# URL (peers and search terms ride in them), uvicorn's access log the raw path and query
# string (the api writes its own access line with the route template instead).
QUIET_LOGGERS = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telethon": logging.WARNING,
    "uvicorn.access": logging.WARNING,
    "sqlalchemy.engine": logging.WARNING,
}


def bind(**ids: object) -> None:
    """Add ids to every line logged from here on in this task (None values are dropped)."""
    current = dict(_context.get() or {})
    current.update({k: v for k, v in ids.items() if v is not None})
    _context.set(current)


@contextlib.contextmanager
def bound(**ids: object) -> Iterator[None]:
    """Ids on every line logged inside the block, as they were before after it."""
    token = _context.set({**context(), **{k: v for k, v in ids.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def context() -> Mapping[str, object]:
    return _context.get() or {}


def _temporal_ids(record: logging.LogRecord) -> dict[str, object]:
    """The ids Temporal's own activity and workflow loggers attach to their records."""
    found: dict[str, object] = {}
    for attr in ("temporal_activity", "temporal_workflow"):
        info = getattr(record, attr, None)
        if isinstance(info, Mapping) and info.get("workflow_id"):
            found["workflow_id"] = info["workflow_id"]
    return found


def record_ids(record: logging.LogRecord) -> dict[str, object]:
    """Context ids, then Temporal's, then ids passed with `extra=`, in CONTEXT_KEYS order."""
    merged: dict[str, object] = {**context(), **_temporal_ids(record)}
    for key in CONTEXT_KEYS:
        value = getattr(record, key, None)
        if value is not None:
            merged[key] = value
    return {k: merged[k] for k in CONTEXT_KEYS if k in merged}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, ids, exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
            **record_ids(record),
        }
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    """`time level logger: message key=value …` for a person at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        ids = " ".join(f"{k}={v}" for k, v in record_ids(record).items())
        if not ids:
            return text
        head, sep, tail = text.partition("\n")
        return f"{head} [{ids}]{sep}{tail}"


def wants_json(stream: TextIO) -> bool:
    """TGFLOWS_LOG_FORMAT=json|text decides; otherwise JSON unless on a terminal."""
    chosen = os.environ.get("TGFLOWS_LOG_FORMAT", "").lower()
    if chosen in ("json", "text"):
        return chosen == "json"
    return not stream.isatty()


def configure_logging(level: str | None = None, stream: TextIO | None = None) -> None:
    """Route every logger (uvicorn's, Temporal's, ours) through one stderr handler."""
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if wants_json(stream) else TextFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel((level or os.environ.get("TGFLOWS_LOG_LEVEL", "INFO")).upper())
    for name, quiet in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet)
    for name in ("uvicorn", "uvicorn.error"):
        # uvicorn's own handlers would print a second, unstructured copy.
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
