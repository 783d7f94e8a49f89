"""statistics function, cache and log search indexes

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATISTICS = r"""
CREATE OR REPLACE FUNCTION get_campaign_statistics(p_campaign_id bigint)
RETURNS jsonb LANGUAGE sql STABLE
SET jit = off SET work_mem = '64MB'
AS $$
WITH ex AS (
    SELECT id, status, started_at
    FROM flow_executions
    WHERE campaign_id = p_campaign_id AND deleted_at IS NULL
),
removed AS (
    -- Usually none or few: executions of contacts removed from the campaign.
    SELECT id FROM flow_executions
    WHERE campaign_id = p_campaign_id AND deleted_at IS NOT NULL
),
msg AS MATERIALIZED (
    SELECT m.execution_id, m.node_id, m.variant, m.status, m.direction,
           m.telegram_message_id, m.sent_at, m.read_at, m.created_at
    FROM messages m
    WHERE m.campaign_id = p_campaign_id
      AND m.execution_id IS NOT NULL
      AND m.execution_id NOT IN (SELECT id FROM removed)
),
out_msg AS (
    SELECT * FROM msg WHERE direction = 'out'
),
in_msg AS (
    SELECT execution_id, min(created_at) AS first_reply
    FROM msg WHERE direction = 'in'
    GROUP BY execution_id
),
c AS (
    SELECT
        count(*) AS total,
        count(*) FILTER (WHERE started_at IS NOT NULL) AS started,
        count(*) FILTER (WHERE status = 'completed') AS completed,
        count(*) FILTER (WHERE status = 'failed') AS failed,
        count(*) FILTER (WHERE status IN ('running', 'waiting')) AS active,
        count(*) FILTER (WHERE status = 'responded' OR r.execution_id IS NOT NULL)
            AS responded
    FROM ex LEFT JOIN in_msg r ON r.execution_id = ex.id
),
m AS (
    SELECT
        count(*) FILTER (WHERE status IN ('sent', 'failed')) AS sent,
        count(*) FILTER (WHERE status = 'failed') AS failed,
        count(*) FILTER (WHERE status = 'sent' AND telegram_message_id IS NOT NULL)
            AS delivered,
        count(*) FILTER (WHERE status = 'pending') AS not_sent,
        count(*) FILTER (WHERE read_at IS NOT NULL) AS read
    FROM out_msg
),
replied_msg AS (
    SELECT o.node_id, o.variant, o.execution_id,
           (i.first_reply IS NOT NULL AND i.first_reply >= o.sent_at) AS replied
    FROM out_msg o LEFT JOIN in_msg i ON i.execution_id = o.execution_id
    WHERE o.status = 'sent'
),
per_node AS (
    SELECT coalesce(jsonb_object_agg(node_id, jsonb_build_object(
        'sent', sent, 'replied', replied,
        'reply_rate', CASE WHEN sent = 0 THEN 0 ELSE round(100.0 * replied / sent, 2) END
    )), '{}'::jsonb) AS data
    FROM (SELECT node_id, count(*) AS sent,
                 count(*) FILTER (WHERE replied) AS replied
          FROM replied_msg GROUP BY node_id) n
),
per_variant AS (
    SELECT coalesce(jsonb_object_agg(variant, jsonb_build_object(
        'sent', sent, 'replied', replied,
        'reply_rate', CASE WHEN sent = 0 THEN 0 ELSE round(100.0 * replied / sent, 2) END
    )), '{}'::jsonb) AS data
    FROM (SELECT variant, count(*) AS sent,
                 count(*) FILTER (WHERE replied) AS replied
          FROM replied_msg WHERE variant IS NOT NULL GROUP BY variant) v
),
by_status AS (
    SELECT coalesce(jsonb_object_agg(status, n), '{}'::jsonb) AS data
    FROM (SELECT status, count(*) AS n FROM ex GROUP BY status) s
)
SELECT jsonb_build_object(
    'total_contacts', c.total,
    'contacts_started', c.started,
    'contacts_completed', c.completed,
    'contacts_failed', c.failed,
    'contacts_active', c.active,
    'contacts_responded', c.responded,
    'messages_sent', m.sent,
    'messages_failed', m.failed,
    'messages_delivered', m.delivered,
    'messages_not_sent', m.not_sent,
    'messages_read', m.read,
    'completion_rate',
        CASE WHEN c.total = 0 THEN 0 ELSE round(100.0 * c.completed / c.total, 2) END,
    'response_rate',
        CASE WHEN m.delivered = 0 THEN 0 ELSE round(100.0 * c.responded / m.delivered, 2) END,
    'delivery_rate',
        CASE WHEN m.sent = 0 THEN 0 ELSE round(100.0 * m.delivered / m.sent, 2) END,
    'read_rate',
        CASE WHEN m.delivered = 0 THEN 0 ELSE round(100.0 * m.read / m.delivered, 2) END,
    'executions_by_status', by_status.data,
    'per_node', per_node.data,
    'per_variant', per_variant.data
)
FROM c, m, by_status, per_node, per_variant
$$;
"""


def upgrade() -> None:
    op.create_table(
        "campaign_statistics_cache",
        sa.Column("campaign_id", sa.BigInteger(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign_flows.id"],
            name=op.f("fk_campaign_statistics_cache_campaign_id_campaign_flows"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaign_statistics_cache")),
    )
    op.execute(STATISTICS)
    # Newest-first pages and the feed walk (campaign, id) backwards.
    op.create_index(
        "ix_flow_execution_logs_campaign_id_desc",
        "flow_execution_logs",
        ["campaign_id", sa.text("id DESC")],
    )
    # Substring search: trigram indexes (every supported server ships pg_trgm, the
    # embedded one included); 0015 adds them where an earlier 0002 skipped them.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX ix_flow_execution_logs_text_trgm ON flow_execution_logs "
        "USING gin (message_text gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX ix_contacts_name_trgm ON contacts USING gin "
        "((coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || "
        "coalesce(username, '')) gin_trgm_ops)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_contacts_name_trgm")
    op.execute("DROP INDEX IF EXISTS ix_flow_execution_logs_text_trgm")
    op.drop_index("ix_flow_execution_logs_campaign_id_desc", table_name="flow_execution_logs")
    op.execute("DROP FUNCTION IF EXISTS get_campaign_statistics(bigint)")
    op.drop_table("campaign_statistics_cache")
