"""The A/B tests of a campaign for its statistics: each auto_winner node's arms, live, and
the decision once recorded (workflows.abtest decides; activities.abtest records)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AbDecision, CampaignFlow
from db.repositories import abtest as repo
from db.repositories import campaigns as campaigns_repo
from workflows import abtest, flowgraph


class AbArmOut(BaseModel):
    name: str = Field(description="The variant's name, or the ab_split branch's target node")
    exposed: int = Field(description="Leads delivered this arm's message")
    successes: int = Field(description="Of those, leads who replied (reply_rate) or read")
    rate: float = Field(description="successes / exposed, in percent")
    winner: bool


class AbDecisionOut(BaseModel):
    winner: str
    decided_at: datetime
    arms: list[AbArmOut] = Field(description="Each arm's numbers when the winner was picked")
    runner_up: str = Field(description="The arm the winner beat by the smallest margin")
    z: float = Field(description="One-sided two-proportion z statistic against the runner-up")
    p_value: float
    threshold: float = Field(description="The z needed (Bonferroni over the other arms)")


class AbTestOut(BaseModel):
    """One auto_winner node: its settings, each arm now, and the decision once made."""

    node_id: str
    node_type: str
    metric: str
    min_sample: int
    confidence: float
    arms: list[AbArmOut] = Field(description="Live numbers, in the flow's order")
    decision: AbDecisionOut | None = None


def _arms(arms: list[abtest.Arm], winner: str | None) -> list[AbArmOut]:
    return [AbArmOut(**abtest.arm_json(a), winner=a.name == winner) for a in arms]


def _decision(row: AbDecision) -> AbDecisionOut:
    arms = [abtest.Arm(a["name"], a["exposed"], a["successes"]) for a in row.arms]
    return AbDecisionOut(
        winner=row.winner,
        decided_at=row.decided_at,
        arms=_arms(arms, row.winner),
        runner_up=row.runner_up,
        z=row.z,
        p_value=row.p_value,
        threshold=row.threshold,
    )


def _auto_winner_nodes(
    key: tuple[int, int], raw: object
) -> list[tuple[flowgraph.Node, list[str], abtest.AutoWinner]]:
    """Each node of a stored flow with auto_winner: the node, its arms, its settings."""
    try:
        flow = flowgraph.parse_version(key, raw)
    except flowgraph.FlowError:
        return []
    found = []
    for node in flow.nodes.values():
        config = abtest.settings(node.data)
        if config is not None:
            found.append((node, flow.arms(node), config))
    return found


async def ab_tests(session: AsyncSession, campaign: CampaignFlow) -> list[AbTestOut]:
    """The auto_winner nodes of the campaign's current flow, then decided nodes it lost."""
    decided = {d.node_id: d for d in await repo.decisions(session, campaign.id)}
    raw = await campaigns_repo.flow_at(session, campaign.id, campaign.flow_version)
    nodes = [] if raw is None else _auto_winner_nodes((campaign.id, campaign.flow_version), raw)
    out: list[AbTestOut] = []
    for node, names, config in nodes:
        counts = await repo.arm_counts(session, campaign.id, node.id, node.type)
        row = decided.pop(node.id, None)
        arms = abtest.arms_of(names, counts, config.metric)
        out.append(
            AbTestOut(
                node_id=node.id,
                node_type=node.type,
                metric=config.metric,
                min_sample=config.min_sample,
                confidence=config.confidence,
                arms=_arms(arms, row.winner if row else None),
                decision=_decision(row) if row else None,
            )
        )
    for row in decided.values():
        out.append(
            AbTestOut(
                node_id=row.node_id,
                node_type=row.node_type,
                metric=row.metric,
                min_sample=row.min_sample,
                confidence=row.confidence,
                arms=[],
                decision=_decision(row),
            )
        )
    return out
