"""campaign_flow_versions (every flow a campaign has had, loaded by workflows by version);
indexes on contact handles for the import's deduplication

Revision ID: 0007
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_flow_versions",
        sa.Column(
            "campaign_id", sa.BigInteger(), sa.ForeignKey("campaign_flows.id"), primary_key=True
        ),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("flow", postgresql.JSONB(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    # The current flow of every campaign becomes its stored version.
    op.execute(
        "INSERT INTO campaign_flow_versions (campaign_id, version, flow) "
        "SELECT id, flow_version, flow FROM campaign_flows"
    )
    # Every writer of campaign_flows (api, demo data, benchmarks) records the version it
    # writes; a stored version is never overwritten.
    op.execute(
        """
        CREATE FUNCTION record_flow_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO campaign_flow_versions (campaign_id, version, flow)
            VALUES (NEW.id, NEW.flow_version, NEW.flow)
            ON CONFLICT DO NOTHING;
            RETURN NEW;
        END $$
        """
    )
    op.execute(
        "CREATE TRIGGER campaign_flow_versions_record AFTER INSERT OR UPDATE OF flow, "
        "flow_version ON campaign_flows FOR EACH ROW EXECUTE FUNCTION record_flow_version()"
    )

    op.execute("CREATE INDEX ix_contacts_lower_username ON contacts (lower(username))")
    op.create_index("ix_contacts_phone", "contacts", ["phone"])
    op.create_index("ix_contacts_telegram_user_id", "contacts", ["telegram_user_id"])


def downgrade() -> None:
    op.drop_index("ix_contacts_telegram_user_id", "contacts")
    op.drop_index("ix_contacts_phone", "contacts")
    op.drop_index("ix_contacts_lower_username", "contacts")
    op.execute("DROP TRIGGER campaign_flow_versions_record ON campaign_flows")
    op.execute("DROP FUNCTION record_flow_version()")
    op.drop_table("campaign_flow_versions")
