"""Message templates: `{name}` and `{name|fallback}`, nothing else (docs/flows.md).

One renderer for the api's validation, the preview and the workflow's sends. No format
specs, no attribute or index access: a placeholder is a variable name and an optional
literal fallback, and `{{` / `}}` write a literal brace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol

from workflows.limits import MAX_MESSAGE_CHARS

CONTACT_FIELDS = ("first_name", "last_name", "username", "phone")
CONTEXT_VARIABLES = ("variant",)
CUSTOM_PREFIX = "custom."
_NAME = re.compile(r"[a-z_]+(?:\.[^{}|\x00-\x1f]{1,64})?")
_KNOWN = ", ".join([*CONTACT_FIELDS, *CONTEXT_VARIABLES, "custom.<field>"])


class TemplateError(ValueError):
    """A template that cannot be rendered; the message says where."""


class MessageTooLong(TemplateError):
    """The rendered text is over Telegram's limit."""


@dataclass(frozen=True, slots=True)
class Placeholder:
    name: str
    fallback: str | None


Part = str | Placeholder


@lru_cache(maxsize=4096)
def compile_template(template: str) -> tuple[Part, ...]:
    """The literal runs and placeholders of a template, or TemplateError."""
    parts: list[Part] = []
    literal: list[str] = []
    i, n = 0, len(template)
    while i < n:
        ch = template[i]
        if ch in "{}" and template.startswith(ch * 2, i):
            literal.append(ch)
            i += 2
            continue
        if ch == "}":
            raise TemplateError(f"unmatched '}}' at character {i + 1} (write '}}}}' for a brace)")
        if ch != "{":
            literal.append(ch)
            i += 1
            continue
        close = template.find("}", i + 1)
        nested = template.find("{", i + 1)
        if close < 0 or (0 <= nested < close):
            raise TemplateError(f"unclosed '{{' at character {i + 1} (write '{{{{' for a brace)")
        if literal:
            parts.append("".join(literal))
            literal = []
        parts.append(_placeholder(template[i + 1 : close]))
        i = close + 1
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


def _placeholder(inner: str) -> Placeholder:
    name, bar, fallback = inner.partition("|")
    if not _NAME.fullmatch(name):
        raise TemplateError(
            f"{{{inner[:40]}}} is not a variable: write {{name}} or {{name|fallback}} "
            f"with one of {_KNOWN}"
        )
    known = name in CONTACT_FIELDS or name in CONTEXT_VARIABLES
    if not known and not (name.startswith(CUSTOM_PREFIX) and len(name) > len(CUSTOM_PREFIX)):
        raise TemplateError(f"unknown variable {{{name}}}; known: {_KNOWN}")
    return Placeholder(name, fallback if bar else None)


def literal_length(template: str) -> int:
    """The characters every rendering has whatever the contact (raises TemplateError)."""
    return sum(len(p) for p in compile_template(template) if isinstance(p, str))


def check(template: str) -> None:
    """Raise TemplateError if the template is malformed or too long whatever the contact."""
    length = literal_length(template)
    if length > MAX_MESSAGE_CHARS:
        raise MessageTooLong(
            f"text is {length} characters before its variables are filled; "
            f"Telegram's limit is {MAX_MESSAGE_CHARS}"
        )


def render(
    template: str,
    variables: Mapping[str, object],
    context: Mapping[str, object] | None = None,
    *,
    limit: int = MAX_MESSAGE_CHARS,
) -> str:
    """Fill the placeholders from the contact's variables and the execution's context.

    A variable without a value takes its fallback, else renders empty; a text longer
    than `limit` raises MessageTooLong as soon as it is known (it never grows further).
    """
    out: list[str] = []
    length = 0
    for part in compile_template(template):
        text = part if isinstance(part, str) else _fill(part, variables, context or {})
        length += len(text)
        if length > limit:
            raise MessageTooLong(f"the rendered text is over {limit} characters (Telegram's limit)")
        out.append(text)
    return "".join(out)


def unfilled(template: str, variables: Mapping[str, object]) -> list[str]:
    """The contact variables the template needs with no value for this contact and no
    fallback (each would render empty). Context variables ({variant}) are not counted:
    the run sets them."""
    return [
        part.name
        for part in compile_template(template)
        if isinstance(part, Placeholder)
        and part.fallback is None
        and part.name not in CONTEXT_VARIABLES
        and _value(part.name, variables, {}) in (None, "")
    ]


def _fill(
    placeholder: Placeholder, variables: Mapping[str, object], context: Mapping[str, object]
) -> str:
    value = _value(placeholder.name, variables, context)
    if value is None or value == "":
        return placeholder.fallback or ""
    return value


def _value(name: str, variables: Mapping[str, object], context: Mapping[str, object]) -> str | None:
    if name in CONTEXT_VARIABLES:
        raw = context.get(name)
    elif name.startswith(CUSTOM_PREFIX):
        contact = variables.get("contact")
        custom = contact.get("custom") if isinstance(contact, Mapping) else None
        raw = custom.get(name[len(CUSTOM_PREFIX) :]) if isinstance(custom, Mapping) else None
    else:
        raw = variables.get(name)
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, str | int | float):
        return str(raw)
    return None


class Lead(Protocol):
    """A contact as templates see it (a db row, or the preview's inline contact)."""

    @property
    def first_name(self) -> str | None: ...
    @property
    def last_name(self) -> str | None: ...
    @property
    def username(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def tags(self) -> list[str] | None: ...
    @property
    def custom_fields(self) -> dict[str, Any] | None: ...


def contact_variables(contact: Lead | None) -> dict[str, Any]:
    if contact is None:
        return {}
    fields = {
        "first_name": contact.first_name,
        "last_name": contact.last_name,
        "username": contact.username,
        "phone": contact.phone,
        "tags": list(contact.tags or []),
    }
    custom = dict(contact.custom_fields or {})
    return {**custom, **fields, "contact": {**fields, "custom": custom, **custom}}
