"""pg_trgm and the search's trigram indexes on every database

Migration 0002 used to skip them when the server had no pg_trgm (the earlier embedded
server); such a database gets them here. A server without the extension fails this
migration with what to install, rather than searching unindexed.

Revision ID: 0015
Revises: 0013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    available = (
        op.get_bind()
        .execute(sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'"))
        .scalar()
    )
    if not available:
        raise RuntimeError(
            "this PostgreSQL server has no pg_trgm extension, which the log and contact "
            "search index needs: install the server's contrib package (Debian: "
            "postgresql-contrib) or use the embedded server (unset DATABASE_URL)"
        )
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_flow_execution_logs_text_trgm ON flow_execution_logs "
        "USING gin (message_text gin_trgm_ops)"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_contacts_name_trgm ON contacts USING gin "
        "((coalesce(first_name, '') || ' ' || coalesce(last_name, '') || ' ' || "
        "coalesce(username, '')) gin_trgm_ops)"
    )


def downgrade() -> None:
    # 0002 owns the indexes on databases whose server had pg_trgm then: keep them.
    pass
