"""/do-not-contact: leads the scope never messages, by username, phone or user id.
Routes parse, call api.directory.do_not_contact_service, present."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from api.deps import ActorDep, SessionDep
from api.directory.do_not_contact_schemas import AddedOut, DoNotContactOut, HandlesIn, RemovedOut
from api.directory.do_not_contact_service import DoNotContactService
from api.errors import ERROR_RESPONSES
from api.paging import Page, cut

router = APIRouter(prefix="/do-not-contact", tags=["do-not-contact"], responses=ERROR_RESPONSES)


def get_service(session: SessionDep, actor: ActorDep) -> DoNotContactService:
    return DoNotContactService(session, actor)


Service = Annotated[DoNotContactService, Depends(get_service)]


@router.get("", response_model=Page[DoNotContactOut])
async def list_do_not_contact(
    service: Service,
    kind: Literal["username", "phone", "telegram_user_id"] | None = None,
    source: Literal["manual", "reply"] | None = None,
    cursor: int | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> Page[DoNotContactOut]:
    """The scope's do-not-contact list, oldest first."""
    rows = await service.page(kind=kind, source=source, cursor=cursor, limit=limit)
    rows, next_cursor = cut(rows, limit, lambda r: r.id)
    return Page(
        items=[DoNotContactOut.model_validate(r) for r in rows],
        next_cursor=next_cursor,
        count=len(rows),
    )


@router.post("", response_model=AddedOut)
async def add_do_not_contact(body: HandlesIn, service: Service) -> AddedOut:
    """Add leads to the list (bulk); a listed lead's next send ends it `opted_out`."""
    added, already = await service.add(body)
    return AddedOut(added=added, already_listed=already)


@router.delete("", response_model=RemovedOut)
async def remove_do_not_contact(body: HandlesIn, service: Service) -> RemovedOut:
    """Remove leads from the list (bulk); executions already opted out stay so."""
    removed, not_listed = await service.remove(body)
    return RemovedOut(removed=removed, not_listed=not_listed)
