"""A reply's category by its scope's rules; an opt-out lists the lead at once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Contact, FlowExecution
from db.reply_rules import classify
from db.repositories import do_not_contact as dnc_repo
from db.vocabulary import ReplyCategory


async def classify_reply(
    session: AsyncSession, execution: FlowExecution, text: str
) -> ReplyCategory:
    """Classify a lead's reply in the lead's scope; opt_out adds the lead to its list."""
    contact = await session.get(Contact, execution.contact_id)
    if contact is None:
        return ReplyCategory.OTHER
    rules = await dnc_repo.rules_for_scope(session, contact.user_id, contact.organization_id)
    category = classify(text, rules)
    if category == ReplyCategory.OPT_OUT:
        # In the reply's own transaction: the lead's next send (in any campaign of the
        # scope) finds it listed and ends it opted_out instead.
        handles = dnc_repo.handles_of(contact.username, contact.phone, contact.telegram_user_id)
        await dnc_repo.add(
            session, handles, contact.user_id, contact.organization_id, source="reply"
        )
    return category
