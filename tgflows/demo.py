"""The demo data `tgflows dev` creates on its first run."""

from __future__ import annotations

import secrets
from pathlib import Path

from api.identity.service import ensure_membership, get_or_create_user, issue_token
from api.policies import Role
from db.models import CampaignFlow, Contact, TelegramAccount
from db.repositories.identity import user_by_email
from db.session import make_engine, make_session_factory
from db.vocabulary import AccountStatus, CampaignStatus

DEMO_EMAIL = "demo@tgflows.local"
DEMO_FLOW = {
    "nodes": [
        {"id": "start", "type": "start", "data": {}},
        {"id": "hello", "type": "send_message", "data": {"text": "Hi {first_name}! 👋"}},
        {"id": "wait", "type": "wait_for_reply", "data": {"timeout_seconds": 120}},
        {
            "id": "follow_up",
            "type": "send_message",
            "data": {"text": "Just following up, {first_name}."},
        },
        {"id": "end", "type": "end", "data": {}},
    ],
    "edges": [
        {"source": "start", "target": "hello"},
        {"source": "hello", "target": "wait"},
        {"source": "wait", "target": "end", "label": "replied"},
        {"source": "wait", "target": "follow_up", "label": "no_reply"},
        {"source": "follow_up", "target": "end"},
    ],
}


async def seed_demo(database_url: str, home: Path) -> str:
    """Create the demo owner, organization, account, contacts and campaign once."""
    token_file = home / "dev-token"
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_session_factory(engine).begin() as session:
            existing = await user_by_email(session, DEMO_EMAIL)
            if existing is not None and token_file.exists():
                return token_file.read_text().strip()
            user = await get_or_create_user(session, DEMO_EMAIL)
            _, token = await issue_token(session, user, "dev")
            if existing is None:
                org = await ensure_membership(session, user, "Demo", Role.OWNER)
                account = TelegramAccount(
                    user_id=user.id,
                    organization_id=org.id,
                    provider="simulator",
                    phone="+10000000000",
                    display_name="Demo simulator",
                    status=AccountStatus.CONNECTED,
                )
                session.add(account)
                await session.flush()
                for username, name in (("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")):
                    session.add(
                        Contact(
                            user_id=user.id,
                            organization_id=org.id,
                            username=username,
                            first_name=name,
                        )
                    )
                session.add(
                    CampaignFlow(
                        name="Demo campaign",
                        telegram_account_id=account.id,
                        timezone="UTC",
                        flow=DEMO_FLOW,
                        created_by=user.id,
                        organization_id=org.id,
                        status=CampaignStatus.DRAFT,
                        enabled=True,
                    )
                )
        token_file.write_text(token)
        token_file.chmod(0o600)
        return token
    finally:
        await engine.dispose()


async def demo_password(database_url: str, home: Path) -> str:
    """The demo owner's console password: made once, kept in the home directory."""
    from api.console.passwords import hash_password

    path = home / "dev-password"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(9)
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_session_factory(engine).begin() as session:
            user = await get_or_create_user(session, DEMO_EMAIL)
            user.password_hash = hash_password(password)
    finally:
        await engine.dispose()
    path.write_text(password)
    path.chmod(0o600)
    return password
