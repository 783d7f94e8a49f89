"""Automatic A/B winners: the statistical decision and the settings' validation (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from workflows import abtest
from workflows.abtest import Arm, AutoWinner, decide
from workflows.flowgraph import FlowError, parse

AT_95 = AutoWinner("reply_rate", min_sample=10, confidence=0.95)


def test_clear_winner_with_known_statistic() -> None:
    found = decide([Arm("A", 100, 30), Arm("B", 100, 15)], AT_95)
    assert found is not None
    assert (found.winner, found.runner_up) == ("A", "B")
    # pooled p = 0.225, se = sqrt(0.225 * 0.775 * (1/100 + 1/100)) = 0.05906
    assert found.z == pytest.approx(2.5400, abs=1e-3)
    assert found.p_value == pytest.approx(0.00554, abs=1e-4)
    assert found.threshold == pytest.approx(1.6449, abs=1e-4)


def test_winner_found_whatever_its_position() -> None:
    found = decide([Arm("A", 100, 15), Arm("B", 100, 30)], AT_95)
    assert found is not None and found.winner == "B"


def test_not_confident_enough_is_no_decision() -> None:
    at_999 = AutoWinner("reply_rate", 10, 0.999)
    assert decide([Arm("A", 100, 30), Arm("B", 100, 15)], at_999) is None  # needs z >= 3.09
    assert decide([Arm("A", 100, 20), Arm("B", 100, 15)], AT_95) is None  # z = 0.93


def test_ties_have_no_winner() -> None:
    assert decide([Arm("A", 50, 10), Arm("B", 50, 10)], AT_95) is None
    assert decide([Arm("A", 50, 0), Arm("B", 50, 0)], AT_95) is None
    assert decide([Arm("A", 50, 50), Arm("B", 50, 50)], AT_95) is None
    # Two leaders tied ahead of a third: neither is better than every other.
    assert decide([Arm("A", 50, 40), Arm("B", 50, 40), Arm("C", 50, 0)], AT_95) is None


def test_below_min_sample_in_any_arm_waits() -> None:
    assert decide([Arm("A", 10, 10), Arm("B", 9, 0)], AT_95) is None
    assert decide([Arm("A", 10, 10), Arm("B", 10, 0)], AT_95) is not None
    assert decide([Arm("A", 10, 10)], AT_95) is None


def test_three_arms_correct_for_the_two_comparisons() -> None:
    # A vs C: z = 1.809 clears one comparison at 95% (1.645) but not the corrected
    # bar of two comparisons (97.5%: 1.96).
    assert decide([Arm("A", 100, 30), Arm("C", 100, 19)], AT_95) is not None
    assert decide([Arm("A", 100, 30), Arm("B", 100, 15), Arm("C", 100, 19)], AT_95) is None
    # A vs C: z = 1.987 > 1.96: A beats both; C is the closest runner-up.
    found = decide([Arm("A", 100, 30), Arm("B", 100, 15), Arm("C", 100, 18)], AT_95)
    assert found is not None
    assert (found.winner, found.runner_up) == ("A", "C")
    assert found.threshold == pytest.approx(1.96, abs=1e-3)
    assert found.z == pytest.approx(1.987, abs=1e-3)


def test_arms_of_counts_the_metric() -> None:
    class C:
        def __init__(self, exposed: int, replied: int, read: int) -> None:
            self.exposed, self.replied, self.read = exposed, replied, read

    counts = {"A": C(10, 2, 8)}
    assert abtest.arms_of(["A", "B"], counts, "reply_rate") == [Arm("A", 10, 2), Arm("B", 0, 0)]
    assert abtest.arms_of(["A"], counts, "read_rate") == [Arm("A", 10, 8)]


def split_flow(auto: Any, node_type: str = "ab_split") -> dict[str, Any]:
    return {
        "nodes": [
            {"id": "s", "type": "start"},
            {"id": "ab", "type": "ab_split", "data": {"auto_winner": auto}},
            {"id": "a", "type": "send_message", "data": {"text": "A"}},
            {"id": "b", "type": "send_message", "data": {"text": "B"}},
            {"id": "e", "type": "end"},
        ],
        "edges": [
            {"source": "s", "target": "ab"},
            {"source": "ab", "target": "a", "data": {"weight": 1}},
            {"source": "ab", "target": "b", "data": {"weight": 1}},
            {"source": "a", "target": "e"},
            {"source": "b", "target": "e"},
        ],
    }


def test_valid_settings_parse_on_split_and_send() -> None:
    f = parse(split_flow({"metric": "read_rate", "min_sample": 5, "confidence": 0.9}))
    assert abtest.settings(f.node("ab").data) == AutoWinner("read_rate", 5, 0.9)
    assert f.arms(f.node("ab")) == ["a", "b"]
    send = split_flow({"min_sample": 3})
    send["nodes"][2]["data"] = {
        "variants": [{"name": "X", "text": "x"}, {"name": "Y", "text": "y"}],
        "auto_winner": {"min_sample": 3},
    }
    f = parse(send)
    assert abtest.settings(f.node("a").data) == AutoWinner("reply_rate", 3, 0.95)
    assert f.arms(f.node("a")) == ["X", "Y"]


@pytest.mark.parametrize(
    ("auto", "field"),
    [
        ({"metric": "clicks", "min_sample": 5}, "auto_winner.metric"),
        ({"min_sample": 0}, "auto_winner.min_sample"),
        ({"min_sample": "5"}, "auto_winner.min_sample"),
        ({"min_sample": 5, "confidence": 0.5}, "auto_winner.confidence"),
        ({"min_sample": 5, "confidence": 1}, "auto_winner.confidence"),
        ({"min_sample": 5, "confidence": 1.5}, "auto_winner.confidence"),
        ({"min_sample": 5, "confidense": 0.9}, "auto_winner.confidense"),
        ("yes", "auto_winner"),
    ],
)
def test_invalid_settings_name_node_and_field(auto: Any, field: str) -> None:
    with pytest.raises(FlowError) as err:
        parse(split_flow(auto))
    assert err.value.node_id == "ab"
    assert f"'{field}'" in str(err.value)


def test_auto_winner_needs_something_to_choose_between() -> None:
    one = split_flow({"min_sample": 5})
    one["nodes"][1]["data"] = {}
    one["nodes"][2]["data"] = {"text": "A", "auto_winner": {"min_sample": 5}}
    with pytest.raises(FlowError, match="two 'variants'") as err:
        parse(one)
    assert err.value.node_id == "a"
    elsewhere = split_flow({"min_sample": 5})
    elsewhere["nodes"][1]["data"] = {}
    elsewhere["nodes"][4]["data"] = {"auto_winner": {"min_sample": 5}}
    with pytest.raises(FlowError, match="ab_split and send_message") as err:
        parse(elsewhere)
    assert err.value.node_id == "e"
