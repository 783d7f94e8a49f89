"""/do-not-contact: leads the scope never messages, by username, phone or user id."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Query

from api.deps import ActorDep, SessionDep
from api.directory.do_not_contact_schemas import AddedOut, DoNotContactOut, HandlesIn, RemovedOut
from api.errors import ERROR_RESPONSES
from api.paging import Page, cut
from db.repositories import do_not_contact as repo

router = APIRouter(prefix="/do-not-contact", tags=["do-not-contact"], responses=ERROR_RESPONSES)


def _handles(body: HandlesIn) -> list[repo.Handle]:
    return [
        h for e in body.entries for h in repo.handles_of(e.username, e.phone, e.telegram_user_id)
    ]


@router.get("", response_model=Page[DoNotContactOut])
async def list_do_not_contact(
    session: SessionDep,
    actor: ActorDep,
    kind: Literal["username", "phone", "telegram_user_id"] | None = None,
    source: Literal["manual", "reply"] | None = None,
    cursor: int | None = None,
    limit: int = Query(50, ge=1, le=500),
) -> Page[DoNotContactOut]:
    """The scope's do-not-contact list, oldest first."""
    rows = await repo.page(
        session,
        actor.user_id,
        actor.organization_id,
        kind=kind,
        source=source,
        cursor=cursor,
        limit=limit,
    )
    rows, next_cursor = cut(rows, limit, lambda r: r.id)
    return Page(
        items=[DoNotContactOut.model_validate(r) for r in rows],
        next_cursor=next_cursor,
        count=len(rows),
    )


@router.post("", response_model=AddedOut)
async def add_do_not_contact(body: HandlesIn, session: SessionDep, actor: ActorDep) -> AddedOut:
    """Add leads to the list (bulk); a listed lead's next send ends it `opted_out`."""
    handles = list(dict.fromkeys(_handles(body)))
    added = await repo.add(session, handles, actor.user_id, actor.organization_id)
    await session.commit()
    return AddedOut(added=added, already_listed=len(handles) - added)


@router.delete("", response_model=RemovedOut)
async def remove_do_not_contact(
    body: HandlesIn, session: SessionDep, actor: ActorDep
) -> RemovedOut:
    """Remove leads from the list (bulk); executions already opted out stay so."""
    handles = list(dict.fromkeys(_handles(body)))
    removed = await repo.remove(session, handles, actor.user_id, actor.organization_id)
    await session.commit()
    return RemovedOut(removed=removed, not_listed=len(handles) - removed)
