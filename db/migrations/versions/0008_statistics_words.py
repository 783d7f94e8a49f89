"""get_campaign_statistics(): one meaning per word, responded leads completed, waits counted

- `sent` means the same everywhere: attempts that reached Telegram (delivered or
  failed), in the totals and per node and per variant; `delivered` is what Telegram
  accepted with a message id; reply rates are replied / delivered.
- `contacts_completed` (and `completion_rate`) count leads that finished successfully:
  status `completed` or `responded` (a reply stops a lead by design).
- `messages_not_sent` counts planned sends not made yet: in flight (a claimed message
  still pending) or deferred (the lead waits on a deferral at a send node).
- `per_node` has every node where leads were sent to or wait now, with `waiting` (leads
  waiting at the node now) and `not_sent`.

Revision ID: 0008
Revises: 0006
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0008"
down_revision: str | None = "0006"
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
           -- Finished successfully: reached the end, or replied and was stopped by design.
           coalesce(sum(n) FILTER (WHERE status IN ('completed', 'responded')), 0) AS completed,
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
           count(*) FILTER (WHERE read_at IS NOT NULL) AS read
    FROM messages
    WHERE campaign_id = p_campaign_id AND direction = 'out' AND execution_id IS NOT NULL
      AND execution_id NOT IN (SELECT id FROM removed)
    GROUP BY GROUPING SETS ((), (node_id), (variant))
),
-- Delivered messages answered by the contact's first reply: only repliers' are read.
rep AS (
    SELECT GROUPING(m.node_id) AS g_node, m.node_id, m.variant, count(*) AS replied
    FROM first_reply r JOIN messages m ON m.execution_id = r.execution_id
    WHERE m.campaign_id = p_campaign_id AND m.direction = 'out' AND m.status = 'sent'
      AND m.telegram_message_id IS NOT NULL
      AND m.sent_at <= r.at AND m.execution_id NOT IN (SELECT id FROM removed)
    GROUP BY GROUPING SETS ((m.node_id), (m.variant))
),
open_ex AS MATERIALIZED (
    SELECT id, generation, status, current_node_id
    FROM flow_executions
    WHERE campaign_id = p_campaign_id AND deleted_at IS NULL
      AND status IN ('pending', 'running', 'waiting', 'paused')
),
-- Leads waiting now, with what put them to wait (their newest wait row).
waiting_now AS MATERIALIZED (
    SELECT e.id, e.current_node_id,
           (SELECT l.event_type FROM flow_execution_logs l
             WHERE l.execution_id = e.id AND l.generation = e.generation
               AND l.event_type IN ('deferred', 'delay_started', 'waiting_for_reply')
             ORDER BY l.executed_at DESC, l.id DESC LIMIT 1) AS wait_event
    FROM open_ex e WHERE e.status = 'waiting'
),
-- Planned sends not made yet: in flight (claimed, still pending) or deferred.
not_sent AS (
    SELECT m.execution_id, m.node_id
    FROM messages m JOIN open_ex e ON e.id = m.execution_id AND e.generation = m.generation
    WHERE m.campaign_id = p_campaign_id AND m.direction = 'out' AND m.status = 'pending'
    UNION
    SELECT id, current_node_id FROM waiting_now WHERE wait_event = 'deferred'
),
ns AS (SELECT node_id, count(*) AS n FROM not_sent GROUP BY node_id),
wn AS (
    SELECT current_node_id AS node_id, count(*) AS n
    FROM waiting_now WHERE current_node_id IS NOT NULL GROUP BY current_node_id
),
node_keys AS (
    SELECT node_id FROM g WHERE g_node = 0 AND g_variant = 1 AND node_id IS NOT NULL
    UNION SELECT node_id FROM ns WHERE node_id IS NOT NULL
    UNION SELECT node_id FROM wn
),
m AS (
    SELECT coalesce(sum(sent), 0) AS sent, coalesce(sum(failed), 0) AS failed,
           coalesce(sum(delivered), 0) AS delivered, coalesce(sum(read), 0) AS read,
           (SELECT count(*) FROM not_sent) AS not_sent
    FROM g WHERE g_node = 1 AND g_variant = 1
),
per_node AS (
    SELECT coalesce(jsonb_object_agg(k.node_id, jsonb_build_object(
        'sent', coalesce(g.sent, 0),
        'delivered', coalesce(g.delivered, 0),
        'failed', coalesce(g.failed, 0),
        'read', coalesce(g.read, 0),
        'not_sent', coalesce(ns.n, 0),
        'replied', coalesce(rep.replied, 0),
        'reply_rate', CASE WHEN coalesce(g.delivered, 0) = 0 THEN 0
                           ELSE round(100.0 * coalesce(rep.replied, 0) / g.delivered, 2) END,
        'waiting', coalesce(wn.n, 0)
    )), '{}'::jsonb) AS doc
    FROM node_keys k
    LEFT JOIN g ON g.g_node = 0 AND g.g_variant = 1 AND g.node_id = k.node_id
    LEFT JOIN rep ON rep.g_node = 0 AND rep.node_id = k.node_id
    LEFT JOIN ns ON ns.node_id = k.node_id
    LEFT JOIN wn ON wn.node_id = k.node_id
),
per_variant AS (
    SELECT coalesce(jsonb_object_agg(g.variant, jsonb_build_object(
        'sent', g.sent,
        'delivered', g.delivered,
        'failed', g.failed,
        'read', g.read,
        'replied', coalesce(rep.replied, 0),
        'reply_rate', CASE WHEN g.delivered = 0 THEN 0
                           ELSE round(100.0 * coalesce(rep.replied, 0) / g.delivered, 2) END
    )), '{}'::jsonb) AS doc
    FROM g LEFT JOIN rep ON rep.g_node = 1 AND rep.variant = g.variant
    WHERE g.g_node = 1 AND g.g_variant = 0 AND g.variant IS NOT NULL
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
    'per_node', pn.doc,
    'per_variant', pv.doc
)
FROM c, m, per_node pn, per_variant pv
$$;
"""


def upgrade() -> None:
    op.execute(STATISTICS)


def downgrade() -> None:
    spec = importlib.util.spec_from_file_location(
        "statistics_0004", Path(__file__).with_name("0004_faster_statistics.py")
    )
    assert spec is not None and spec.loader is not None
    previous = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(previous)
    op.execute(previous.STATISTICS)
