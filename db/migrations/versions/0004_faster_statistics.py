"""get_campaign_statistics(): one pass over the messages instead of five

The first version materialized the campaign's messages and scanned them again for
every metric; at 100,000 executions and 300,000 messages it took ~400 ms. This one
reads the executions once, the outgoing messages once (grouping sets give the
totals and the per-node and per-variant counts together) and, for reply rates, only
the messages of contacts who replied. The result is the same document.

Revision ID: 0004
Revises: 0003
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATISTICS = r"""
CREATE OR REPLACE FUNCTION get_campaign_statistics(p_campaign_id bigint)
RETURNS jsonb LANGUAGE sql STABLE
SET jit = off SET work_mem = '64MB'
AS $$
WITH removed AS MATERIALIZED (
    -- Usually none or few: executions of contacts removed from the campaign.
    SELECT id FROM flow_executions
    WHERE campaign_id = p_campaign_id AND deleted_at IS NOT NULL
),
first_reply AS MATERIALIZED (
    SELECT execution_id, min(created_at) AS at
    FROM messages
    WHERE campaign_id = p_campaign_id AND direction = 'in' AND execution_id IS NOT NULL
    GROUP BY execution_id
),
st AS (
    SELECT status, count(*) AS n, count(*) FILTER (WHERE started_at IS NOT NULL) AS started
    FROM flow_executions
    WHERE campaign_id = p_campaign_id AND deleted_at IS NULL
    GROUP BY status
),
-- Contacts that replied although their execution ended with another status.
replied_elsewhere AS (
    SELECT count(*) AS n
    FROM first_reply r JOIN flow_executions e ON e.id = r.execution_id
    WHERE e.campaign_id = p_campaign_id AND e.deleted_at IS NULL AND e.status <> 'responded'
),
c AS (
    SELECT coalesce(sum(n), 0) AS total,
           coalesce(sum(started), 0) AS started,
           coalesce(sum(n) FILTER (WHERE status = 'completed'), 0) AS completed,
           coalesce(sum(n) FILTER (WHERE status = 'failed'), 0) AS failed,
           coalesce(sum(n) FILTER (WHERE status IN ('running', 'waiting')), 0) AS active,
           coalesce(sum(n) FILTER (WHERE status = 'responded'), 0)
               + (SELECT n FROM replied_elsewhere) AS responded,
           coalesce(jsonb_object_agg(status, n), '{}'::jsonb) AS by_status
    FROM st
),
g AS (
    SELECT GROUPING(node_id) AS g_node, GROUPING(variant) AS g_variant, node_id, variant,
           count(*) FILTER (WHERE status IN ('sent', 'failed')) AS sent,
           count(*) FILTER (WHERE status = 'failed') AS failed,
           count(*) FILTER (WHERE status = 'sent' AND telegram_message_id IS NOT NULL)
               AS delivered,
           count(*) FILTER (WHERE status = 'pending') AS not_sent,
           count(*) FILTER (WHERE read_at IS NOT NULL) AS read,
           count(*) FILTER (WHERE status = 'sent') AS accepted
    FROM messages
    WHERE campaign_id = p_campaign_id AND direction = 'out' AND execution_id IS NOT NULL
      AND execution_id NOT IN (SELECT id FROM removed)
    GROUP BY GROUPING SETS ((), (node_id), (variant))
),
-- Sent messages answered by the contact's first reply: only repliers' messages are read.
rep AS (
    SELECT GROUPING(m.node_id) AS g_node, m.node_id, m.variant, count(*) AS replied
    FROM first_reply r JOIN messages m ON m.execution_id = r.execution_id
    WHERE m.campaign_id = p_campaign_id AND m.direction = 'out' AND m.status = 'sent'
      AND m.sent_at <= r.at AND m.execution_id NOT IN (SELECT id FROM removed)
    GROUP BY GROUPING SETS ((m.node_id), (m.variant))
),
rated AS (
    SELECT g.g_node, g.g_variant, g.node_id, g.variant, g.accepted,
           coalesce(rep.replied, 0) AS replied
    FROM g LEFT JOIN rep
      ON rep.g_node = g.g_node
     AND rep.node_id IS NOT DISTINCT FROM g.node_id
     AND rep.variant IS NOT DISTINCT FROM g.variant
    WHERE g.g_node + g.g_variant = 1 AND g.accepted > 0
),
m AS (
    SELECT coalesce(sum(sent), 0) AS sent, coalesce(sum(failed), 0) AS failed,
           coalesce(sum(delivered), 0) AS delivered, coalesce(sum(not_sent), 0) AS not_sent,
           coalesce(sum(read), 0) AS read
    FROM g WHERE g_node = 1 AND g_variant = 1
),
breakdown AS (
    SELECT
        coalesce(jsonb_object_agg(node_id, jsonb_build_object(
            'sent', accepted, 'replied', replied,
            'reply_rate', round(100.0 * replied / accepted, 2)
        )) FILTER (WHERE g_node = 0 AND node_id IS NOT NULL), '{}'::jsonb) AS per_node,
        coalesce(jsonb_object_agg(variant, jsonb_build_object(
            'sent', accepted, 'replied', replied,
            'reply_rate', round(100.0 * replied / accepted, 2)
        )) FILTER (WHERE g_variant = 0 AND variant IS NOT NULL), '{}'::jsonb) AS per_variant
    FROM rated
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
    'executions_by_status', c.by_status,
    'per_node', b.per_node,
    'per_variant', b.per_variant
)
FROM c, m, breakdown b
$$;
"""


def upgrade() -> None:
    op.execute(STATISTICS)


def downgrade() -> None:
    spec = importlib.util.spec_from_file_location(
        "statistics_0002", Path(__file__).with_name("0002_statistics.py")
    )
    assert spec is not None and spec.loader is not None
    previous = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(previous)
    op.execute(previous.STATISTICS)
