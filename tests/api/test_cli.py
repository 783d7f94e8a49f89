"""The command line: admin bootstrap and `tgflows dev` as a user runs them."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port

CLI = [sys.executable, "-m", "tgflows"]


async def test_create_user_prints_a_working_token(
    database_url: str, api: httpx.AsyncClient
) -> None:
    env = {**os.environ, "DATABASE_URL": database_url}
    out = subprocess.run(
        [*CLI, "admin", "create-user", "boss@example.com", "--org", "Acme CLI", "--role", "owner"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    token = out.stdout.strip().splitlines()[-1]
    assert token.startswith("tgf_")
    me = await api.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert [o["role"] for o in me.json()["organizations"]] == ["owner"]
    again = subprocess.run(
        [*CLI, "admin", "create-user", "boss@example.com", "--org", "Acme CLI", "--role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    second = again.stdout.strip().splitlines()[-1]
    assert second != token
    me = await api.get("/me", headers={"Authorization": f"Bearer {second}"})
    assert [o["role"] for o in me.json()["organizations"]] == ["admin"]


def dev_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        {
            "TGFLOWS_HOME": str(home),
            "TGFLOWS_API_PORT": str(free_port()),
            "TGFLOWS_TEMPORAL_PORT": str(free_port()),
            "TGFLOWS_UI_PORT": str(free_port()),
            "TGFLOWS_SIMULATOR_PORT": str(free_port()),
            "TGFLOWS_WORKER_METRICS_PORT": str(free_port()),
            "TGFLOWS_TEMPORAL_METRICS_PORT": str(free_port()),
        }
    )
    return env


def start_dev(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [*CLI, "dev"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line.startswith("READY"):
            return proc, line
        if not line and proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("tgflows dev never printed READY")


def stop_dev(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=60)


def test_dev_runs_everything_and_restarts_on_its_data(tmp_path: Path) -> None:
    env = dev_env(tmp_path / "home")
    proc, ready = start_dev(env)
    try:
        token = (tmp_path / "home" / "dev-token").read_text().strip()
        api = f"http://127.0.0.1:{env['TGFLOWS_API_PORT']}"
        assert f"api={api}" in ready and f":{env['TGFLOWS_UI_PORT']}" in ready
        assert token in ready
        headers = {"Authorization": f"Bearer {token}"}
        me = httpx.get(f"{api}/me", headers=headers).json()
        org = str(me["organizations"][0]["organization_id"])
        headers["X-Organization-Id"] = org
        campaigns = httpx.get(f"{api}/campaign-flows", headers=headers).json()["items"]
        assert [c["status"] for c in campaigns] == ["draft"]
        ui = httpx.get(f"http://127.0.0.1:{env['TGFLOWS_UI_PORT']}/", timeout=10)
        assert ui.status_code == 200
        metrics = f"http://127.0.0.1:{env['TGFLOWS_WORKER_METRICS_PORT']}/metrics"
        assert f"worker={metrics}" in ready
        assert "tgflows_executions{" in httpx.get(metrics, timeout=10).text
        # The demo login of the READY line signs in to the console.
        assert f"console={api}/" in ready
        email, password = ready.split("login=")[1].split()[0].split("/", 1)
        signed_in = httpx.post(f"{api}/auth/login", json={"email": email, "password": password})
        assert signed_in.status_code == 200, signed_in.text
    finally:
        assert stop_dev(proc) == 0
    proc, ready = start_dev(env)  # a second run reuses the data
    try:
        assert token in ready
        campaigns = httpx.get(f"{api}/campaign-flows", headers=headers).json()["items"]
        assert len(campaigns) == 1
        sim = f"http://127.0.0.1:{env['TGFLOWS_SIMULATOR_PORT']}"
        reply = {"account": "+10000000000", "text": "hi"}
        first = httpx.post(f"{sim}/peers/alice/reply", json=reply).json()
        simulator = child_running(proc.pid, "simulator")
        os.kill(simulator, signal.SIGKILL)  # a child dies: dev restarts it
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                again = child_running(proc.pid, "simulator")
                if again != simulator and httpx.get(f"{sim}/health").status_code == 200:
                    break
            except (AssertionError, httpx.HTTPError):
                pass
            time.sleep(0.3)
        else:
            raise AssertionError("the simulator was not restarted")
        assert proc.poll() is None
        # Its update offsets went on from where they were, not from 1 again.
        second = httpx.post(f"{sim}/peers/alice/reply", json=reply).json()
        assert second["offset"] == first["offset"] + 1
    finally:
        if proc.poll() is None:
            assert stop_dev(proc) == 0
    assert proc.stdout is not None
    assert "simulator exited with code -9; restarting" in proc.stdout.read()


def child_running(pid: int, command: str) -> int:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for child in children:
        try:
            args = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
        except FileNotFoundError:  # exited meanwhile
            continue
        # A dead child not yet reaped (a zombie) has no command line.
        if len(args) >= 2 and args[-2] == command.encode():
            return int(child)
    raise AssertionError(f"no {command} child among {children}")


def test_dev_names_a_taken_port(tmp_path: Path) -> None:
    env = dev_env(tmp_path / "home")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", int(env["TGFLOWS_SIMULATOR_PORT"])))
        taken.listen()
        out = subprocess.run([*CLI, "dev"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert env["TGFLOWS_SIMULATOR_PORT"] in out.stderr and "simulator" in out.stderr


def test_dev_refuses_a_data_directory_of_another_postgresql_with_what_to_do(
    tmp_path: Path,
) -> None:
    # What the earlier embedded server (PostgreSQL 16) left in $TGFLOWS_HOME/pg.
    pgdata = tmp_path / "home" / "pg"
    pgdata.mkdir(parents=True)
    (pgdata / "PG_VERSION").write_text("16\n")
    env = dev_env(tmp_path / "home")
    out = subprocess.run([*CLI, "dev"], env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    assert f"{pgdata} holds a PostgreSQL 16 database" in out.stderr
    assert f"mv {pgdata} {pgdata}-pg16" in out.stderr
    assert (pgdata / "PG_VERSION").read_text() == "16\n"  # untouched
    assert sorted(p.name for p in pgdata.iterdir()) == ["PG_VERSION"]


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
