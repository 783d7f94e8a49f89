"""/contacts: the people campaigns write to, with bulk import."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError

from api.deps import ActorDep, SessionDep
from api.errors import ERROR_RESPONSES, Conflict, Invalid, NotFound
from api.schemas.common import Page
from api.schemas.directory import ContactIn, ContactOut, ImportOut
from db.models import Contact
from db.repositories import directory as repo
from db.repositories.scoping import contains_pattern

router = APIRouter(prefix="/contacts", tags=["contacts"], responses=ERROR_RESPONSES)
MAX_IMPORT = 100_000


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
    return await session.get(Contact, ids[0])


@router.post("/import", response_model=ImportOut)
async def import_contacts(request: Request, session: SessionDep, actor: ActorDep) -> ImportOut:
    """Bulk import from a JSON array or CSV (header row), deduplicated within the scope."""
    raw = await request.body()
    ctype = request.headers.get("content-type", "")
    try:
        if "csv" in ctype:
            records: list[Any] = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        else:
            parsed = json.loads(raw or b"[]")
            records = parsed.get("contacts", []) if isinstance(parsed, dict) else parsed
    except (UnicodeDecodeError, json.JSONDecodeError, csv.Error) as err:
        raise Invalid(f"body is not valid CSV or JSON: {err}", field="body") from None
    if not isinstance(records, list):
        raise Invalid("expected a JSON array of contacts", field="body")
    if len(records) > MAX_IMPORT:
        raise Invalid(f"at most {MAX_IMPORT} contacts per import", field="body")
    valid: list[dict[str, Any]] = []
    seen: set[str] = set()
    errors: list[str] = []
    duplicates = 0
    for i, record in enumerate(records):
        try:
            contact = ContactIn.model_validate(_from_csv(record) if "csv" in ctype else record)
        except ValidationError as err:
            errors.append(f"row {i + 1}: {err.errors()[0]['msg']}")
            continue
        handles = repo.handles(contact.model_dump())
        if handles & seen:
            duplicates += 1
            continue
        seen |= handles
        valid.append(contact.model_dump())
    created = await repo.insert_contacts(session, valid, actor.user_id, actor.organization_id)
    await session.commit()
    duplicates += len(valid) - len(created)
    return ImportOut(
        created=len(created), duplicates=duplicates, invalid=len(errors), errors=errors[:100]
    )


def _from_csv(row: dict[str, str]) -> dict[str, Any]:
    known = {"username", "phone", "telegram_user_id", "first_name", "last_name", "tags"}
    out: dict[str, Any] = {k: (v or None) for k, v in row.items() if k in known}
    if out.get("tags"):
        out["tags"] = [t.strip() for t in str(out["tags"]).split(";") if t.strip()]
    else:
        out.pop("tags", None)
    out["custom_fields"] = {k: v for k, v in row.items() if k and k not in known and v}
    return out


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
    stmt = repo.contacts(actor.user_id, actor.organization_id)
    if search:
        like = contains_pattern(search)
        stmt = stmt.where(
            Contact.username.ilike(like, escape="\\")
            | Contact.first_name.ilike(like, escape="\\")
            | Contact.last_name.ilike(like, escape="\\")
            | Contact.phone.ilike(like, escape="\\")
        )
    if tag:
        stmt = stmt.where(Contact.tags.contains([tag]))
    if cursor is not None:
        stmt = stmt.where(Contact.id > cursor)
    rows = list(await session.scalars(stmt.order_by(Contact.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        items=[ContactOut.model_validate(r) for r in rows],
        next_cursor=str(rows[-1].id) if more else None,
        count=len(rows),
    )


async def _get(session: SessionDep, actor: ActorDep, contact_id: int) -> Contact:
    contact = await session.scalar(
        repo.contacts(actor.user_id, actor.organization_id).where(Contact.id == contact_id)
    )
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
