"""Idempotent lifecycle: executions' launch_seq, campaigns' status_reason, one
message_sent log row per message

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "flow_executions",
        sa.Column("launch_seq", sa.BigInteger(), server_default="0", nullable=False),
    )
    # What ran already belongs to the campaign's latest op: a retried page of it must
    # not reset it.
    op.execute(
        "UPDATE flow_executions e SET launch_seq = c.control_seq FROM campaign_flows c "
        "WHERE c.id = e.campaign_id AND e.status <> 'pending'"
    )
    op.add_column("campaign_flows", sa.Column("status_reason", sa.String(500), nullable=True))
    op.execute(
        "DELETE FROM flow_execution_logs l USING flow_execution_logs k "
        "WHERE l.event_type = 'message_sent' AND k.event_type = 'message_sent' "
        "AND l.execution_id = k.execution_id AND l.generation = k.generation "
        "AND l.node_id IS NOT DISTINCT FROM k.node_id AND l.visit = k.visit AND l.id > k.id"
    )
    op.create_index(
        "uq_flow_execution_logs_message_sent",
        "flow_execution_logs",
        ["execution_id", "generation", "node_id", "visit"],
        unique=True,
        postgresql_where=sa.text("event_type = 'message_sent'"),
    )


def downgrade() -> None:
    op.drop_index("uq_flow_execution_logs_message_sent", table_name="flow_execution_logs")
    op.drop_column("campaign_flows", "status_reason")
    op.drop_column("flow_executions", "launch_seq")
