"""`tgflows dev`: every process of the system on one machine, supervised."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import httpx

from db.settings import Settings
from tgflows.devchildren import Children, GaveUp

# One dev server is one matching host. Split into the default four partitions, a task
# queue served by one worker leaves tasks in partitions its few pollers are not on
# until they are forwarded; with one partition every poller sees every task. Pause at
# 10,000 running workflows: the last acknowledged after 66 s instead of 155 s (see
# docs/decisions.md). A Temporal cluster of several matching hosts keeps its own setting.
DEV_SERVER_ARGS = (
    "--dynamic-config-value",
    "matching.numTaskqueueReadPartitions=1",
    "--dynamic-config-value",
    "matching.numTaskqueueWritePartitions=1",
)


class DevError(RuntimeError):
    pass


def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def wait_port(port: int, proc: subprocess.Popen[bytes], name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DevError(f"{name} exited with code {proc.returncode} while starting")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise DevError(f"{name} did not answer on port {port} within {timeout:.0f}s")


def wait_http(url: str, proc: subprocess.Popen[bytes], name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise DevError(f"{name} exited with code {proc.returncode} while starting")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise DevError(f"{name} did not answer {url} within {timeout:.0f}s")


def embedded_database(home: Path) -> tuple[str, object]:
    from db.embedded import IncompatibleDataDirectory, start

    try:
        server = start(home / "pg", cleanup_mode="stop")
    except IncompatibleDataDirectory as err:
        raise DevError(str(err)) from err
    return server.get_uri(), server


def secret_key(home: Path) -> str:
    path = home / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def run_dev(settings: Settings) -> int:
    home = settings.home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    ports = {
        "api": settings.api_port,
        "Temporal": settings.temporal_port,
        "Temporal web UI": settings.ui_port,
        "simulator": settings.simulator_port,
        "worker metrics": settings.worker_metrics_port,
        "Temporal SDK metrics": settings.temporal_metrics_port,
    }
    for name, port in ports.items():
        if port and not port_free(port):
            print(
                f"error: port {port} for the {name} is taken; set its TGFLOWS_*_PORT variable",
                file=sys.stderr,
            )
            return 2
    children = Children()
    server: object | None = None
    stopping = False

    def stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        if settings.database_url:
            database_url = settings.database_url
        else:
            database_url, server = embedded_database(home)
        (home / "database_url").write_text(database_url)
        from db.migrate import upgrade

        upgrade(database_url)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TEMPORAL_ADDRESS": f"127.0.0.1:{settings.temporal_port}",
            "TGFLOWS_SIMULATOR_URL": f"http://127.0.0.1:{settings.simulator_port}",
            "TGFLOWS_SECRET_KEY": settings.secret_key or secret_key(home),
            "TGFLOWS_HOME": str(home),
            # Webhook receivers on this machine are allowed in dev (docs/webhooks.md).
            "TGFLOWS_WEBHOOK_ALLOW_PRIVATE": os.environ.get(
                "TGFLOWS_WEBHOOK_ALLOW_PRIVATE", "true"
            ),
        }
        temporal = shutil.which("temporal") or str(Path(sys.executable).parent / "temporal")
        temporal_cmd = [
            temporal,
            "server",
            "start-dev",
            "--db-filename",
            str(home / "temporal.db"),
            "--port",
            str(settings.temporal_port),
            "--ui-port",
            str(settings.ui_port),
            "--search-attribute",
            "CampaignId=Keyword",
            "--search-attribute",
            "OrganizationId=Keyword",
            "--log-level",
            "error",
            *DEV_SERVER_ARGS,
        ]
        cli = [sys.executable, "-m", "tgflows"]
        children.start("Temporal", lambda: subprocess.Popen(temporal_cmd, env=env))
        children.start("simulator", lambda: subprocess.Popen([*cli, "simulator"], env=env))
        wait_port(settings.temporal_port, children["Temporal"], "Temporal", timeout=90)
        children.start("worker", lambda: subprocess.Popen([*cli, "worker"], env=env))
        children.start("api", lambda: subprocess.Popen([*cli, "api"], env=env))
        api_url = f"http://127.0.0.1:{settings.api_port}"
        wait_http(f"{api_url}/health", children["api"], "api")
        wait_http(
            f"http://127.0.0.1:{settings.simulator_port}/health", children["simulator"], "simulator"
        )
        wait_port(settings.ui_port, children["Temporal"], "Temporal web UI")
        if settings.worker_metrics_port:
            worker_health = f"http://127.0.0.1:{settings.worker_metrics_port}/health/live"
            wait_http(worker_health, children["worker"], "worker")
        from tgflows.demo import DEMO_EMAIL, demo_password, seed_demo

        token = asyncio.run(seed_demo(database_url, home))
        password = asyncio.run(demo_password(database_url, home))
        ui_url = f"http://127.0.0.1:{settings.ui_port}"
        metrics = f"http://127.0.0.1:{settings.worker_metrics_port}/metrics"
        print(
            f"READY api={api_url} ui={ui_url} token={token} worker={metrics} "
            f"console={api_url}/ login={DEMO_EMAIL}/{password}",
            flush=True,
        )
        while True:
            children.watch()  # a child that dies is restarted; one that keeps dying ends dev
            time.sleep(0.5)
    except KeyboardInterrupt:
        return 0
    except (DevError, GaveUp) as err:
        print(f"error: {err}", file=sys.stderr, flush=True)
        return 1
    finally:
        children.stop()
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]
        if stopping:
            print("stopped", flush=True)
