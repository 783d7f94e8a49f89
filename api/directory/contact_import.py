"""Contact import: rows parsed as the body streams in, each with its line number.

CSV (a header row, one contact per line: fields cannot hold line breaks, so an
unterminated quote spoils only its own line), JSON Lines, or a JSON array (read whole,
within the 20 MB body limit). Memory stays bounded by one batch whatever the row count.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

from workflows.limits import MAX_CUSTOM_FIELDS

MAX_LINE_CHARS = 64 * 1024
CSV_KNOWN = ("username", "phone", "telegram_user_id", "first_name", "last_name", "tags")


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    record: dict[str, Any] | None
    error: str | None = None


class ImportFormatError(ValueError):
    """The body as a whole cannot be read (not UTF-8, no header, not a JSON array)."""


async def lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[int, str]]:
    """Decoded lines with their numbers (1-based), without the line break."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    pending = ""
    number = 0
    try:
        async for chunk in chunks:
            pending += decoder.decode(chunk)
            *complete, pending = pending.split("\n")
            for line in complete:
                number += 1
                yield number, line.removesuffix("\r")
            if len(pending) > MAX_LINE_CHARS:
                raise ImportFormatError(f"line {number + 1} is over {MAX_LINE_CHARS} characters")
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ImportFormatError(f"line {number + 1} is not UTF-8") from None
    if pending.strip():
        yield number + 1, pending.removesuffix("\r")


async def csv_rows(chunks: AsyncIterator[bytes]) -> AsyncIterator[Row]:
    header: list[str] | None = None
    async for number, line in lines(chunks):
        if not line.strip():
            continue
        if "\x00" in line:  # PostgreSQL cannot store it in text
            yield Row(number, None, "NUL character")
            continue
        fields, error = _csv_line(line)
        if header is None:
            if error or fields is None:
                raise ImportFormatError(f"line {number}: the header row {error or 'is empty'}")
            header = [h.strip() for h in fields]
            extra = [h for h in header if h and h not in CSV_KNOWN]
            if len(extra) > MAX_CUSTOM_FIELDS:
                raise ImportFormatError(f"at most {MAX_CUSTOM_FIELDS} custom field columns")
            continue
        if error or fields is None:
            yield Row(number, None, error)
        elif len(fields) > len(header):
            yield Row(number, None, f"{len(fields)} fields, the header has {len(header)}")
        else:
            yield Row(number, from_csv(dict(zip(header, fields, strict=False))))
    if header is None:
        raise ImportFormatError("the CSV has no header row")


def _csv_line(line: str) -> tuple[list[str] | None, str | None]:
    try:
        return next(csv.reader([line], strict=True)), None
    except csv.Error as err:
        reason = str(err)
        if "EOF" in reason or "end of data" in reason or "unexpected end" in reason:
            reason = "unterminated quote"
        return None, reason
    except StopIteration:
        return None, "empty line"


def from_csv(row: dict[str, str]) -> dict[str, Any]:
    """Known columns by name; every other column becomes a custom field."""
    out: dict[str, Any] = {k: (v or None) for k, v in row.items() if k in CSV_KNOWN}
    if out.get("tags"):
        out["tags"] = [t.strip() for t in str(out["tags"]).split(";") if t.strip()]
    else:
        out.pop("tags", None)
    out["custom_fields"] = {k: v for k, v in row.items() if k and k not in CSV_KNOWN and v}
    return out


async def json_lines_rows(chunks: AsyncIterator[bytes]) -> AsyncIterator[Row]:
    async for number, line in lines(chunks):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            yield Row(number, None, f"not JSON ({err.msg})")
            continue
        yield _object(number, record)


def json_array_rows(raw: bytes) -> Iterator[Row]:
    """A JSON array, or {"contacts": [...]}; items are numbered from 1."""
    try:
        parsed = json.loads(raw or b"[]")
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ImportFormatError(f"body is not valid JSON: {err}") from None
    records = parsed.get("contacts", []) if isinstance(parsed, dict) else parsed
    if not isinstance(records, list):
        raise ImportFormatError("expected a JSON array of contacts")
    for i, record in enumerate(records):
        yield _object(i + 1, record)


def _object(number: int, record: Any) -> Row:
    if not isinstance(record, dict):
        return Row(number, None, "a contact must be a JSON object")
    return Row(number, record)
