"""No flow document makes the validator raise anything but FlowError."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.flowgraph import NODE_TYPES, Flow, FlowError, validate

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(
        ["1d", "99999999999999999999w", "30m", "0", "-1", "1e12", "2d", "{first_name}"]
    ),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
ids = st.sampled_from(["start", "a", "b", "c", "end", 1, 2, True, None, ""])
data = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "text": st.one_of(st.text(max_size=30), json_values),
            "variants": st.one_of(
                json_values,
                st.lists(
                    st.fixed_dictionaries(
                        {}, optional={"name": json_values, "text": scalars, "weight": scalars}
                    ),
                    max_size=3,
                ),
            ),
            "seconds": scalars,
            "timeout_seconds": scalars,
            "field": scalars,
            "op": st.sampled_from(["eq", "ne", "gt", "lt", "exists", "contains", "bad"]),
            "value": json_values,
        },
    ),
)
nodes = st.lists(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {
                "id": ids,
                "type": st.one_of(st.sampled_from([*sorted(NODE_TYPES), "bogus"]), json_values),
            },
            optional={"data": data},
        ),
    ),
    max_size=8,
)
edges = st.lists(
    st.one_of(
        json_values,
        st.fixed_dictionaries(
            {"source": ids, "target": ids},
            optional={
                "label": st.one_of(
                    st.sampled_from(["true", "false", "replied", "no_reply"]), scalars
                ),
                "data": st.one_of(json_values, st.fixed_dictionaries({"weight": scalars})),
            },
        ),
    ),
    max_size=10,
)
flows = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"nodes": st.one_of(nodes, json_values), "edges": st.one_of(edges, json_values)}
    ),
)


@settings(max_examples=300, deadline=None)
@given(flows)
def test_validate_raises_only_flow_errors(doc: Any) -> None:
    try:
        flow = validate(doc)
    except FlowError as err:
        assert str(err)  # always says what and where
        return
    assert isinstance(flow, Flow) and flow.start_id in flow.nodes
