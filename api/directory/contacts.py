"""/contacts: the people campaigns write to, with bulk import: parse, call
api.directory.contact_service, present."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from api.deps import ActorDep, SessionDep
from api.directory.contact_import import Row, csv_rows, json_array_rows, json_lines_rows
from api.directory.contact_service import ContactService
from api.directory.schemas import ContactIn, ContactOut, ImportOut
from api.errors import ERROR_RESPONSES
from api.paging import Page, cut

router = APIRouter(prefix="/contacts", tags=["contacts"], responses=ERROR_RESPONSES)


def get_service(session: SessionDep, actor: ActorDep) -> ContactService:
    return ContactService(session, actor)


Service = Annotated[ContactService, Depends(get_service)]


@router.post("", status_code=201, response_model=ContactOut)
async def create_contact(body: ContactIn, service: Service) -> object:
    """Create one contact; 409 if its username, phone or user id is already here."""
    return await service.create(body)


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
    request: Request, service: Service, return_ids: bool = False
) -> ImportOut:
    """Bulk import, deduplicated within the scope; errors name the line and the reason."""
    ctype = request.headers.get("content-type", "").lower()
    return await service.import_rows(_rows(request, ctype), return_ids=return_ids)


def _rows(request: Request, ctype: str) -> AsyncIterator[Row]:
    if "csv" in ctype:
        return csv_rows(request.stream())
    if "ndjson" in ctype or "jsonl" in ctype:
        return json_lines_rows(request.stream())

    async def array() -> AsyncIterator[Row]:
        for row in json_array_rows(await request.body()):
            yield row

    return array()


@router.get("", response_model=Page[ContactOut])
async def list_contacts(
    service: Service,
    search: str | None = Query(None, max_length=200),
    tag: str | None = None,
    cursor: int | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> Page[ContactOut]:
    """Contacts in the current scope."""
    rows = await service.page(search=search, tag=tag, cursor=cursor, limit=limit)
    rows, next_cursor = cut(rows, limit, lambda r: r.id)
    return Page(
        items=[ContactOut.model_validate(r) for r in rows], next_cursor=next_cursor, count=len(rows)
    )


@router.get("/{contact_id}", response_model=ContactOut)
async def get_contact(contact_id: int, service: Service) -> object:
    """One contact."""
    return await service.get(contact_id)


@router.patch("/{contact_id}", response_model=ContactOut)
async def update_contact(contact_id: int, body: ContactIn, service: Service) -> object:
    """Replace a contact's fields."""
    return await service.replace(contact_id, body)


@router.delete("/{contact_id}", status_code=204)
async def delete_contact(contact_id: int, service: Service) -> Response:
    """Soft delete; campaign history keeps the contact."""
    await service.delete(contact_id)
    return Response(status_code=204)
