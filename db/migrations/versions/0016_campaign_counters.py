"""campaign_counters: exact statistics in real time, kept by triggers (issue 19 item 6)

A `campaign_counters` row per campaign, key and shard holds a count; triggers on
`flow_executions` and `messages` add +1/-1 per key in the fact's own transaction
(shard = execution id % 8, so concurrent sends of one campaign seldom wait on one row).
The triggers are statement-level (transition tables): one upsert per statement, and
an UPDATE that leaves every counted column alone writes nothing.

Keys: `exec:<status>` and `started` (executions not removed: deleted_at IS NULL);
`msg:<what>`, `msg:<what>:node:<node_id>`, `msg:<what>:variant:<variant>` for outbound
messages with an execution, what in n (every row), sent (sent or failed), failed,
delivered (sent with a Telegram message id), read (read_at set).

get_campaign_statistics_live() answers exactly what get_campaign_statistics() (0008)
answers: the execution and message counts come from the counters (minus the messages of
removed executions, usually none), the rest (replies, waiting and not-sent leads) from
the same queries as 0008's.

Revision ID: 0016
Revises: 0015
"""

import importlib.util
from collections.abc import Sequence
from pathlib import Path

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = """
CREATE TABLE campaign_counters (
    campaign_id bigint NOT NULL,
    key text NOT NULL,
    shard smallint NOT NULL,
    value bigint NOT NULL,
    PRIMARY KEY (campaign_id, key, shard)
) WITH (fillfactor = 50);
-- The statistics' `removed` executions (usually none) found without a scan.
CREATE INDEX ix_flow_executions_removed ON flow_executions (campaign_id)
    WHERE deleted_at IS NOT NULL;
"""

KEYS = r"""
CREATE FUNCTION message_counter_keys(
    direction text, execution_id bigint, campaign_id bigint, node_id text, variant text,
    status text, telegram_message_id bigint, read_at timestamptz
) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN direction = 'out' AND execution_id IS NOT NULL
                     AND campaign_id IS NOT NULL THEN
        array(SELECT 'msg:' || w || d
              FROM unnest(ARRAY[
                       'n',
                       CASE WHEN status IN ('sent', 'failed') THEN 'sent' END,
                       CASE WHEN status = 'failed' THEN 'failed' END,
                       CASE WHEN status = 'sent' AND telegram_message_id IS NOT NULL
                            THEN 'delivered' END,
                       CASE WHEN read_at IS NOT NULL THEN 'read' END]) AS w,
                   unnest(ARRAY['', ':node:' || node_id, ':variant:' || variant]) AS d
              WHERE w IS NOT NULL AND d IS NOT NULL)
    ELSE '{}'::text[] END
$$;

CREATE FUNCTION execution_counter_keys(status text, started_at timestamptz,
                                       deleted_at timestamptz)
RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN deleted_at IS NOT NULL THEN '{}'::text[]
                WHEN started_at IS NOT NULL THEN ARRAY['exec:' || status, 'started']
                ELSE ARRAY['exec:' || status] END
$$;
"""

TRIGGERS = r"""
-- Statement-level, over the statement's transition tables: one upsert per statement
-- and (campaign, key, shard), so a bulk statement (a launch's page of executions, a
-- stop's status change) touches each counter row once. Row-level triggers updated a
-- counter row once per fact, and repeated updates of one row in one transaction walk
-- an ever longer chain of versions (quadratic: a 20,000-row seed took 397 s).
CREATE FUNCTION count_executions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO campaign_counters AS t (campaign_id, key, shard, value)
        SELECT n.campaign_id, k, (n.id % 8)::smallint, count(*)
        FROM new_rows n, unnest(execution_counter_keys(n.status, n.started_at, n.deleted_at)) k
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (campaign_id, key, shard) DO UPDATE SET value = t.value + EXCLUDED.value;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO campaign_counters AS t (campaign_id, key, shard, value)
        SELECT o.campaign_id, k, (o.id % 8)::smallint, -count(*)
        FROM old_rows o, unnest(execution_counter_keys(o.status, o.started_at, o.deleted_at)) k
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (campaign_id, key, shard) DO UPDATE SET value = t.value + EXCLUDED.value;
    ELSE
        -- Only rows whose counted columns changed; none, and nothing is written.
        INSERT INTO campaign_counters AS t (campaign_id, key, shard, value)
        SELECT campaign_id, key, shard, sum(d)
        FROM (SELECT o.campaign_id, k, (o.id % 8)::smallint, -1
              FROM old_rows o JOIN new_rows n USING (id),
                   unnest(execution_counter_keys(o.status, o.started_at, o.deleted_at)) k
              WHERE (o.status, o.started_at IS NULL, o.deleted_at IS NULL, o.campaign_id)
                    IS DISTINCT FROM
                    (n.status, n.started_at IS NULL, n.deleted_at IS NULL, n.campaign_id)
              UNION ALL
              SELECT n.campaign_id, k, (n.id % 8)::smallint, 1
              FROM old_rows o JOIN new_rows n USING (id),
                   unnest(execution_counter_keys(n.status, n.started_at, n.deleted_at)) k
              WHERE (o.status, o.started_at IS NULL, o.deleted_at IS NULL, o.campaign_id)
                    IS DISTINCT FROM
                    (n.status, n.started_at IS NULL, n.deleted_at IS NULL, n.campaign_id))
             AS u(campaign_id, key, shard, d)
        GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (campaign_id, key, shard) DO UPDATE SET value = t.value + EXCLUDED.value;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION count_messages() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO campaign_counters AS t (campaign_id, key, shard, value)
        SELECT n.campaign_id, k, (n.execution_id % 8)::smallint, count(*)
        FROM new_rows n,
             unnest(message_counter_keys(n.direction, n.execution_id, n.campaign_id,
                                         n.node_id, n.variant, n.status,
                                         n.telegram_message_id, n.read_at)) k
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (campaign_id, key, shard) DO UPDATE SET value = t.value + EXCLUDED.value;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO campaign_counters AS t (campaign_id, key, shard, value)
        SELECT o.campaign_id, k, (o.execution_id % 8)::smallint, -count(*)
        FROM old_rows o,
             unnest(message_counter_keys(o.direction, o.execution_id, o.campaign_id,
                                         o.node_id, o.variant, o.status,
                                         o.telegram_message_id, o.read_at)) k
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (campaign_id, key, shard) DO UPDATE SET value = t.value + EXCLUDED.value;
    ELSE
        INSERT INTO campaign_counters AS t (campaign_id, key, shard, value)
        SELECT campaign_id, key, shard, sum(d)
        FROM (SELECT o.campaign_id, k, (o.execution_id % 8)::smallint, -1
              FROM old_rows o JOIN new_rows n USING (id),
                   unnest(message_counter_keys(o.direction, o.execution_id, o.campaign_id,
                                               o.node_id, o.variant, o.status,
                                               o.telegram_message_id, o.read_at)) k
              WHERE (o.status, o.telegram_message_id IS NULL, o.read_at IS NULL,
                     o.direction, o.execution_id, o.campaign_id, o.node_id, o.variant)
                    IS DISTINCT FROM
                    (n.status, n.telegram_message_id IS NULL, n.read_at IS NULL,
                     n.direction, n.execution_id, n.campaign_id, n.node_id, n.variant)
              UNION ALL
              SELECT n.campaign_id, k, (n.execution_id % 8)::smallint, 1
              FROM old_rows o JOIN new_rows n USING (id),
                   unnest(message_counter_keys(n.direction, n.execution_id, n.campaign_id,
                                               n.node_id, n.variant, n.status,
                                               n.telegram_message_id, n.read_at)) k
              WHERE (o.status, o.telegram_message_id IS NULL, o.read_at IS NULL,
                     o.direction, o.execution_id, o.campaign_id, o.node_id, o.variant)
                    IS DISTINCT FROM
                    (n.status, n.telegram_message_id IS NULL, n.read_at IS NULL,
                     n.direction, n.execution_id, n.campaign_id, n.node_id, n.variant))
             AS u(campaign_id, key, shard, d)
        GROUP BY 1, 2, 3 HAVING sum(d) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (campaign_id, key, shard) DO UPDATE SET value = t.value + EXCLUDED.value;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER count_executions_insert AFTER INSERT ON flow_executions
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_executions();
CREATE TRIGGER count_executions_update AFTER UPDATE ON flow_executions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_executions();
CREATE TRIGGER count_executions_delete AFTER DELETE ON flow_executions
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_executions();
CREATE TRIGGER count_messages_insert AFTER INSERT ON messages
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_messages();
CREATE TRIGGER count_messages_update AFTER UPDATE ON messages
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_messages();
CREATE TRIGGER count_messages_delete AFTER DELETE ON messages
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION count_messages();
"""

# The triggers hold their tables' SHARE ROW EXCLUSIVE locks until the migration commits,
# so no write falls between the backfill and the first counted fact.
BACKFILL = """
INSERT INTO campaign_counters (campaign_id, key, shard, value)
SELECT campaign_id, key, shard, count(*)
FROM (
    SELECT e.campaign_id, k AS key, (e.id % 8)::smallint AS shard
    FROM flow_executions e,
         unnest(execution_counter_keys(e.status, e.started_at, e.deleted_at)) k
    UNION ALL
    SELECT m.campaign_id, k, (m.execution_id % 8)::smallint
    FROM messages m,
         unnest(message_counter_keys(m.direction, m.execution_id, m.campaign_id, m.node_id,
                                     m.variant, m.status, m.telegram_message_id,
                                     m.read_at)) k
    WHERE m.direction = 'out' AND m.execution_id IS NOT NULL AND m.campaign_id IS NOT NULL
) facts
GROUP BY campaign_id, key, shard;
"""

# 0008's st and g, from the counters instead of the facts.
COUNTED_ST = """st AS (
    SELECT substr(key, 6) AS status, v AS n
    FROM counted WHERE key LIKE 'exec:%' AND v <> 0
),
c AS (
    SELECT coalesce(sum(n), 0) AS total,
           coalesce((SELECT v FROM counted WHERE key = 'started'), 0) AS started,"""
COUNTED_G = """-- The removed executions' messages (usually none), taken off the counters below.
g_removed AS (
    SELECT GROUPING(node_id) AS g_node, GROUPING(variant) AS g_variant, node_id, variant,
           count(*) AS n,
           count(*) FILTER (WHERE status IN ('sent', 'failed')) AS sent,
           count(*) FILTER (WHERE status = 'failed') AS failed,
           count(*) FILTER (WHERE status = 'sent' AND telegram_message_id IS NOT NULL)
               AS delivered,
           count(*) FILTER (WHERE read_at IS NOT NULL) AS read
    FROM messages
    WHERE campaign_id = p_campaign_id AND direction = 'out'
      AND execution_id IN (SELECT id FROM removed)
    GROUP BY GROUPING SETS ((), (node_id), (variant))
),
g_parts AS (
    SELECT CASE WHEN d = 'node' THEN 0 ELSE 1 END AS g_node,
           CASE WHEN d = 'variant' THEN 0 ELSE 1 END AS g_variant,
           CASE WHEN d = 'node' THEN val END AS node_id,
           CASE WHEN d = 'variant' THEN val END AS variant, what, v
    FROM (SELECT split_part(key, ':', 2) AS what, split_part(key, ':', 3) AS d,
                 substr(key, length(split_part(key, ':', 2))
                             + length(split_part(key, ':', 3)) + 7) AS val, v
          FROM counted WHERE key LIKE 'msg:%') k
    UNION ALL
    SELECT r.g_node, r.g_variant, r.node_id, r.variant, x.what, -x.v
    FROM g_removed r, LATERAL (VALUES ('n', r.n), ('sent', r.sent), ('failed', r.failed),
                                      ('delivered', r.delivered), ('read', r.read)) x(what, v)
),
g AS (
    SELECT g_node, g_variant, node_id, variant,
           coalesce(sum(v) FILTER (WHERE what = 'sent'), 0)::bigint AS sent,
           coalesce(sum(v) FILTER (WHERE what = 'failed'), 0)::bigint AS failed,
           coalesce(sum(v) FILTER (WHERE what = 'delivered'), 0)::bigint AS delivered,
           coalesce(sum(v) FILTER (WHERE what = 'read'), 0)::bigint AS read
    FROM g_parts
    GROUP BY g_node, g_variant, node_id, variant
    HAVING coalesce(sum(v) FILTER (WHERE what = 'n'), 0) > 0
),"""
COUNTED = """counted AS MATERIALIZED (
    SELECT key, sum(value)::bigint AS v
    FROM campaign_counters WHERE campaign_id = p_campaign_id
    GROUP BY key
),
first_reply AS MATERIALIZED ("""


def _statistics_0008() -> str:
    spec = importlib.util.spec_from_file_location(
        "statistics_0008", Path(__file__).with_name("0008_statistics_words.py")
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.STATISTICS)


def live_statistics() -> str:
    """0008's function under a new name, its st/c head and g read from the counters."""
    sql = _statistics_0008()
    start_st = sql.index("st AS (")
    end_st = sql.index("coalesce(sum(started), 0) AS started,") + len(
        "coalesce(sum(started), 0) AS started,"
    )
    # replied_elsewhere sits between st and c: keep it.
    head = sql[start_st:end_st]
    replied_elsewhere = head[head.index("-- Contacts that replied") : head.index("c AS (")]
    sql = (
        sql[:start_st] + COUNTED_ST.replace("c AS (", replied_elsewhere + "c AS (") + (sql[end_st:])
    )
    start_g = sql.index("g AS (\n    SELECT GROUPING(node_id)")
    end_g = sql.index("-- Delivered messages answered")
    sql = sql[:start_g] + COUNTED_G + "\n" + sql[end_g:]
    sql = sql.replace("first_reply AS MATERIALIZED (", COUNTED, 1)
    sql = sql.replace("get_campaign_statistics(", "get_campaign_statistics_live(", 1)
    assert "count(*) FILTER (WHERE started_at" not in sql and "FROM campaign_counters" in sql
    return sql


def upgrade() -> None:
    op.execute(TABLE)
    op.execute(KEYS)
    op.execute(TRIGGERS)
    op.execute(BACKFILL)
    op.execute(live_statistics())


def downgrade() -> None:
    op.execute("DROP FUNCTION get_campaign_statistics_live(bigint)")
    for table in ("messages", "flow_executions"):
        for op_name in ("insert", "update", "delete"):
            short = "messages" if table == "messages" else "executions"
            op.execute(f"DROP TRIGGER count_{short}_{op_name} ON {table}")
    op.execute("DROP FUNCTION count_messages(), count_executions()")
    op.execute("DROP FUNCTION message_counter_keys")
    op.execute("DROP FUNCTION execution_counter_keys")
    op.execute("DROP TABLE campaign_counters")
    op.execute("DROP INDEX ix_flow_executions_removed")
