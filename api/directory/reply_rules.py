"""/reply-rules: how the scope's incoming replies are classified (opt_out feeds the list)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ActorDep, SessionDep
from api.directory.do_not_contact_schemas import ReplyRuleIn, ReplyRulesIn, ReplyRulesOut
from api.domain_errors import Forbidden
from api.errors import ERROR_RESPONSES
from api.policies import can_manage_settings
from db.reply_rules import DEFAULT_RULES
from db.repositories import do_not_contact as repo

router = APIRouter(prefix="/reply-rules", tags=["reply-rules"], responses=ERROR_RESPONSES)


@router.get("", response_model=ReplyRulesOut)
async def get_reply_rules(session: SessionDep, actor: ActorDep) -> ReplyRulesOut:
    """The scope's reply rules, in order; the built-in ones until the scope saves its own."""
    own = await repo.reply_rules(session, actor.user_id, actor.organization_id)
    rules = DEFAULT_RULES if own is None else own
    return ReplyRulesOut(rules=[ReplyRuleIn.model_validate(r) for r in rules], default=own is None)


@router.put("", response_model=ReplyRulesOut)
async def put_reply_rules(
    body: ReplyRulesIn, session: SessionDep, actor: ActorDep
) -> ReplyRulesOut:
    """Replace the scope's reply rules; a reply matching none is `other`."""
    if not can_manage_settings(actor):
        raise Forbidden("Only owners and admins edit the organization's reply rules")
    rules = [r.model_dump(mode="json") for r in body.rules]
    await repo.save_reply_rules(session, rules, actor.user_id, actor.organization_id)
    await session.commit()
    return ReplyRulesOut(rules=body.rules, default=False)
