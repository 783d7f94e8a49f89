"""campaign_flows.applied_seq for the control reconciler

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "campaign_flows",
        sa.Column("applied_seq", sa.BigInteger(), server_default="0", nullable=False),
    )
    op.execute("UPDATE campaign_flows SET applied_seq = control_seq")


def downgrade() -> None:
    op.drop_column("campaign_flows", "applied_seq")
