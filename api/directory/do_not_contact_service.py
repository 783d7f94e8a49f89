"""The scope's do-not-contact list and the reply rules that feed it, as use cases.

Every read and write is scoped in db.repositories.do_not_contact; the routes
(api.directory.do_not_contact, api.directory.reply_rules) parse and present.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.directory.do_not_contact_schemas import HandlesIn, ReplyRulesIn
from api.domain_errors import Forbidden
from api.policies import Actor, can_manage_settings
from db.models import DoNotContact
from db.reply_rules import DEFAULT_RULES
from db.repositories import do_not_contact as repo


def _handles(body: HandlesIn) -> list[repo.Handle]:
    """Each lead's handles, once each, in the order given."""
    handles = (
        h for e in body.entries for h in repo.handles_of(e.username, e.phone, e.telegram_user_id)
    )
    return list(dict.fromkeys(handles))


class DoNotContactService:
    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def page(
        self, *, kind: str | None, source: str | None, cursor: int | None, limit: int
    ) -> list[DoNotContact]:
        """Up to limit + 1 entries after the cursor (api.paging.cut takes the extra one)."""
        return await repo.page(
            self.session,
            self.actor.user_id,
            self.actor.organization_id,
            kind=kind,
            source=source,
            cursor=cursor,
            limit=limit,
        )

    async def add(self, body: HandlesIn) -> tuple[int, int]:
        """List the leads: (added, already listed)."""
        handles = _handles(body)
        added = await repo.add(
            self.session, handles, self.actor.user_id, self.actor.organization_id
        )
        await self.session.commit()
        return added, len(handles) - added

    async def remove(self, body: HandlesIn) -> tuple[int, int]:
        """Unlist the leads: (removed, not listed)."""
        handles = _handles(body)
        removed = await repo.remove(
            self.session, handles, self.actor.user_id, self.actor.organization_id
        )
        await self.session.commit()
        return removed, len(handles) - removed


class ReplyRuleService:
    def __init__(self, session: AsyncSession, actor: Actor) -> None:
        self.session = session
        self.actor = actor

    async def rules(self) -> tuple[list[dict[str, Any]], bool]:
        """The scope's rules in order, and whether they are the built-in ones (the scope
        saved none)."""
        own = await repo.reply_rules(self.session, self.actor.user_id, self.actor.organization_id)
        return (DEFAULT_RULES, True) if own is None else (own, False)

    async def replace(self, body: ReplyRulesIn) -> None:
        """Replace the scope's rules; owners and admins only."""
        if not can_manage_settings(self.actor):
            raise Forbidden("Only owners and admins edit the organization's reply rules")
        rules = [r.model_dump(mode="json") for r in body.rules]
        await repo.save_reply_rules(
            self.session, rules, self.actor.user_id, self.actor.organization_id
        )
        await self.session.commit()
