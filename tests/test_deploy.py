"""docker-compose.yml with Prometheus and Grafana: files exist, targets and metrics agree."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import activities.metrics
import api.metrics

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "TGFLOWS_SECRET_KEY": "x", "GRAFANA_ADMIN_PASSWORD": "x"}


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def test_bind_mounts_point_at_files_in_the_repo() -> None:
    services = compose()["services"]
    mounts = [
        volume.split(":")[0]
        for service in services.values()
        for volume in service.get("volumes", [])
        if volume.startswith("./")
    ]
    assert "./deploy/prometheus/prometheus.yml" in mounts
    assert "./deploy/grafana/dashboards" in mounts
    for mount in mounts:
        assert (ROOT / mount).exists(), mount
    named = {
        v.split(":")[0] for s in services.values() for v in s.get("volumes", []) if v[0] != "."
    }
    assert named <= set(compose()["volumes"])


def test_prometheus_scrapes_the_ports_the_services_serve() -> None:
    services = compose()["services"]
    worker_env = services["worker"]["environment"]
    served = {
        "api:8000",
        f"worker:{worker_env['TGFLOWS_WORKER_METRICS_PORT']}",
        f"worker:{worker_env['TGFLOWS_TEMPORAL_METRICS_PORT']}",
        f"temporal:{services['temporal']['environment']['PROMETHEUS_ENDPOINT'].split(':')[1]}",
    }
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = {
        t for job in config["scrape_configs"] for c in job["static_configs"] for t in c["targets"]
    }
    assert targets == served
    assert worker_env["TGFLOWS_WORKER_METRICS_HOST"] == "0.0.0.0"


def test_dashboard_queries_only_metrics_the_code_exports() -> None:
    assert api.metrics.REQUESTS and activities.metrics.SENDS  # registered on import
    exported = {
        sample_name
        for family in REGISTRY.collect()
        for sample_name in (
            family.name,
            f"{family.name}_total",
            f"{family.name}_bucket",
            f"{family.name}_count",
        )
    }
    dashboard = json.loads((ROOT / "deploy/grafana/dashboards/tgflows.json").read_text())
    used = {
        name
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"\b(tgflows_[a-z_]+)", target["expr"])
    }
    assert used and used <= exported, used - exported
    queried = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    for metric in ("sends", "deferrals", "flood_waits", "peer_floods", "replies", "executions"):
        assert f"tgflows_{metric}" in queried
    assert "temporal_" in queried  # the SDK's own metrics too


def test_compose_config_validates() -> None:
    docker_compose = shutil.which("docker-compose")
    if docker_compose:
        command = [docker_compose, "config", "-q"]
    elif (
        shutil.which("docker")
        and subprocess.run(
            ["docker", "compose", "version"], capture_output=True, check=False
        ).returncode
        == 0
    ):
        command = ["docker", "compose", "config", "-q"]
    else:
        pytest.skip("no docker compose client installed")
    result = subprocess.run(command, cwd=ROOT, env=ENV, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
