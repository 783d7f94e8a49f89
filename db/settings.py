"""Settings shared by every tgflows process, read from the environment."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Environment-driven configuration; every port can be overridden."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=False)

    database_url: str | None = Field(default=None, alias="DATABASE_URL")
    temporal_address: str | None = Field(default=None, alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field(default="default", alias="TEMPORAL_NAMESPACE")
    task_queue: str = Field(default="tgflows", alias="TGFLOWS_TASK_QUEUE")
    home: Path = Field(default=REPO_ROOT / ".tgflows", alias="TGFLOWS_HOME")
    api_host: str = Field(default="127.0.0.1", alias="TGFLOWS_API_HOST")
    api_port: int = Field(default=8000, alias="TGFLOWS_API_PORT")
    temporal_port: int = Field(default=7233, alias="TGFLOWS_TEMPORAL_PORT")
    ui_port: int = Field(default=8233, alias="TGFLOWS_UI_PORT")
    simulator_port: int = Field(default=8300, alias="TGFLOWS_SIMULATOR_PORT")
    simulator_host: str = Field(default="127.0.0.1", alias="TGFLOWS_SIMULATOR_HOST")
    simulator_url: str | None = Field(default=None, alias="TGFLOWS_SIMULATOR_URL")
    secret_key: str | None = Field(default=None, alias="TGFLOWS_SECRET_KEY")
    worker_id: str | None = Field(default=None, alias="TGFLOWS_WORKER_ID")
    worker_roles: str = Field(default="contacts,control", alias="TGFLOWS_WORKER_ROLES")
    workflow_sandbox: bool = Field(default=True, alias="TGFLOWS_WORKFLOW_SANDBOX")
    # Contact workflows the worker keeps in memory between their tasks.
    workflow_cache: int = Field(default=2000, ge=1, alias="TGFLOWS_WORKFLOW_CACHE")
    # Sends one execution may make (workflows.limits); the execution fails beyond it.
    max_sends_per_execution: int = Field(
        default=50, ge=1, le=10_000, alias="TGFLOWS_MAX_SENDS_PER_EXECUTION"
    )
    # How long a send waits on a Telethon account's queue for the worker holding the
    # account before the lead records why and looks again (activities.unserved).
    send_queue_wait_seconds: int = Field(
        default=1800, ge=1, alias="TGFLOWS_SEND_QUEUE_WAIT_SECONDS"
    )
    # The worker's /metrics and /health, and the Temporal SDK's own metrics; 0: off.
    worker_metrics_host: str = Field(default="127.0.0.1", alias="TGFLOWS_WORKER_METRICS_HOST")
    worker_metrics_port: int = Field(default=9464, ge=0, alias="TGFLOWS_WORKER_METRICS_PORT")
    temporal_metrics_port: int = Field(default=9465, ge=0, alias="TGFLOWS_TEMPORAL_METRICS_PORT")
    # The api's reads at once (api/readgate.py), how long one queues before a 503, and
    # the longest statement the api runs: readers cannot take the machine from sends.
    api_read_concurrency: int = Field(default=2, ge=1, alias="TGFLOWS_API_READ_CONCURRENCY")
    api_read_wait_seconds: float = Field(default=30, gt=0, alias="TGFLOWS_API_READ_WAIT")
    # Reads per second each caller (token, console session, address) may make on
    # average, and at once; beyond, a read waits its turn up to the wait above, then 429.
    api_reads_per_second: float = Field(default=10, gt=0, alias="TGFLOWS_API_READS_PER_SECOND")
    api_read_burst: int = Field(default=20, ge=1, alias="TGFLOWS_API_READ_BURST")
    # How long a checked bearer token opens reads without a lookup (0: always looked up).
    api_token_cache_seconds: float = Field(default=5, ge=0, alias="TGFLOWS_API_TOKEN_CACHE")
    # Added to the CPU niceness of the api process at start, and of its PostgreSQL
    # backends when the server runs on the same host (0: unchanged).
    api_nice: int = Field(default=5, ge=0, le=19, alias="TGFLOWS_API_NICE")
    # The api's CPU (cores, on average) beyond which reads wait, over all callers (5 %
    # of the cores it may run on), and the CPU-seconds a quiet api saves up for a burst
    # of reads (0 cores: no bound).
    api_read_cpu: float = Field(
        default_factory=lambda: 0.05 * len(os.sched_getaffinity(0)),
        ge=0,
        alias="TGFLOWS_API_READ_CPU",
    )
    api_read_cpu_burst: float = Field(default=0.5, gt=0, alias="TGFLOWS_API_READ_CPU_BURST")
    api_statement_timeout_seconds: float = Field(
        default=30, gt=0, alias="TGFLOWS_API_STATEMENT_TIMEOUT"
    )

    # Outbound webhooks (docs/webhooks.md): private/loopback receivers, retry backoff,
    # how long a delivery is retried, how often the worker looks for new events.
    webhook_allow_private: bool = Field(default=False, alias="TGFLOWS_WEBHOOK_ALLOW_PRIVATE")
    webhook_retry_initial_seconds: float = Field(
        default=10.0, gt=0, alias="TGFLOWS_WEBHOOK_RETRY_INITIAL_SECONDS"
    )
    webhook_retry_max_seconds: float = Field(
        default=3600.0, gt=0, alias="TGFLOWS_WEBHOOK_RETRY_MAX_SECONDS"
    )
    webhook_retry_hours: float = Field(default=24.0, gt=0, alias="TGFLOWS_WEBHOOK_RETRY_HOURS")
    webhook_poll_seconds: float = Field(default=1.0, gt=0, alias="TGFLOWS_WEBHOOK_POLL_SECONDS")
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, alias="TGFLOWS_WEBHOOK_TIMEOUT_SECONDS"
    )

    def roles(self) -> tuple[str, ...]:
        return tuple(r.strip() for r in self.worker_roles.split(",") if r.strip())

    def resolved_database_url(self) -> str:
        """DATABASE_URL, else the URL a running `tgflows dev` wrote to its home."""
        if self.database_url:
            return self.database_url
        marker = self.home / "database_url"
        if marker.exists():
            return marker.read_text().strip()
        raise RuntimeError(
            "DATABASE_URL is not set and no `tgflows dev` stack is running "
            f"(no {marker}); set DATABASE_URL or start `tgflows dev`"
        )

    def resolved_temporal_address(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.temporal_port}"

    def resolved_simulator_url(self) -> str:
        return self.simulator_url or f"http://127.0.0.1:{self.simulator_port}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
