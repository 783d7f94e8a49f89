"""/reply-rules: how the scope's incoming replies are classified (opt_out feeds the list).
Routes parse, call api.directory.do_not_contact_service.ReplyRuleService, present."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.deps import ActorDep, SessionDep
from api.directory.do_not_contact_schemas import ReplyRuleIn, ReplyRulesIn, ReplyRulesOut
from api.directory.do_not_contact_service import ReplyRuleService
from api.errors import ERROR_RESPONSES

router = APIRouter(prefix="/reply-rules", tags=["reply-rules"], responses=ERROR_RESPONSES)


def get_service(session: SessionDep, actor: ActorDep) -> ReplyRuleService:
    return ReplyRuleService(session, actor)


Service = Annotated[ReplyRuleService, Depends(get_service)]


@router.get("", response_model=ReplyRulesOut)
async def get_reply_rules(service: Service) -> ReplyRulesOut:
    """The scope's reply rules, in order; the built-in ones until the scope saves its own."""
    rules, default = await service.rules()
    return ReplyRulesOut(rules=[ReplyRuleIn.model_validate(r) for r in rules], default=default)


@router.put("", response_model=ReplyRulesOut)
async def put_reply_rules(body: ReplyRulesIn, service: Service) -> ReplyRulesOut:
    """Replace the scope's reply rules; a reply matching none is `other`."""
    await service.replace(body)
    return ReplyRulesOut(rules=body.rules, default=False)
