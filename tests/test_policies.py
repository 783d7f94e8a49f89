"""api.policies, the only place a permission is decided: pure, so tested without a stack."""

from __future__ import annotations

import pytest

from api.policies import (
    CREATOR_ONLY,
    Action,
    Actor,
    Decision,
    OrgAction,
    Owned,
    Role,
    can_manage_member,
    conflict_text,
    decide,
    decide_org,
    effective_view_mode,
    forbidden_text,
    status_allows,
)
from db.vocabulary import CampaignStatus

ORG = 10
CREATOR = 1
OTHER = 2


def member(role: Role, *, admin_view: bool = False, user_id: int = OTHER) -> Actor:
    return Actor(user_id=user_id, organization_id=ORG, role=role, admin_view_enabled=admin_view)


CAMPAIGN = Owned(created_by=CREATOR, organization_id=ORG)


@pytest.mark.parametrize("action", list(Action))
def test_the_creator_may_do_anything_to_their_campaign(action: Action) -> None:
    assert decide(member(Role.MEMBER, user_id=CREATOR), CAMPAIGN, action) == Decision.ALLOW


def test_a_campaign_of_another_scope_is_hidden_even_from_its_creator() -> None:
    personal = Actor(user_id=CREATOR, organization_id=None, role=None)
    assert decide(personal, CAMPAIGN, Action.VIEW) == Decision.HIDDEN
    elsewhere = Actor(user_id=OTHER, organization_id=ORG + 1, role=Role.OWNER)
    assert decide(elsewhere, CAMPAIGN, Action.VIEW) == Decision.HIDDEN


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN, Role.MEMBER])
def test_without_admin_view_another_members_campaign_is_hidden(role: Role) -> None:
    assert decide(member(role), CAMPAIGN, Action.VIEW) == Decision.HIDDEN


def test_a_member_never_sees_others_campaigns_even_with_admin_view_on() -> None:
    assert decide(member(Role.MEMBER, admin_view=True), CAMPAIGN, Action.VIEW) == Decision.HIDDEN


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
@pytest.mark.parametrize("action", list(Action))
def test_owners_and_admins_with_admin_view_may_all_but_the_creators_actions(
    role: Role, action: Action
) -> None:
    expected = Decision.FORBIDDEN if action in CREATOR_ONLY else Decision.ALLOW
    assert decide(member(role, admin_view=True), CAMPAIGN, action) == expected


def test_the_creator_only_actions_are_launch_pause_and_stop() -> None:
    assert {Action.LAUNCH, Action.PAUSE, Action.STOP} == CREATOR_ONLY
    assert forbidden_text(Action.LAUNCH) == "Only the campaign's creator may launch it"
    assert "owner/admin" in forbidden_text(Action.EDIT_FLOW)


@pytest.mark.parametrize(
    ("action", "status", "allowed"),
    [
        (Action.LAUNCH, CampaignStatus.DRAFT, True),
        (Action.LAUNCH, CampaignStatus.PAUSED, True),
        (Action.LAUNCH, CampaignStatus.ACTIVE, False),
        (Action.LAUNCH, CampaignStatus.CANCELLED, False),
        (Action.PAUSE, CampaignStatus.SCHEDULED, True),
        (Action.PAUSE, CampaignStatus.PAUSED, False),
        (Action.STOP, CampaignStatus.COMPLETED, False),
        (Action.EDIT_FLOW, CampaignStatus.ACTIVE, False),
        (Action.ADD_CONTACTS, CampaignStatus.COMPLETED, True),
        (Action.ADD_CONTACTS, CampaignStatus.CANCELLED, False),
        (Action.EDIT_METADATA, CampaignStatus.ACTIVE, True),
        (Action.DELETE, CampaignStatus.CANCELLED, True),
    ],
)
def test_the_status_rules(action: Action, status: CampaignStatus, allowed: bool) -> None:
    assert status_allows(action, status) is allowed


def test_the_conflict_sentence_names_the_action_and_the_status() -> None:
    assert (
        conflict_text(Action.EDIT_FLOW, CampaignStatus.ACTIVE)
        == "Cannot edit the flow of a campaign that is active"
    )


def test_view_all_falls_back_to_own_without_admin_view() -> None:
    assert effective_view_mode(member(Role.ADMIN, admin_view=True), "all") == "all"
    assert effective_view_mode(member(Role.ADMIN), "all") == "own"
    assert effective_view_mode(member(Role.MEMBER, admin_view=True), "all") == "own"


@pytest.mark.parametrize(
    ("actor", "target", "new", "allowed"),
    [
        (Role.OWNER, Role.MEMBER, Role.OWNER, True),
        (Role.ADMIN, Role.MEMBER, Role.ADMIN, True),
        (Role.ADMIN, Role.MEMBER, Role.OWNER, False),
        (Role.ADMIN, Role.OWNER, None, False),
        (Role.MEMBER, None, Role.MEMBER, False),
    ],
)
def test_only_owners_make_or_remove_owners(
    actor: Role, target: Role | None, new: Role | None, allowed: bool
) -> None:
    assert can_manage_member(actor, target, new) is allowed


@pytest.mark.parametrize("role", list(Role))
def test_every_member_may_view_the_organization(role: Role) -> None:
    assert decide_org(role, OrgAction.VIEW) == Decision.ALLOW


@pytest.mark.parametrize(
    ("role", "verdict"),
    [(Role.OWNER, Decision.ALLOW), (Role.ADMIN, Decision.ALLOW), (Role.MEMBER, Decision.FORBIDDEN)],
)
def test_only_owners_and_admins_manage_settings(role: Role, verdict: Decision) -> None:
    assert decide_org(role, OrgAction.MANAGE_SETTINGS) == verdict
