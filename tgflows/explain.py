"""`tgflows explain`: the diagnosis endpoints, asked over HTTP and printed for a person."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx

from db.settings import Settings


class ApiError(Exception):
    """The api refused or could not be reached; the message says which."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def default_token(settings: Settings) -> str | None:
    """The dev stack's token, when this machine runs `tgflows dev`."""
    path = Path(settings.home) / "dev-token"
    return path.read_text().strip() if path.exists() else None


def fetch(url: str, token: str | None, org: int | None, path: str) -> dict[str, Any]:
    """GET path as the caller; without an organization, personal mode first, then each of
    the caller's organizations (the first that can see it answers)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if org is not None:
        return _get(url, {**headers, "X-Organization-Id": str(org)}, path)
    try:
        return _get(url, headers, path)
    except ApiError as err:
        if err.status != 404:
            raise
        me = _get(url, headers, "/me")
        for membership in me.get("organizations", []):
            scoped = {**headers, "X-Organization-Id": str(membership["organization_id"])}
            try:
                return _get(url, scoped, path)
            except ApiError as again:
                if again.status != 404:
                    raise
        raise


def _get(url: str, headers: dict[str, str], path: str) -> dict[str, Any]:
    try:
        response = httpx.get(f"{url.rstrip('/')}{path}", headers=headers, timeout=30)
    except httpx.HTTPError as err:
        raise ApiError(f"cannot reach the api at {url}: {err}") from err
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        raise ApiError(f"{response.status_code} from {path}: {detail}", response.status_code)
    body: dict[str, Any] = response.json()
    return body


def campaign_lines(d: dict[str, Any]) -> list[str]:
    lines = [f"Campaign {d['campaign_id']}: {d['verdict'].upper()} (checked {d['checked_at']})"]
    for n, reason in enumerate(d["reasons"], 1):
        until = f" (until {reason['until']})" if reason.get("until") else ""
        lines.append(f"{n:>2}. [{reason['severity']}] {reason['code']}: {reason['message']}{until}")
        if reason.get("action"):
            lines.append(f"    -> {reason['action']}")
    if d["waiting"]:
        lines.append("Open leads by what they wait for:")
        for group in d["waiting"]:
            until = f" until {group['until']}" if group.get("until") else ""
            nodes = f" at {', '.join(group['nodes'])}" if group["nodes"] else ""
            lines.append(f"  {group['count']:>6} {group['reason']}{until}{nodes}")
    return lines


def lead_lines(d: dict[str, Any]) -> list[str]:
    name = d["contact_name"] or "-"
    who = f"{name} (@{d['username']})" if d["username"] else name
    lines = [
        f"Lead {d['execution_id']} {who} in campaign {d['campaign_id']}: {d['status'].upper()}",
        f"  node {d['current_node_id'] or '-'}, generation {d['generation']}, "
        f"next {d['next_execution_at'] or '-'}",
    ]
    if d["waiting_reason"]:
        until = f" until {d['waiting_until']}" if d["waiting_until"] else ""
        lines.append(f"  waiting: {d['waiting_reason']}{until}")
    if d["error_message"]:
        lines.append(f"  error: {d['error_message']}")
    lines.append(f"Workflow {d['workflow_id']}:")
    if d["workflow_state"] is not None:
        lines.append(f"  state: {json.dumps(d['workflow_state'], sort_keys=True)}")
    else:
        lines.append(f"  state: unavailable ({d['workflow_error']})")
    lines.append("Last log entries (newest first):")
    for log in d["last_logs"]:
        details = json.dumps(log["details"], sort_keys=True) if log["details"] else ""
        lines.append(
            f"  {log['executed_at']} {log['node_id'] or '-'} {log['event_type']} "
            f"{log['status']} {details}".rstrip()
        )
    return lines
