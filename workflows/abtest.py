"""Automatic A/B winners: the `auto_winner` settings and the statistical decision (pure).

The test is a one-sided two-proportion z-test of the leading arm against each other arm
(pooled standard error), Bonferroni-corrected over the k - 1 comparisons: the leader
wins when every arm has at least `min_sample` exposed leads and, against every other
arm, z >= the normal quantile of 1 - (1 - confidence) / (k - 1). docs/flows.md explains
the choice and what repeated looks do to it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Any, Protocol

METRICS = ("reply_rate", "read_rate")
MAX_MIN_SAMPLE = 1_000_000
# The key a node's data carries the settings under.
KEY = "auto_winner"


class AutoWinnerError(ValueError):
    """Settings that cannot be used; `field` is the key at fault (auto_winner.<key>)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"'{field}' {message}")
        self.field = field


@dataclass(frozen=True)
class AutoWinner:
    metric: str
    min_sample: int
    confidence: float


@dataclass(frozen=True)
class Arm:
    """One branch or variant: leads exposed to its message and those who did the metric."""

    name: str
    exposed: int
    successes: int

    @property
    def rate(self) -> float:
        return self.successes / self.exposed if self.exposed else 0.0


@dataclass(frozen=True)
class Decision:
    """The winner, its weakest comparison (the runner-up's z and p) and the bar it cleared."""

    winner: str
    runner_up: str
    z: float
    p_value: float
    threshold: float


def settings(data: Mapping[str, Any]) -> AutoWinner | None:
    """The node's auto_winner settings, None when it has none; AutoWinnerError when invalid."""
    raw = data.get(KEY)
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise AutoWinnerError(KEY, "must be an object with 'metric', 'min_sample', 'confidence'")
    unknown = sorted(set(raw) - {"metric", "min_sample", "confidence"})
    if unknown:
        raise AutoWinnerError(f"{KEY}.{unknown[0]}", "is not a setting of auto_winner")
    metric = raw.get("metric", "reply_rate")
    if metric not in METRICS:
        raise AutoWinnerError(f"{KEY}.metric", f"must be one of {list(METRICS)}")
    min_sample = raw.get("min_sample")
    if isinstance(min_sample, bool) or not isinstance(min_sample, int):
        raise AutoWinnerError(f"{KEY}.min_sample", "must be a whole number of leads per branch")
    if not 1 <= min_sample <= MAX_MIN_SAMPLE:
        raise AutoWinnerError(f"{KEY}.min_sample", f"must be between 1 and {MAX_MIN_SAMPLE}")
    confidence = raw.get("confidence", 0.95)
    if (
        isinstance(confidence, bool)
        or not isinstance(confidence, int | float)
        or not 0.5 < confidence < 1
    ):
        raise AutoWinnerError(
            f"{KEY}.confidence", "must be a number strictly between 0.5 and 1 (e.g. 0.95)"
        )
    return AutoWinner(str(metric), min_sample, float(confidence))


def decide(arms: Sequence[Arm], config: AutoWinner) -> Decision | None:
    """The arm better than every other with the asked confidence, or None (yet)."""
    if len(arms) < 2 or any(a.exposed < config.min_sample for a in arms):
        return None
    ranked = sorted(arms, key=lambda a: a.rate, reverse=True)
    leader = ranked[0]
    if ranked[1].rate >= leader.rate:
        return None  # a tie at the top has no winner
    alpha = (1 - config.confidence) / (len(arms) - 1)
    threshold = NormalDist().inv_cdf(1 - alpha)
    weakest: tuple[float, Arm] | None = None
    for other in ranked[1:]:
        z = z_score(leader, other)
        if z < threshold:
            return None
        if weakest is None or z < weakest[0]:
            weakest = (z, other)
    assert weakest is not None
    z, runner_up = weakest
    return Decision(
        winner=leader.name,
        runner_up=runner_up.name,
        z=round(z, 4),
        p_value=round(1 - NormalDist().cdf(z), 6),
        threshold=round(threshold, 4),
    )


def z_score(a: Arm, b: Arm) -> float:
    """One-sided two-proportion z statistic for rate(a) > rate(b), pooled standard error."""
    pooled = (a.successes + b.successes) / (a.exposed + b.exposed)
    se = math.sqrt(pooled * (1 - pooled) * (1 / a.exposed + 1 / b.exposed))
    if se == 0:
        return 0.0  # both all-or-nothing alike: no evidence either way
    return (a.rate - b.rate) / se


class Counts(Protocol):
    """An arm's numbers as the database counts them (db.repositories.abtest.ArmCounts)."""

    @property
    def exposed(self) -> int: ...
    @property
    def replied(self) -> int: ...
    @property
    def read(self) -> int: ...


def arms_of(names: Sequence[str], counts: Mapping[str, Counts], metric: str) -> list[Arm]:
    """The arms of a node in flow order, with the successes of the metric (0 if unseen)."""
    arms = []
    for name in names:
        c = counts.get(name)
        successes = 0 if c is None else (c.replied if metric == "reply_rate" else c.read)
        arms.append(Arm(name, 0 if c is None else c.exposed, successes))
    return arms


def arm_json(arm: Arm) -> dict[str, Any]:
    return {
        "name": arm.name,
        "exposed": arm.exposed,
        "successes": arm.successes,
        "rate": round(100 * arm.rate, 2),
    }


def summary(decision: Decision, arms: Sequence[Arm], config: AutoWinner) -> str:
    """One line for the log: who won on what, each arm's numbers, and the test."""
    numbers = ", ".join(
        f"{a.name} {a.successes}/{a.exposed} ({round(100 * a.rate, 2)}%)" for a in arms
    )
    return (
        f"A/B winner {decision.winner} on {config.metric}: {numbers}; "
        f"z = {decision.z} against {decision.runner_up} (p = {decision.p_value}, "
        f"needed z >= {decision.threshold} for {config.confidence:.0%} confidence)"
    )


@dataclass
class WinnerRequest:
    """Ask, at an auto_winner node, whether a winner is known (or can be decided now)."""

    campaign_id: int
    execution_id: int
    generation: int
    node_id: str
    node_type: str
    arms: list[str]
    metric: str
    min_sample: int
    confidence: float


@dataclass
class WinnerResult:
    winner: str | None = None
