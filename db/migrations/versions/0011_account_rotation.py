"""Account rotation and warm-up: campaigns' accounts, leads pinned to one, caps on new
conversations with a warm-up ramp

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "campaign_flows",
        sa.Column("telegram_account_ids", postgresql.ARRAY(sa.BigInteger()), nullable=True),
    )
    op.execute(
        "UPDATE campaign_flows SET telegram_account_ids = ARRAY[telegram_account_id] "
        "WHERE telegram_account_id IS NOT NULL"
    )
    op.add_column(
        "flow_executions", sa.Column("telegram_account_id", sa.BigInteger(), nullable=True)
    )
    op.create_foreign_key(
        op.f("fk_flow_executions_telegram_account_id_telegram_accounts"),
        "flow_executions",
        "telegram_accounts",
        ["telegram_account_id"],
        ["id"],
    )
    op.create_index(
        "ix_flow_executions_account_open",
        "flow_executions",
        ["telegram_account_id"],
        postgresql_where=sa.text("status IN ('pending', 'running', 'waiting', 'paused')"),
    )
    for name in (
        "warmup_start_per_day",
        "warmup_increase_per_day",
        "warmup_max_per_day",
    ):
        op.add_column("telegram_accounts", sa.Column(name, sa.Integer(), nullable=True))
    op.add_column(
        "telegram_accounts",
        sa.Column("first_sent_at", sa.DateTime(timezone=True), nullable=True),
    )
    # Accounts that sent before this revision: their warm-up counts from their first
    # recorded message.
    op.execute(
        "UPDATE telegram_accounts a SET first_sent_at = m.first FROM ("
        " SELECT account_id, min(sent_at) AS first FROM messages"
        " WHERE direction = 'out' AND status = 'sent' GROUP BY account_id"
        ") m WHERE m.account_id = a.id"
    )
    op.create_table(
        "account_conversations",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column(
            "started_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["telegram_accounts.id"],
            name=op.f("fk_account_conversations_account_id_telegram_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"],
            ["contacts.id"],
            name=op.f("fk_account_conversations_contact_id_contacts"),
        ),
        sa.PrimaryKeyConstraint("account_id", "contact_id", name=op.f("pk_account_conversations")),
    )
    op.create_index(
        "ix_account_conversations_started", "account_conversations", ["account_id", "started_at"]
    )
    # Leads an account has already written to are not new conversations for it.
    op.execute(
        "INSERT INTO account_conversations (account_id, contact_id, started_at)"
        " SELECT account_id, contact_id, min(sent_at) FROM messages"
        " WHERE direction = 'out' AND status = 'sent' AND account_id IS NOT NULL"
        " AND contact_id IS NOT NULL AND sent_at IS NOT NULL"
        " GROUP BY account_id, contact_id ON CONFLICT DO NOTHING"
    )


def downgrade() -> None:
    op.drop_index("ix_account_conversations_started", table_name="account_conversations")
    op.drop_table("account_conversations")
    op.drop_column("telegram_accounts", "first_sent_at")
    for name in ("warmup_max_per_day", "warmup_increase_per_day", "warmup_start_per_day"):
        op.drop_column("telegram_accounts", name)
    op.drop_index("ix_flow_executions_account_open", table_name="flow_executions")
    op.drop_constraint(
        op.f("fk_flow_executions_telegram_account_id_telegram_accounts"),
        "flow_executions",
        type_="foreignkey",
    )
    op.drop_column("flow_executions", "telegram_account_id")
    op.drop_column("campaign_flows", "telegram_account_ids")
