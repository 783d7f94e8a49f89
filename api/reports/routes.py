"""Statistics, the activity feed and logs of a campaign, with exports."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from api.authorize import Authorize, Guard
from api.campaigns.routes import Service
from api.errors import ERROR_RESPONSES
from api.paging import Page, cut
from api.policies import Action
from api.reports.abtest import AbTestOut, ab_tests
from db.models import CampaignFlow
from db.repositories import reports as repo
from db.vocabulary import LogEvent, LogStatus, NodeType

router = APIRouter(
    prefix="/campaign-flows", tags=["statistics and logs"], responses=ERROR_RESPONSES
)
CACHE_TTL = timedelta(minutes=5)


class StatisticsOut(BaseModel):
    campaign_id: int
    computed_at: datetime
    cached: bool
    statistics: dict[str, Any]
    ab_tests: list[AbTestOut] = []


class LogEntryOut(BaseModel):
    id: int
    executed_at: datetime
    execution_id: int
    contact_id: int
    contact_name: str
    username: str | None
    node_id: str | None
    node_type: str | None
    event_type: str
    status: str
    message_text: str | None
    details: dict[str, Any]


@router.get("/{campaign_id}/statistics", response_model=StatisticsOut)
async def statistics(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.VIEW)],
    service: Service,
    refresh: bool = False,
) -> StatisticsOut:
    """Campaign metrics from get_campaign_statistics(), cached for up to 5 minutes.

    One meaning per word, in the totals and in `per_node` / `per_variant` alike:
    `sent` (`messages_sent`) counts send attempts that reached Telegram, delivered or
    failed; `delivered` (`messages_delivered`) those Telegram accepted and gave a message
    id (private chats have no delivery receipt); `failed` (`messages_failed`) those it
    refused; `read` (`messages_read`) read receipts; `not_sent` (`messages_not_sent`)
    planned sends not made yet: in flight, or deferred by a rate limit, a cap, the sending
    window, a flood wait or a peer-flood cooldown. `per_node` also counts the leads
    `waiting` at each node now; `replied` counts delivered messages the lead answered
    afterwards and `reply_rate` = replied / delivered.

    `contacts_completed` counts executions that finished successfully: status `completed`,
    or `responded` (the lead replied and the flow stopped, as designed); `completion_rate`
    = contacts_completed / total_contacts. `contacts_responded` counts leads who replied,
    whatever their status; `response_rate` = contacts_responded / messages_delivered.
    Rates are percentages; a zero denominator gives 0. `?refresh=true` computes afresh.
    `reply_categories` counts replies per category of the reply rules and
    `contacts_opted_out` the leads ended by the do-not-contact list; both are live.
    `ab_tests` lists each `auto_winner` node with its arms' live numbers and, once
    picked, the winner with the numbers and test statistic it was picked on (live).
    """
    campaign = await guard()
    session = service.session
    row = await repo.cached_statistics(session, campaign_id)
    fresh = row is not None and datetime.now(UTC) - row.computed_at < CACHE_TTL
    cached = not (row is None or refresh or not fresh)
    if not cached:
        row = await repo.compute_statistics(session, campaign_id)
        await session.commit()
    assert row is not None
    # Read live (two indexed counts), not from the cache.
    data = {**row.data, **await repo.opt_out_counts(session, campaign_id)}
    return StatisticsOut(
        campaign_id=campaign_id,
        computed_at=row.computed_at,
        cached=cached,
        statistics=data,
        ab_tests=await ab_tests(session, campaign),
    )


@router.get("/{campaign_id}/activities", response_model=Page[LogEntryOut])
async def activities(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.VIEW)],
    service: Service,
) -> Page[LogEntryOut]:
    """The last 20 important log entries, newest first.

    `message_sent`: a message was sent to the lead (Telegram took it);
    `delivery_confirmed`: Telegram confirmed it, numbering it with a message id (our
    "delivered"; private chats have no delivery receipt); `message_read`: the lead read
    it; `response_detected`: the lead replied; `campaign_activity`: every other node
    execution and how a lead ended (completed, failed with its error, cancelled,
    opted_out: on the do-not-contact list); `ab_winner`: an `auto_winner` node picked its
    A/B winner (the text says on what numbers; the lead is the one whose arrival decided).
    """
    await guard()
    rows = await repo.activity_feed(service.session, campaign_id)
    items = [LogEntryOut.model_validate(r._asdict()) for r in rows]
    return Page(items=items, count=len(items))


@router.get(
    "/{campaign_id}/logs",
    response_model=Page[LogEntryOut],
    responses={
        200: {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
            "description": "A page as JSON, or every matching row as CSV or JSON Lines",
        }
    },
)
async def logs(
    campaign_id: int,
    guard: Annotated[Guard[CampaignFlow], Authorize(Action.VIEW)],
    request: Request,
    service: Service,
    execution_id: int | None = None,
    node_type: NodeType | None = None,
    status: LogStatus | None = None,
    event_type: LogEvent | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    search: str | None = Query(None, max_length=200, description="contact name or message"),
    cursor: int | None = None,
    limit: int = Query(50, ge=1, le=500),
    format: Literal["json", "csv", "jsonl"] = "json",
) -> Any:
    """The audit trail, filtered; `format=csv|jsonl` streams every matching row."""
    await guard()
    stmt = repo.log_query(
        campaign_id,
        execution_id=execution_id,
        node_type=node_type,
        status=status,
        event_type=event_type,
        since=since,
        until=until,
        search=search,
        before_id=cursor if format == "json" else None,
    )
    if format != "json":
        sessions = request.app.state.sessions
        media = "text/csv" if format == "csv" else "application/x-ndjson"
        filename = f"campaign-{campaign_id}-logs.{format}"
        return StreamingResponse(
            _export(sessions, stmt, format),
            media_type=media,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    rows = await repo.log_page(service.session, stmt, limit + 1)
    rows, next_cursor = cut(rows, limit, lambda r: r.id)
    items = [LogEntryOut.model_validate(r._asdict()) for r in rows]
    return Page(items=items, next_cursor=next_cursor, count=len(items))


async def _export(sessions: Any, stmt: Any, format: str) -> AsyncIterator[bytes]:
    async with sessions() as session:
        if format == "csv":
            async for chunk in repo.copy_csv(session, stmt):
                yield chunk
            return
        lines: list[str] = []
        async for row in repo.stream_logs(session, stmt):
            values = row._asdict()
            lines.append(json.dumps({c: values[c] for c in repo.LOG_COLUMNS}, default=str))
            if len(lines) == 1000:
                yield ("\n".join(lines) + "\n").encode()
                lines = []
        if lines:
            yield ("\n".join(lines) + "\n").encode()
