"""/contacts: the people campaigns write to, with bulk import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError

from api.deps import ActorDep, SessionDep
from api.directory.contact_import import (
    ImportFormatError,
    Row,
    csv_rows,
    json_array_rows,
    json_lines_rows,
)
from api.directory.schemas import ContactIn, ContactOut, ImportOut
from api.domain_errors import Conflict, Invalid, NotFound
from api.errors import ERROR_RESPONSES
from api.paging import Page, cut
from db.models import Contact
from db.repositories import directory as repo
from workflows.limits import MAX_IMPORT_ROWS

router = APIRouter(prefix="/contacts", tags=["contacts"], responses=ERROR_RESPONSES)
MAX_REPORTED_ERRORS = 100


@router.post("", status_code=201, response_model=ContactOut)
async def create_contact(body: ContactIn, session: SessionDep, actor: ActorDep) -> object:
    """Create one contact; 409 if its username, phone or user id is already here."""
    ids = await repo.insert_contacts(
        session, [body.model_dump()], actor.user_id, actor.organization_id
    )
    if not ids:
        raise Conflict(
            "A contact with this username, phone or user id already exists",
            code="duplicate_contact",
        )
    await session.commit()
    return await repo.contact(session, actor.user_id, actor.organization_id, ids[0])


@router.post(
    "/import",
    response_model=ImportOut,
    response_model_exclude_none=True,
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": (
                "text/csv with a header row (username, phone, telegram_user_id, first_name, "
                "last_name, tags separated by ';', any other column a custom field; one "
                "contact per line), application/x-ndjson (one JSON contact per line) or a "
                "JSON array of contacts. At most 100,000 contacts and 20 MB."
            ),
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
                "application/json": {
                    "schema": {"type": "array", "items": {"$ref": "#/components/schemas/ContactIn"}}
                },
            },
        }
    },
)
async def import_contacts(
    request: Request, session: SessionDep, actor: ActorDep, return_ids: bool = False
) -> ImportOut:
    """Bulk import, deduplicated within the scope; errors name the line and the reason."""
    ctype = request.headers.get("content-type", "").lower()
    out = ImportOut(
        created=0, duplicates=0, invalid=0, errors=[], contact_ids=[] if return_ids else None
    )
    batch: list[dict[str, Any]] = []
    seen = 0
    try:
        async for row in _rows(request, ctype):
            seen += 1
            if seen > MAX_IMPORT_ROWS:
                raise Invalid(f"at most {MAX_IMPORT_ROWS} contacts per import", field="body")
            if row.record is None:
                _reject(out, row.line, row.error or "invalid")
                continue
            try:
                contact = ContactIn.model_validate(row.record)
            except ValidationError as err:
                first = err.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                _reject(out, row.line, f"{where + ': ' if where else ''}{first['msg']}")
                continue
            batch.append(contact.model_dump())
            if len(batch) == IMPORT_BATCH:
                await _insert(session, actor, batch, out)
                batch = []
    except ImportFormatError as err:
        raise Invalid(str(err), field="body") from None
    await _insert(session, actor, batch, out)
    await session.commit()
    return out


IMPORT_BATCH = 2000


def _rows(request: Request, ctype: str) -> AsyncIterator[Row]:
    if "csv" in ctype:
        return csv_rows(request.stream())
    if "ndjson" in ctype or "jsonl" in ctype:
        return json_lines_rows(request.stream())

    async def array() -> AsyncIterator[Row]:
        for row in json_array_rows(await request.body()):
            yield row

    return array()


def _reject(out: ImportOut, line: int, reason: str) -> None:
    out.invalid += 1
    if len(out.errors) < MAX_REPORTED_ERRORS:
        out.errors.append(f"line {line}: {reason}")


async def _insert(
    session: SessionDep, actor: ActorDep, batch: list[dict[str, Any]], out: ImportOut
) -> None:
    """One batch: duplicates within it dropped here, those already stored by the insert."""
    fresh: list[dict[str, Any]] = []
    handles: set[str] = set()
    for contact in batch:
        keys = repo.handles(contact)
        if keys & handles:
            out.duplicates += 1
            continue
        handles |= keys
        fresh.append(contact)
    created = await repo.insert_contacts(session, fresh, actor.user_id, actor.organization_id)
    out.created += len(created)
    out.duplicates += len(fresh) - len(created)
    if out.contact_ids is not None and batch:
        known = set(out.contact_ids)
        ids = await repo.contact_ids_for(session, batch, actor.user_id, actor.organization_id)
        out.contact_ids.extend(i for i in ids if i not in known)


@router.get("", response_model=Page[ContactOut])
async def list_contacts(
    session: SessionDep,
    actor: ActorDep,
    search: str | None = Query(None, max_length=200),
    tag: str | None = None,
    cursor: int | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> Page[ContactOut]:
    """Contacts in the current scope."""
    rows = await repo.contact_page(
        session,
        actor.user_id,
        actor.organization_id,
        search=search,
        tag=tag,
        after=cursor,
        limit=limit,
    )
    rows, next_cursor = cut(rows, limit, lambda r: r.id)
    return Page(
        items=[ContactOut.model_validate(r) for r in rows], next_cursor=next_cursor, count=len(rows)
    )


async def _get(session: SessionDep, actor: ActorDep, contact_id: int) -> Contact:
    contact = await repo.contact(session, actor.user_id, actor.organization_id, contact_id)
    if contact is None:
        raise NotFound("Contact not found")
    return contact


@router.get("/{contact_id}", response_model=ContactOut)
async def get_contact(contact_id: int, session: SessionDep, actor: ActorDep) -> object:
    """One contact."""
    return await _get(session, actor, contact_id)


@router.patch("/{contact_id}", response_model=ContactOut)
async def update_contact(
    contact_id: int, body: ContactIn, session: SessionDep, actor: ActorDep
) -> object:
    """Replace a contact's fields."""
    contact = await _get(session, actor, contact_id)
    for key, value in body.model_dump().items():
        setattr(contact, key, value)
    await session.commit()
    return contact


@router.delete("/{contact_id}", status_code=204)
async def delete_contact(contact_id: int, session: SessionDep, actor: ActorDep) -> Response:
    """Soft delete; campaign history keeps the contact."""
    contact = await _get(session, actor, contact_id)
    contact.deleted_at = datetime.now(UTC)
    await session.commit()
    return Response(status_code=204)
