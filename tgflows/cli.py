"""The `tgflows` command line: dev stack, production entry points and admin bootstrap."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from typing import Annotated, Any

import typer

from api.policies import Role
from db.settings import get_settings

app = typer.Typer(no_args_is_help=True, add_completion=False)
admin = typer.Typer(no_args_is_help=True, help="Administration commands.")
app.add_typer(admin, name="admin")
explain = typer.Typer(
    no_args_is_help=True, help="Why a campaign or a lead is (not) moving, asked of the api."
)
app.add_typer(explain, name="explain")

ApiUrl = Annotated[
    str | None,
    typer.Option(
        envvar="TGFLOWS_API_URL", help="The api (else http://127.0.0.1:$TGFLOWS_API_PORT)"
    ),
]
Token = Annotated[
    str | None,
    typer.Option(envvar="TGFLOWS_TOKEN", help="API token (else the dev stack's token)"),
]
Org = Annotated[
    int | None, typer.Option(envvar="TGFLOWS_ORG", help="Organization id (X-Organization-Id)")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the api's JSON as it is")]


def _logging() -> None:
    from db.telemetry import configure_logging

    configure_logging()


@app.command()
def dev() -> None:
    """Run the whole system on one machine: Temporal, PostgreSQL, simulator, worker, api."""
    from tgflows.devstack import run_dev

    raise typer.Exit(run_dev(get_settings()))


@app.command()
def api() -> None:
    """Serve the REST API."""
    import uvicorn

    from activities.telegram.login import TelethonLogin
    from api.app import create_app

    _logging()
    settings = get_settings()
    # uvicorn's log config and access log off: ours write JSON lines and the route template.
    uvicorn.run(
        create_app(settings, telegram_login=TelethonLogin()),
        host=settings.api_host,
        port=settings.api_port,
        log_config=None,
        access_log=False,
        server_header=False,  # no banner naming the server software
    )


@app.command()
def worker() -> None:
    """Run the Temporal worker and the Telegram reply listener."""
    from tgflows.worker import main

    _logging()
    asyncio.run(main(get_settings()))
    # Drained and released by now. The Temporal SDK's native threads may still call into
    # Python while the interpreter finalizes, which now and then aborts the process
    # ("PyGILState_Release: thread state must be current") with a non-zero status after
    # a clean stop: flush and leave without finalizing.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@app.command()
def simulator() -> None:
    """Serve the Telegram simulator."""
    import uvicorn

    from simulator.app import create_app
    from simulator.state import World

    _logging()
    settings = get_settings()
    # The journal keeps messages and update offsets across restarts of `tgflows dev`.
    world = World(journal=settings.home / "simulator.jsonl")
    uvicorn.run(
        create_app(world),
        host=settings.simulator_host,
        port=settings.simulator_port,
        log_config=None,
        access_log=False,
    )


@app.command()
def migrate() -> None:
    """Apply database migrations."""
    from db.migrate import upgrade

    upgrade(get_settings().resolved_database_url())
    typer.echo("migrations applied")


@admin.command("create-user")
def create_user(
    email: str,
    org: Annotated[str | None, typer.Option(help="Organization to create or join")] = None,
    role: Annotated[Role, typer.Option(help="Role in the organization")] = Role.OWNER,
    password: Annotated[
        str | None, typer.Option(help="Password for signing in to the console")
    ] = None,
) -> None:
    """Create a user (or reuse one) and print a new API token on the last line."""
    from api.console.passwords import MIN_LENGTH, hash_password

    if password is not None and len(password) < MIN_LENGTH:
        raise typer.BadParameter(f"at least {MIN_LENGTH} characters", param_hint="--password")
    from api.identity.service import ensure_membership, get_or_create_user, issue_token
    from db.session import make_engine, make_session_factory

    async def run() -> str:
        engine = make_engine(get_settings().resolved_database_url(), pool_size=1)
        try:
            async with make_session_factory(engine).begin() as session:
                user = await get_or_create_user(session, email)
                if password is not None:
                    user.password_hash = hash_password(password)
                if org:
                    organization = await ensure_membership(session, user, org, role)
                    typer.echo(
                        f"user {user.id} is {role.value} of organization "
                        f"{organization.id} ({organization.name})"
                    )
                else:
                    typer.echo(f"user {user.id} ({user.email})")
                _, token = await issue_token(session, user, "cli")
                return token
        finally:
            await engine.dispose()

    typer.echo(asyncio.run(run()))


@admin.command("set-password")
def set_password(
    email: str,
    password: Annotated[
        str,
        typer.Option(
            prompt=True,
            hide_input=True,
            confirmation_prompt=True,
            help="The new password (asked for when not given)",
        ),
    ],
) -> None:
    """Set a user's console password; signs out the user's browsers."""
    from api.console.passwords import MIN_LENGTH, hash_password
    from db.repositories import console_sessions
    from db.session import make_engine, make_session_factory

    if len(password) < MIN_LENGTH:
        raise typer.BadParameter(f"at least {MIN_LENGTH} characters", param_hint="--password")

    async def run() -> bool:
        engine = make_engine(get_settings().resolved_database_url(), pool_size=1)
        try:
            async with make_session_factory(engine).begin() as session:
                user = await console_sessions.user_by_email(session, email)
                if user is None:
                    return False
                user.password_hash = hash_password(password)
                await console_sessions.revoke_user_sessions(session, user.id)
                return True
        finally:
            await engine.dispose()

    if not asyncio.run(run()):
        typer.echo(f"error: no user has the email {email}", err=True)
        raise typer.Exit(1)
    typer.echo(f"password set for {email.lower()}")


def _explain(path: str, api_url: str | None, token: str | None, org: int | None) -> dict[str, Any]:
    from tgflows.explain import ApiError, default_token, fetch

    settings = get_settings()
    url = api_url or f"http://127.0.0.1:{settings.api_port}"
    try:
        return fetch(url, token or default_token(settings), org, path)
    except ApiError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None


@explain.command("campaign")
def explain_campaign(
    campaign_id: int,
    api_url: ApiUrl = None,
    token: Token = None,
    org: Org = None,
    as_json: AsJson = False,
) -> None:
    """Print a campaign's diagnosis: verdict, reasons first cause first, waiting leads."""
    from tgflows.explain import campaign_lines

    found = _explain(f"/campaign-flows/{campaign_id}/diagnosis", api_url, token, org)
    typer.echo(json.dumps(found, indent=2) if as_json else "\n".join(campaign_lines(found)))


@explain.command("lead")
def explain_lead(
    execution_id: int,
    api_url: ApiUrl = None,
    token: Token = None,
    org: Org = None,
    as_json: AsJson = False,
) -> None:
    """Print one lead's execution, its workflow's `state` answer and its last log entries."""
    from tgflows.explain import lead_lines

    found = _explain(f"/executions/{execution_id}", api_url, token, org)
    typer.echo(json.dumps(found, indent=2) if as_json else "\n".join(lead_lines(found)))
