"""Permissions as data, plus the pure functions that read them.

Routes declare the action they perform (api.authorize.Authorize); nothing else decides
who may do what. Which status allows which action is the campaign state machine's
transition table (workflows.lifecycle.ALLOWED_FROM); STATUS_RULES is that table keyed by
action.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from db.repositories.scoping import is_visible
from db.vocabulary import CampaignStatus
from workflows import lifecycle


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    MEMBER = "member"


class Action(StrEnum):
    VIEW = "view"
    EDIT_METADATA = "edit_metadata"
    EDIT_FLOW = "edit_flow"
    DELETE = "delete"
    RESTORE = "restore"
    DUPLICATE = "duplicate"
    LAUNCH = "launch"
    PAUSE = "pause"
    STOP = "stop"
    ENABLE = "enable"
    DISABLE = "disable"
    ADD_CONTACTS = "add_contacts"
    REMOVE_CONTACTS = "remove_contacts"


class OrgAction(StrEnum):
    """What a member does to the organization itself (its members: can_manage_member)."""

    VIEW = "view"
    MANAGE_SETTINGS = "manage_settings"


class Decision(StrEnum):
    ALLOW = "allow"
    HIDDEN = "hidden"  # 404: the caller may not even know it exists
    FORBIDDEN = "forbidden"  # 403: visible, but not this action


# Launch, pause and stop belong to the creator alone, whatever the role.
CREATOR_ONLY = frozenset({Action.LAUNCH, Action.PAUSE, Action.STOP})
# What a role may do to a campaign another member created (once it can see it at all).
ON_OTHERS_CAMPAIGNS: dict[Role, frozenset[Action]] = {
    Role.OWNER: frozenset(Action) - CREATOR_ONLY,
    Role.ADMIN: frozenset(Action) - CREATOR_ONLY,
    Role.MEMBER: frozenset(),
}
ROLES_WITH_ADMIN_VIEW = frozenset({Role.OWNER, Role.ADMIN})

# How a sentence names each action ("Cannot <phrase> a campaign that is active").
PHRASES: dict[Action, str] = {
    Action.VIEW: "view",
    Action.EDIT_METADATA: "edit the settings of",
    Action.EDIT_FLOW: "edit the flow of",
    Action.ADD_CONTACTS: "add contacts to",
    Action.REMOVE_CONTACTS: "remove contacts from",
}

# Which campaign statuses allow an action: the transition table of
# workflows.lifecycle, keyed by the action of the same name; actions not listed are
# allowed in any status.
STATUS_RULES: dict[Action, frozenset[CampaignStatus]] = {
    Action(command.value): statuses for command, statuses in lifecycle.ALLOWED_FROM.items()
}

# Membership management.
MANAGE_MEMBERS = frozenset({Role.OWNER, Role.ADMIN})
MANAGE_SETTINGS = frozenset({Role.OWNER, Role.ADMIN})
# Which roles may perform each organization action (any member may view it).
ORG_RULES: dict[OrgAction, frozenset[Role]] = {
    OrgAction.VIEW: frozenset(Role),
    OrgAction.MANAGE_SETTINGS: MANAGE_SETTINGS,
}
ORG_FORBIDDEN_TEXTS: dict[OrgAction, str] = {
    OrgAction.MANAGE_SETTINGS: "Only owners and admins change settings",
}


@dataclass(frozen=True)
class Actor:
    """Who is asking, in which mode."""

    user_id: int
    organization_id: int | None
    role: Role | None
    admin_view_enabled: bool = False

    @property
    def admin_view(self) -> bool:
        return self.role in ROLES_WITH_ADMIN_VIEW and self.admin_view_enabled


@dataclass(frozen=True)
class Owned:
    """The ownership facts of a campaign (or any scoped row)."""

    created_by: int
    organization_id: int | None


def can_see(actor: Actor, row: Owned) -> bool:
    """The visibility rule of every read (db.repositories.scoping), on a row in hand."""
    return is_visible(
        row_organization_id=row.organization_id,
        row_owner_id=row.created_by,
        user_id=actor.user_id,
        organization_id=actor.organization_id,
        view_all=actor.admin_view,
    )


def decide(actor: Actor, row: Owned, action: Action) -> Decision:
    if not can_see(actor, row):
        return Decision.HIDDEN
    if row.created_by == actor.user_id:
        return Decision.ALLOW
    assert actor.role is not None
    return Decision.ALLOW if action in ON_OTHERS_CAMPAIGNS[actor.role] else Decision.FORBIDDEN


def decide_org(role: Role, action: OrgAction) -> Decision:
    """A member's verdict on an organization action (non-members never see it)."""
    return Decision.ALLOW if role in ORG_RULES[action] else Decision.FORBIDDEN


def org_forbidden_text(action: OrgAction) -> str:
    return ORG_FORBIDDEN_TEXTS.get(action, f"Your role cannot {action.value} this organization")


def phrase(action: Action) -> str:
    return PHRASES.get(action, action.value)


def forbidden_text(action: Action) -> str:
    """The 403 sentence: it states the rule that refused the action."""
    if action in CREATOR_ONLY:
        return f"Only the campaign's creator may {phrase(action)} it"
    return (
        f"Only the campaign's creator or an owner/admin of its organization may {phrase(action)} it"
    )


def conflict_text(action: Action, status: str) -> str:
    return f"Cannot {phrase(action)} a campaign that is {status}"


def status_allows(action: Action, status: str) -> bool:
    allowed = STATUS_RULES.get(action)
    return allowed is None or status in allowed


def effective_view_mode(actor: Actor, requested: str) -> str:
    """`all` falls back to `own` for members, in personal mode, or without admin view."""
    return "all" if requested == "all" and actor.admin_view else "own"


def can_manage_member(actor_role: Role, target_role: Role | None, new_role: Role | None) -> bool:
    """Owners and admins manage members; only an owner makes or removes an owner."""
    if actor_role not in MANAGE_MEMBERS:
        return False
    touches_owner = Role.OWNER in (target_role, new_role)
    return actor_role == Role.OWNER or not touches_owner


def addable_roles(actor_role: Role) -> list[Role]:
    """The roles the actor may give a new member (the console offers only these)."""
    return [r for r in Role if can_manage_member(actor_role, None, r)]


def assignable_roles(actor_role: Role, target_role: Role) -> list[Role]:
    """The roles the actor may change this member to (the current one excluded)."""
    return [r for r in Role if r != target_role and can_manage_member(actor_role, target_role, r)]


def allowed_actions(
    actor: Actor, row: Owned, *, status: str, enabled: bool, deleted: bool
) -> list[Action]:
    """The actions the actor may take on the campaign now: the console shows these as buttons."""
    if deleted:
        candidates = [Action.RESTORE]
    else:
        candidates = [a for a in Action if a not in (Action.VIEW, Action.RESTORE)]
        candidates.remove(Action.ENABLE if enabled else Action.DISABLE)
        if not enabled:
            candidates.remove(Action.LAUNCH)
    return [
        a
        for a in candidates
        if decide(actor, row, a) == Decision.ALLOW and status_allows(a, status)
    ]


def can_manage_settings(actor: Actor) -> bool:
    """Scope settings (reply rules): anyone in personal mode, owners and admins in an org."""
    return actor.organization_id is None or actor.role in MANAGE_SETTINGS
