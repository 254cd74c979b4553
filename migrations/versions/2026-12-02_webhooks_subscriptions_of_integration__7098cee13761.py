"""webhooks: subscriptions of integration clients

Revision ID: 7098cee13761
Revises: 8e4a2b6c1d93
Create Date: 2026-12-02 14:07:12
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "7098cee13761"
down_revision: str | Sequence[str] | None = "8e4a2b6c1d93"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "webhooks_subscription",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("client_id", sa.Uuid(), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("event_types", postgresql.ARRAY(sa.String(length=50)), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "cardinality(event_types) > 0", name=op.f("ck_webhooks_subscription_has_event_types")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"],
            ["auth_client.id"],
            name=op.f("fk_webhooks_subscription_client_id_auth_client"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks_subscription")),
    )
    op.create_index(
        op.f("ix_webhooks_subscription_client_id"),
        "webhooks_subscription",
        ["client_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_webhooks_subscription_updated_at"),
        "webhooks_subscription",
        ["updated_at", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_webhooks_subscription_updated_at"), table_name="webhooks_subscription")
    op.drop_index(op.f("ix_webhooks_subscription_client_id"), table_name="webhooks_subscription")
    op.drop_table("webhooks_subscription")
