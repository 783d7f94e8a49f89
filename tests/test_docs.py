"""The README's thin path and every runbook command, run as written against `tgflows dev`
on non-default ports and a home of its own."""

from __future__ import annotations

import re
import subprocess
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from tests.api.test_cli import dev_env, start_dev, stop_dev

ROOT = Path(__file__).resolve().parent.parent
# Each block runs in bash with errors fatal and curl failing on HTTP errors, so a command
# that "works" only by printing an error body fails the test.
PRELUDE = 'set -eo pipefail\ncurl() { command curl --fail-with-body "$@"; }\n'


def sh_blocks(text: str) -> list[str]:
    """The fenced `sh` blocks of a markdown text, in order, list indentation removed."""
    found = re.finditer(r"^( *)```sh\n(.*?)^\1```", text, re.S | re.M)
    return [textwrap.dedent(m.group(2)) for m in found]


def run(script: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["bash", "-c", PRELUDE + script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, (
        f"{script}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    return result.stdout


def test_docs_use_the_venv_cli_with_an_address_and_no_raw_sql() -> None:
    readme = (ROOT / "README.md").read_text()
    runbooks = (ROOT / "docs/runbooks.md").read_text()
    assert "export TEMPORAL_ADDRESS=" in readme
    for block in sh_blocks(runbooks)[1:]:
        for line in block.splitlines():
            if re.search(r"(^|\s|/)temporal ", line):
                assert ".venv/bin/temporal" in line and "--address $TEMPORAL_ADDRESS" in line
    assert "```sql" not in runbooks


def test_readme_and_runbooks_run_as_written(tmp_path: Path) -> None:
    env = dev_env(tmp_path / "home")
    proc, _ = start_dev(env)
    try:
        readme = (ROOT / "README.md").read_text()
        thin_path = sh_blocks(readme[readme.index("## Trying the thin path") :])[0]
        out = run(thin_path, env)
        assert '"added":3' in out and "contact-1-g1" in out
        simulator = f"http://127.0.0.1:{env['TGFLOWS_SIMULATOR_PORT']}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if httpx.get(f"{simulator}/peers/bob/messages").json()["items"]:
                break
            time.sleep(0.3)

        setup, *blocks = sh_blocks((ROOT / "docs/runbooks.md").read_text())
        outputs = [run(setup + block, env) for block in blocks]
        assert len(outputs) >= 12
        health = outputs[0]
        assert '"pollers:tgflows": "ok"' in health and '"pollers:tgflows-control": "ok"' in health
        joined = "\n".join(outputs)
        for expected in (
            "tgflows_sends_total",  # the worker's metrics
            "tgflows_http_requests_total",  # the api's
            "Pollers:",  # task-queue describe
            "campaign-1",  # the control workflow
            '"execution_id":2',  # the lead's state query
            "Signal workflow succeeded",
            "UPDATE 1",
        ):
            assert expected in joined, expected
    finally:
        assert stop_dev(proc) == 0


pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")
