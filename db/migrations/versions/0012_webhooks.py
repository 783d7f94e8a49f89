"""webhooks, webhook_deliveries (the outbox), webhook_attempts, and the triggers that
write an event into the outbox in the same transaction as the fact it reports

Revision ID: 0012
Revises: 0011
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The receivers of one scope (organization, or a user's personal space) subscribed to
# one event type, and the outbox insert for them; every trigger below goes through these.
FUNCTIONS = """
CREATE FUNCTION webhook_subscribed(p_org bigint, p_user bigint, p_type text)
RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM webhooks w
        WHERE w.deleted_at IS NULL AND p_type = ANY (w.events)
          AND CASE WHEN p_org IS NULL THEN w.organization_id IS NULL AND w.user_id = p_user
                   ELSE w.organization_id = p_org END)
$$;

CREATE FUNCTION webhook_enqueue(
    p_org bigint, p_user bigint, p_campaign bigint, p_type text, p_data jsonb
) RETURNS void LANGUAGE sql AS $$
    INSERT INTO webhook_deliveries (webhook_id, campaign_id, event_id, event_type, payload)
    SELECT w.id, p_campaign, gen_random_uuid(), p_type, jsonb_strip_nulls(p_data)
    FROM webhooks w
    WHERE w.deleted_at IS NULL AND p_type = ANY (w.events)
      AND CASE WHEN p_org IS NULL THEN w.organization_id IS NULL AND w.user_id = p_user
               ELSE w.organization_id = p_org END
    ORDER BY w.id
$$;

CREATE FUNCTION webhook_contact(p_execution bigint) RETURNS jsonb LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', c.id, 'username', c.username, 'phone', c.phone,
        'telegram_user_id', c.telegram_user_id)
    FROM flow_executions e JOIN contacts c ON c.id = e.contact_id
    WHERE e.id = p_execution
$$;

CREATE FUNCTION webhook_log_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    camp record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhooks WHERE deleted_at IS NULL) THEN
        RETURN NULL;
    END IF;
    SELECT organization_id, created_by INTO camp FROM campaign_flows WHERE id = NEW.campaign_id;
    IF NOT webhook_subscribed(camp.organization_id, camp.created_by, NEW.event_type) THEN
        RETURN NULL;
    END IF;
    PERFORM webhook_enqueue(
        camp.organization_id, camp.created_by, NEW.campaign_id, NEW.event_type,
        jsonb_build_object(
            'campaign_id', NEW.campaign_id,
            'execution_id', NEW.execution_id,
            'contact', webhook_contact(NEW.execution_id),
            'node_id', NEW.node_id,
            'text', NEW.message_text,
            'telegram_message_id', NEW.details -> 'telegram_message_id',
            'variant', NEW.details -> 'variant',
            'category', NEW.details -> 'category',
            'occurred_at', NEW.executed_at));
    RETURN NULL;
END $$;

CREATE FUNCTION webhook_execution_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    camp record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM webhooks WHERE deleted_at IS NULL) THEN
        RETURN NULL;
    END IF;
    SELECT organization_id, created_by INTO camp FROM campaign_flows WHERE id = NEW.campaign_id;
    PERFORM webhook_enqueue(
        camp.organization_id, camp.created_by, NEW.campaign_id, 'execution_finished',
        jsonb_build_object(
            'campaign_id', NEW.campaign_id,
            'execution_id', NEW.id,
            'contact', webhook_contact(NEW.id),
            'status', NEW.status,
            'error_message', NEW.error_message,
            'node_id', NEW.current_node_id,
            'occurred_at', coalesce(NEW.completed_at, now())));
    RETURN NULL;
END $$;

CREATE FUNCTION webhook_campaign_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM webhook_enqueue(
        NEW.organization_id, NEW.created_by, NEW.id, 'campaign_status_changed',
        jsonb_build_object(
            'campaign_id', NEW.id,
            'name', NEW.name,
            'status', NEW.status,
            'previous_status', OLD.status,
            'reason', NEW.status_reason,
            'occurred_at', clock_timestamp()));
    RETURN NULL;
END $$;

CREATE FUNCTION webhook_account_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM webhook_enqueue(
        NEW.organization_id, NEW.user_id, NULL, 'account_health_changed',
        jsonb_build_object(
            'account_id', NEW.id,
            'phone', NEW.phone,
            'display_name', NEW.display_name,
            'status', NEW.status,
            'previous_status', OLD.status,
            'reason', NEW.status_reason,
            'flood_wait_until', NEW.flood_wait_until,
            'cooldown_until', NEW.cooldown_until,
            'occurred_at', clock_timestamp()));
    RETURN NULL;
END $$;
"""

TERMINAL = "('completed', 'responded', 'failed', 'cancelled', 'opted_out')"

TRIGGERS = f"""
CREATE TRIGGER webhook_log_events AFTER INSERT ON flow_execution_logs
    FOR EACH ROW
    WHEN (NEW.event_type IN ('message_sent', 'message_read', 'response_detected'))
    EXECUTE FUNCTION webhook_log_event();

-- Deferred to the commit: a lead's last message_sent and its finish are often written
-- by one statement, and the finish must come after it in the campaign's stream.
CREATE CONSTRAINT TRIGGER webhook_execution_events AFTER UPDATE OF status ON flow_executions
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN {TERMINAL})
    EXECUTE FUNCTION webhook_execution_event();

CREATE TRIGGER webhook_campaign_events AFTER UPDATE OF status ON campaign_flows
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION webhook_campaign_event();

CREATE TRIGGER webhook_account_events AFTER UPDATE OF status ON telegram_accounts
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION webhook_account_event();
"""


def _timestamps(*names: str) -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(name, sa.DateTime(timezone=True), nullable=True) for name in names]


def _created_at() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "webhooks",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("events", postgresql.ARRAY(sa.String(length=32)), nullable=False),
        sa.Column("secret_encrypted", sa.LargeBinary(), nullable=False),
        _created_at(),
        *_timestamps("deleted_at"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_webhooks_user_id_users")),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_webhooks_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks")),
    )
    op.create_index("ix_webhooks_scope", "webhooks", ["organization_id", "user_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("webhook_id", sa.BigInteger(), nullable=False),
        sa.Column("campaign_id", sa.BigInteger(), nullable=True),
        sa.Column("event_id", postgresql.UUID(as_uuid=False), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.String(length=16), server_default="pending", nullable=False),
        _created_at(),
        *_timestamps("delivered_at", "redelivered_at"),
        sa.ForeignKeyConstraint(
            ["webhook_id"], ["webhooks.id"], name=op.f("fk_webhook_deliveries_webhook_id_webhooks")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
        sa.UniqueConstraint("event_id", name=op.f("uq_webhook_deliveries_event_id")),
    )
    op.create_index(
        "ix_webhook_deliveries_pending_stream",
        "webhook_deliveries",
        ["webhook_id", sa.text("coalesce(campaign_id, 0)"), "id"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_webhook_deliveries_webhook", "webhook_deliveries", ["webhook_id", "id"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "attempted_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("manual", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhook_deliveries.id"],
            name=op.f("fk_webhook_attempts_delivery_id_webhook_deliveries"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_attempts")),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["delivery_id", "id"])
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)


def downgrade() -> None:
    op.execute("DROP TRIGGER webhook_account_events ON telegram_accounts")
    op.execute("DROP TRIGGER webhook_campaign_events ON campaign_flows")
    op.execute("DROP TRIGGER webhook_execution_events ON flow_executions")
    op.execute("DROP TRIGGER webhook_log_events ON flow_execution_logs")
    for fn in (
        "webhook_account_event()",
        "webhook_campaign_event()",
        "webhook_execution_event()",
        "webhook_log_event()",
        "webhook_contact(bigint)",
        "webhook_enqueue(bigint, bigint, bigint, text, jsonb)",
        "webhook_subscribed(bigint, bigint, text)",
    ):
        op.execute(f"DROP FUNCTION {fn}")
    op.drop_table("webhook_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
