"""The one contact search: logs and a campaign's contacts match a lead the same way."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, func, literal_column

from db.models import Contact
from db.repositories.scoping import contains_pattern


def contact_search_text() -> Any:
    """First name, last name and username joined by spaces: "Gina Test" finds Gina Test.

    The same expression as the trigram index on contacts (migration 0002)."""
    space: Any = literal_column("' '")
    return (
        func.coalesce(Contact.first_name, literal_column("''"))
        .op("||")(space)
        .op("||")(func.coalesce(Contact.last_name, literal_column("''")))
        .op("||")(space)
        .op("||")(func.coalesce(Contact.username, literal_column("''")))
    )


def contact_matches(search: str) -> ColumnElement[bool]:
    """Case-insensitive substring of the contact's full name or username."""
    return contact_search_text().ilike(contains_pattern(search), escape="\\")  # type: ignore[no-any-return]
