"""do_not_contact, reply_rules and messages.reply_category: opt-outs per scope

Revision ID: 0010
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "do_not_contact",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), server_default="manual", nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_do_not_contact_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_do_not_contact_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_do_not_contact")),
    )
    op.create_index(
        "uq_do_not_contact_scope_handle",
        "do_not_contact",
        [
            sa.text("coalesce(organization_id, 0)"),
            sa.text("(CASE WHEN organization_id IS NULL THEN user_id ELSE 0 END)"),
            "kind",
            "value",
        ],
        unique=True,
    )
    op.create_index("ix_do_not_contact_kind_value", "do_not_contact", ["kind", "value"])
    op.create_table(
        "reply_rules",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("organization_id", sa.BigInteger(), nullable=True),
        sa.Column("rules", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_reply_rules_user_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_reply_rules_organization_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_rules")),
    )
    op.create_index(
        "uq_reply_rules_scope",
        "reply_rules",
        [
            sa.text("coalesce(organization_id, 0)"),
            sa.text("(CASE WHEN organization_id IS NULL THEN user_id ELSE 0 END)"),
        ],
        unique=True,
    )
    op.add_column("messages", sa.Column("reply_category", sa.String(length=16), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "reply_category")
    op.drop_table("reply_rules")
    op.drop_table("do_not_contact")
