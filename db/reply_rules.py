"""Reply classification by editable rules: pure, no I/O, shared by the api and the listener."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from db.vocabulary import ReplyCategory

# First matching rule wins, so opt-outs come before anything that could also match.
DEFAULT_RULES: list[dict[str, Any]] = [
    {
        "category": ReplyCategory.OPT_OUT,
        "keywords": [
            "stop",
            "unsubscribe",
            "opt out",
            "remove me",
            "do not contact",
            "don't contact",
            "don't write",
            "не пишите",
            "не пиши",
            "отпишите",
            "отписаться",
            "стоп",
            "no me escribas",
            "no gracias",
            "darse de baja",
            "abmelden",
            "nicht mehr schreiben",
            "désabonner",
            "ne m'écrivez plus",
        ],
        "patterns": [r"\b(un)?subscri\w*\s+me\b", r"\bleave me alone\b"],
    },
    {
        "category": ReplyCategory.OUT_OF_OFFICE,
        "keywords": [
            "out of office",
            "on vacation",
            "on holiday",
            "в отпуске",
            "fuera de la oficina",
            "de vacaciones",
            "abwesend",
            "im urlaub",
        ],
        "patterns": [r"\bback (on|at|in)\b"],
    },
    {
        "category": ReplyCategory.NOT_INTERESTED,
        "keywords": [
            "not interested",
            "no thanks",
            "no thank you",
            "не интересно",
            "неинтересно",
            "не нужно",
            "no me interesa",
            "kein interesse",
            "pas intéressé",
        ],
        "patterns": [],
    },
    {
        "category": ReplyCategory.INTERESTED,
        "keywords": [
            "interested",
            "tell me more",
            "sounds good",
            "let's talk",
            "call me",
            "интересно",
            "расскажите",
            "давайте",
            "me interesa",
            "cuéntame",
            "interessiert",
            "intéressé",
        ],
        "patterns": [r"\b(yes|sure|ok(ay)?)\b"],
    },
]


def classify(text: str, rules: Sequence[dict[str, Any]]) -> ReplyCategory:
    """The category of the first rule a keyword or pattern of which matches, else other."""
    folded = text.casefold()
    for rule in rules:
        if any(_keyword(k).search(folded) for k in rule.get("keywords", ())):
            return ReplyCategory(rule["category"])
        if any(_pattern(p).search(text) for p in rule.get("patterns", ())):
            return ReplyCategory(rule["category"])
    return ReplyCategory.OTHER


@lru_cache(maxsize=4096)
def _keyword(keyword: str) -> re.Pattern[str]:
    # A keyword is a whole word or phrase: "stop" matches "Stop!" but not "nonstop".
    return re.compile(r"(?<!\w)" + re.escape(keyword.casefold()) + r"(?!\w)")


@lru_cache(maxsize=4096)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)
