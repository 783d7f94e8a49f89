"""The template language: what it fills, what it refuses, and that nothing else escapes."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows import templates
from workflows.limits import MAX_MESSAGE_CHARS
from workflows.templates import MessageTooLong, TemplateError, render

CONTACT = {
    "first_name": "Ada",
    "last_name": None,
    "username": "ada",
    "phone": "+1",
    "contact": {"custom": {"city": "London", "n": 3, "vip": True}},
}


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("Hi {first_name}!", "Hi Ada!"),
        ("Hi {last_name|there}!", "Hi there!"),
        ("Hi {last_name}!", "Hi !"),
        ("{custom.city} {custom.n} {custom.vip}", "London 3 true"),
        ("{custom.missing|somewhere}", "somewhere"),
        ("{{first_name}} }}", "{first_name} }"),
        ("{variant|none}", "B"),
        ("{first_name|}", "Ada"),
    ],
)
def test_render(template: str, expected: str) -> None:
    assert render(template, CONTACT, {"variant": "B"}) == expected


@pytest.mark.parametrize(
    "template",
    [
        "{first_name:>20000000}",
        "{first_name!r}",
        "{first_name.__class__}",
        "{contact[custom]}",
        "{unknown}",
        "{custom.}",
        "{ first_name }",
        "{}",
        "{",
        "}",
        "{a{b}}",
    ],
)
def test_refused(template: str) -> None:
    with pytest.raises(TemplateError):
        templates.check(template)


def test_render_stops_at_the_limit() -> None:
    contact = {"contact": {"custom": {"bio": "y" * 1000}}}
    with pytest.raises(MessageTooLong):
        render("{custom.bio}" * 10, contact)
    assert len(render("{custom.bio}" * 4, contact)) == 4000
    with pytest.raises(MessageTooLong):
        templates.check("x" * (MAX_MESSAGE_CHARS + 1))


variables = st.dictionaries(
    st.sampled_from(["first_name", "last_name", "username", "phone", "contact"]),
    st.one_of(
        st.none(),
        st.text(max_size=50),
        st.integers(),
        st.floats(),
        st.booleans(),
        st.dictionaries(st.text(max_size=5), st.text(max_size=20), max_size=3),
        st.just({"custom": {"a": "b", "x.y": 1}}),
    ),
)
template_text = st.one_of(
    st.text(max_size=200),
    st.lists(
        st.sampled_from(
            [
                "{",
                "}",
                "{{",
                "}}",
                "|",
                ":",
                ".",
                "!",
                "[",
                "]",
                "first_name",
                "custom.a",
                "custom.x.y",
                "variant",
                "__class__",
                " ",
                "0",
                "x",
            ]
        ),
        max_size=30,
    ).map("".join),
)


@settings(max_examples=500, deadline=None)
@given(template=template_text, contact=variables, context=st.dictionaries(st.text(), st.text()))
def test_no_template_raises_anything_but_a_template_error(
    template: str, contact: dict[str, Any], context: dict[str, str]
) -> None:
    try:
        templates.check(template)
        text = render(template, contact, context)
    except TemplateError:
        return
    assert len(text) <= MAX_MESSAGE_CHARS
    # What renders is the literal text and the variables' values, never Python internals.
    assert "<class" not in text or "<class" in template or "<class" in str(contact)
