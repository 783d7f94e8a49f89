"""The flow document, typed for the OpenAPI document: one schema per node type.

workflows.flowgraph is the authority (it runs first and names the node at fault);
these models describe the same format for callers and generated clients (docs/flows.md).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ModelWrapValidatorHandler, model_validator

from workflows.flowgraph import FlowError, validate
from workflows.limits import MAX_FLOW_NODES, MAX_MESSAGE_CHARS, MAX_WAIT_SECONDS

NodeId = Annotated[str | int, Field(description="Unique within the flow; edges refer to it")]
Duration = Annotated[
    int | float | str,
    Field(
        description=(
            f"Seconds (1 to {MAX_WAIT_SECONDS}) or a string such as '90', '30m', '12h', "
            "'2d', '1w' (at most 365 days)"
        ),
        examples=[3600, "2d"],
    ),
]
Template = Annotated[
    str,
    Field(
        description=(
            "Message template: {first_name}, {last_name}, {username}, {phone}, {variant}, "
            "{custom.<field>}, each optionally with a fallback ({first_name|there}); "
            f"'{{{{' and '}}}}' write braces. At most {MAX_MESSAGE_CHARS} characters rendered."
        ),
        examples=["Hi {first_name|there}!"],
    ),
]


class _Data(BaseModel):
    # The console may keep its own keys (positions, say) beside the ones that run.
    model_config = ConfigDict(extra="allow")


class _Node(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: NodeId


class StartNode(_Node):
    """Where every execution begins; exactly one per flow, one outgoing edge."""

    type: Literal["start"]
    data: _Data | None = None


class Variant(BaseModel):
    name: str | None = Field(default=None, description="Defaults to V1, V2, ...")
    text: Template
    weight: float = Field(default=1, gt=0, description="Relative share of contacts")


class AutoWinner(BaseModel):
    """Pick the A/B winner automatically; new leads then take it (docs/flows.md)."""

    metric: Literal["reply_rate", "read_rate"] = "reply_rate"
    min_sample: int = Field(ge=1, description="Leads delivered each arm's message before a test")
    confidence: float = Field(
        default=0.95, gt=0.5, lt=1, description="One-sided confidence the winner is better"
    )


class SendMessageData(_Data):
    text: Template | None = Field(default=None, description="Required unless variants are given")
    variants: list[Variant] | None = Field(
        default=None, description="A/B variants; one is drawn per contact and kept"
    )
    auto_winner: AutoWinner | None = Field(
        default=None, description="With two or more variants: pick the winner automatically"
    )


class SendMessageNode(_Node):
    """Sends one message to the contact; one outgoing edge."""

    type: Literal["send_message"]
    data: SendMessageData


class DelayData(_Data):
    seconds: Duration | None = None
    duration: Duration | None = Field(default=None, description="Alias of seconds")


class DelayNode(_Node):
    """Waits before the next node; one outgoing edge."""

    type: Literal["delay"]
    data: DelayData


class WaitForReplyData(_Data):
    timeout_seconds: Duration | None = None
    timeout: Duration | None = Field(default=None, description="Alias of timeout_seconds")


class WaitForReplyNode(_Node):
    """Waits for a reply; edges labelled `replied` and `no_reply` (after the timeout)."""

    type: Literal["wait_for_reply"]
    data: WaitForReplyData


class ConditionData(_Data):
    field: str = Field(
        description="contact.first_name, contact.custom.<field>, context.variant, ...",
        examples=["contact.first_name"],
    )
    op: Literal["eq", "ne", "contains", "exists", "gt", "lt"] = "eq"
    value: str | int | float | bool | None = None


class ConditionNode(_Node):
    """Branches on a contact field or a context variable; edges `true` and `false`."""

    type: Literal["condition"]
    data: ConditionData


class AbSplitData(_Data):
    auto_winner: AutoWinner | None = Field(
        default=None, description="Pick the winning branch automatically"
    )


class AbSplitNode(_Node):
    """Sends each contact down one of two or more outgoing edges, by the edges' weights."""

    type: Literal["ab_split"]
    data: AbSplitData | None = None


class EndNode(_Node):
    """Ends the execution as completed; no outgoing edges."""

    type: Literal["end"]
    data: _Data | None = None


Node = Annotated[
    StartNode
    | SendMessageNode
    | DelayNode
    | WaitForReplyNode
    | ConditionNode
    | AbSplitNode
    | EndNode,
    Field(discriminator="type"),
]


class EdgeData(_Data):
    weight: float | None = Field(default=None, gt=0, description="ab_split share")


class Edge(BaseModel):
    """From one node to the next; `label` picks the branch where a node has several."""

    model_config = ConfigDict(extra="allow")
    source: NodeId
    target: NodeId
    label: Literal["replied", "no_reply", "true", "false"] | str | None = Field(
        default=None,
        description="wait_for_reply: replied / no_reply; condition: true / false",
    )
    data: EdgeData | None = None


EXAMPLE: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "hello", "type": "send_message", "data": {"text": "Hi {first_name|there}!"}},
        {"id": "wait", "type": "wait_for_reply", "data": {"timeout_seconds": "2d"}},
        {"id": "follow", "type": "send_message", "data": {"text": "Any thoughts?"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "hello"},
        {"source": "hello", "target": "wait"},
        {"source": "wait", "target": "end", "label": "replied"},
        {"source": "wait", "target": "follow", "label": "no_reply"},
        {"source": "follow", "target": "end"},
    ],
}


class FlowOut(BaseModel):
    """A flow graph: nodes and the edges between them (docs/flows.md)."""

    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE]})
    nodes: list[Node] = Field(max_length=MAX_FLOW_NODES)
    edges: list[Edge] = Field(default_factory=list)


class FlowIn(FlowOut):
    """A flow to store: checked by workflows.flowgraph first, which names the node."""

    @model_validator(mode="wrap")
    @classmethod
    def _flowgraph_first(cls, data: Any, handler: ModelWrapValidatorHandler[FlowIn]) -> FlowIn:
        if isinstance(data, FlowOut):
            return handler(data)  # already a typed flow (built in code, not from JSON)
        try:
            validate(data)
        except FlowError as err:
            raise ValueError(str(err)) from None
        return handler(data)

    def document(self) -> dict[str, Any]:
        """The flow as the caller sent it (unset optional keys left out)."""
        return self.model_dump(mode="json", exclude_unset=True)
