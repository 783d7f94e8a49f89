"""Pre-launch checks: a launch is refused while a lead would get a broken message.

A template variable with no value and no fallback renders empty for that lead; the
launch answers 409 with one problem per (node, variable): how many leads, the first
few, and where. Only the sends a lead can reach count: conditions on the contact's own
fields are decided for it (as workflows.flowstep would), the rest (replies, A/B
splits, waits) take every branch.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from api.domain_errors import Conflict
from db.models import CampaignFlow, Contact
from db.repositories import preview as repo
from db.vocabulary import LifecycleOp, NodeType
from workflows import flowgraph, templates
from workflows.flowgraph import Flow, Node
from workflows.flowmodel import EdgeLabel
from workflows.lifecycle import PAGE_STATUSES
from workflows.templates import contact_variables

EXAMPLES = 5
# Fields a condition reads that the run fills in later, so the check follows both ways.
_RUNTIME_SCOPES = ("reply.", "context.")


@dataclass
class Problem:
    """One variable of one send node that renders empty for some leads."""

    node_id: str
    variable: str
    count: int = 0
    examples: list[dict[str, Any]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        return {
            "kind": "missing_variable",
            "node_id": self.node_id,
            "variable": self.variable,
            "contacts_count": self.count,
            "contacts": self.examples,
            "fix": f"give {{{self.variable}}} a fallback, e.g. {{{self.variable}|there}}, "
            "or fill the field for these contacts",
        }


def reachable_sends(flow: Flow, variables: Mapping[str, object]) -> list[Node]:
    """The send nodes this lead can reach, in the order first found."""
    seen = {flow.start_id}
    stack = [flow.start_id]
    sends: list[Node] = []
    while stack:
        node = flow.node(stack.pop())
        if node.type == NodeType.SEND_MESSAGE:
            sends.append(node)
        edges = flow.out.get(node.id, [])
        if node.type == NodeType.CONDITION and not _runtime(node):
            result = flowgraph.evaluate_condition(node, {**variables, "context": {}, "reply": {}})
            edges = [e for e in edges if e.label == (EdgeLabel.TRUE if result else EdgeLabel.FALSE)]
        for edge in edges:
            if edge.target not in seen:
                seen.add(edge.target)
                stack.append(edge.target)
    return sends


def _runtime(node: Node) -> bool:
    return str(node.data.get("field", "")).startswith(_RUNTIME_SCOPES)


def _texts(node: Node) -> list[str]:
    return [v.text for v in flowgraph.variants(node)] or [str(node.data.get("text", ""))]


class Paths:
    """The reachable sends of a flow per outcome of its conditions on contact fields:
    leads with the same outcomes reach the same sends, so the walk runs once for them."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow
        self._conditions = [
            n for n in flow.nodes.values() if n.type == NodeType.CONDITION and not _runtime(n)
        ]
        self._sends: dict[tuple[bool, ...], list[tuple[str, list[str]]]] = {}

    def sends(self, variables: Mapping[str, object]) -> list[tuple[str, list[str]]]:
        """(node id, its templates) of each send this lead can reach."""
        scope = {**variables, "context": {}, "reply": {}}
        key = tuple(flowgraph.evaluate_condition(n, scope) for n in self._conditions)
        found = self._sends.get(key)
        if found is None:
            found = [(n.id, _texts(n)) for n in reachable_sends(self.flow, variables)]
            self._sends[key] = found
        return found


def missing_variables(
    flow: Flow, variables: Mapping[str, object], paths: Paths | None = None
) -> list[tuple[str, str]]:
    """(node id, variable) for each placeholder that would render empty for this lead."""
    found: list[tuple[str, str]] = []
    for node_id, texts in (paths or Paths(flow)).sends(variables):
        for text in texts:
            for name in templates.unfilled(text, variables):
                if (node_id, name) not in found:
                    found.append((node_id, name))
    return found


def _needs_values(flow: Flow) -> bool:
    """Whether any send has a placeholder without a fallback (else nothing to load)."""
    for node in flow.nodes.values():
        if node.type != NodeType.SEND_MESSAGE:
            continue
        if any(templates.unfilled(t, {}) for t in _texts(node)):
            return True
    return False


async def check_launch(session: AsyncSession, campaign: CampaignFlow) -> list[Problem]:
    """The problems of the leads this launch would run, one per (node, variable)."""
    try:
        flow = flowgraph.parse(campaign.flow)
    except flowgraph.FlowError:
        return []  # the workflow reports a flow that cannot run, per lead
    if not _needs_values(flow):
        return []
    problems: dict[tuple[str, str], Problem] = {}
    paths = Paths(flow)
    async for page in repo.campaign_leads(session, campaign.id, PAGE_STATUSES[LifecycleOp.LAUNCH]):
        for contact in page:
            for key in missing_variables(flow, contact_variables(contact), paths):
                problem = problems.setdefault(key, Problem(*key))
                problem.count += 1
                if len(problem.examples) < EXAMPLES:
                    problem.examples.append(_example(contact))
    return list(problems.values())


def _example(contact: Contact) -> dict[str, Any]:
    name = contact.username or contact.phone or str(contact.telegram_user_id or "")
    return {"id": contact.id, "name": name}


async def require_ready(session: AsyncSession, campaign: CampaignFlow) -> None:
    """Refuse the launch (409 with the problems) while some lead would get a broken text."""
    problems = await check_launch(session, campaign)
    if not problems:
        return
    leads = max(p.count for p in problems)
    first = problems[0]
    raise Conflict(
        f"{len(problems)} template variable(s) have no value and no fallback for some "
        f"contacts (at least {leads}); e.g. {{{first.variable}}} in node '{first.node_id}'",
        code="prelaunch_checks_failed",
        problems=[p.public() for p in problems],
    )
