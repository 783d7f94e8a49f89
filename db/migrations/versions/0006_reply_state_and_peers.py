"""Telegram update state per account, the caught-up flag, resolved peers per account

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "telegram_accounts",
        sa.Column("update_state", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.add_column(
        "telegram_accounts",
        sa.Column("updates_caught_up", sa.Boolean(), server_default="false", nullable=False),
    )
    op.create_table(
        "telegram_peers",
        sa.Column("account_id", sa.BigInteger(), nullable=False),
        sa.Column("contact_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("access_hash", sa.BigInteger(), nullable=False),
        sa.Column(
            "resolved_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["telegram_accounts.id"],
            name=op.f("fk_telegram_peers_account_id_telegram_accounts"),
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_telegram_peers_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("account_id", "contact_id", name=op.f("pk_telegram_peers")),
    )


def downgrade() -> None:
    op.drop_table("telegram_peers")
    op.drop_column("telegram_accounts", "updates_caught_up")
    op.drop_column("telegram_accounts", "update_state")
