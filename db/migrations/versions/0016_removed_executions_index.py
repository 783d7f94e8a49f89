"""A partial index for the statistics' removed executions

get_campaign_statistics() starts with the campaign's executions whose contact was removed
(`deleted_at` set, usually none); without an index that was a scan of all the campaign's
executions (1.5 ms of the function's ~50 ms at 20,000 executions, growing with them).

Revision ID: 0016
Revises: 0015
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX ix_flow_executions_removed ON flow_executions (campaign_id)"
        " WHERE deleted_at IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_flow_executions_removed")
