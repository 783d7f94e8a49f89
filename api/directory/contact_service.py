"""Contact use cases in the caller's scope: create, read, change, delete, import.

Every read goes through db.repositories.directory, which scopes it with
db.repositories.scoping.scope; a contact outside the scope is not found.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from api.directory.contact_import import ImportFormatError, Row
from api.directory.schemas import ContactIn, ImportOut
from api.domain_errors import Conflict, Invalid, NotFound
from api.policies import Actor
from db.models import Contact
from db.repositories import directory as repo
from workflows.limits import MAX_IMPORT_ROWS

MAX_REPORTED_ERRORS = 100
IMPORT_BATCH = 2000


class ContactService:
    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def create(self, body: ContactIn) -> Contact:
        """409 if its username, phone or user id is already in the scope."""
        ids = await repo.insert_contacts(
            self.session, [body.model_dump()], self.actor.user_id, self.actor.organization_id
        )
        if not ids:
            raise Conflict(
                "A contact with this username, phone or user id already exists",
                code="duplicate_contact",
            )
        await self.session.commit()
        return await self.get(ids[0])

    async def page(
        self, *, search: str | None, tag: str | None, cursor: int | None, limit: int
    ) -> Sequence[Contact]:
        """Up to limit + 1 contacts after the cursor (api.paging.cut takes the extra one)."""
        return await repo.contact_page(
            self.session,
            self.actor.user_id,
            self.actor.organization_id,
            search=search,
            tag=tag,
            after=cursor,
            limit=limit,
        )

    async def get(self, contact_id: int) -> Contact:
        contact = await repo.contact(
            self.session, self.actor.user_id, self.actor.organization_id, contact_id
        )
        if contact is None:
            raise NotFound("Contact not found")
        return contact

    async def replace(self, contact_id: int, body: ContactIn) -> Contact:
        contact = await self.get(contact_id)
        for key, value in body.model_dump().items():
            setattr(contact, key, value)
        await self.session.commit()
        return contact

    async def delete(self, contact_id: int) -> None:
        """Soft delete; campaign history keeps the contact."""
        contact = await self.get(contact_id)
        contact.deleted_at = datetime.now(UTC)
        await self.session.commit()

    async def import_rows(self, rows: AsyncIterator[Row], *, return_ids: bool) -> ImportOut:
        """Bulk import, deduplicated within the scope; errors name the line and the reason."""
        out = ImportOut(
            created=0, duplicates=0, invalid=0, errors=[], contact_ids=[] if return_ids else None
        )
        batch: list[dict[str, Any]] = []
        seen = 0
        try:
            async for row in rows:
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
                    await self._insert(batch, out)
                    batch = []
        except ImportFormatError as err:
            raise Invalid(str(err), field="body") from None
        await self._insert(batch, out)
        await self.session.commit()
        return out

    async def _insert(self, batch: list[dict[str, Any]], out: ImportOut) -> None:
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
        user_id, org_id = self.actor.user_id, self.actor.organization_id
        created = await repo.insert_contacts(self.session, fresh, user_id, org_id)
        out.created += len(created)
        out.duplicates += len(fresh) - len(created)
        if out.contact_ids is not None and batch:
            known = set(out.contact_ids)
            ids = await repo.contact_ids_for(self.session, batch, user_id, org_id)
            out.contact_ids.extend(i for i in ids if i not in known)


def _reject(out: ImportOut, line: int, reason: str) -> None:
    out.invalid += 1
    if len(out.errors) < MAX_REPORTED_ERRORS:
        out.errors.append(f"line {line}: {reason}")
