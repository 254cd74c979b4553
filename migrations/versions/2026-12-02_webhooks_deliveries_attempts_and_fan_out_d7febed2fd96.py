"""webhooks: deliveries, attempts, leases, the fan-out position, the outbox notification

Revision ID: d7febed2fd96
Revises: 7098cee13761
Create Date: 2026-12-02 17:17:02.566563
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d7febed2fd96"
down_revision: str | Sequence[str] | None = "7098cee13761"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Tells listening workers that events were written, so webhooks go out at once; only while
# some subscription is active, since a NOTIFY serializes the commits that send one.
NOTIFY_FUNCTION = """
CREATE FUNCTION webhooks_notify_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM webhooks_subscription WHERE is_active) THEN
        PERFORM pg_notify('webhooks_outbox', '');
    END IF;
    RETURN NULL;
END
$$
"""
NOTIFY_TRIGGER = (
    "CREATE TRIGGER webhooks_notify_outbox AFTER INSERT ON events_outbox "
    "FOR EACH STATEMENT EXECUTE FUNCTION webhooks_notify_outbox()"
)


def upgrade() -> None:
    op.create_table(
        "webhooks_fan_out",
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("txid", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_webhooks_fan_out_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks_fan_out")),
    )
    op.execute("INSERT INTO webhooks_fan_out (id, txid, position) VALUES (1, 0, 0)")
    op.create_table(
        "webhooks_delivery",
        sa.Column("id", sa.Uuid(), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("subscription_id", sa.Uuid(), nullable=False),
        sa.Column("event_position", sa.BigInteger(), nullable=False),
        sa.Column("replay_of", sa.Uuid(), nullable=True),
        sa.Column(
            "status", sa.String(length=20), server_default=sa.text("'pending'"), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=True,
        ),
        sa.Column("retry_until", sa.DateTime(timezone=True), nullable=False),
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
            "(status = 'pending') = (next_attempt_at IS NOT NULL)",
            name=op.f("ck_webhooks_delivery_pending_has_next"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')",
            name=op.f("ck_webhooks_delivery_known_status"),
        ),
        sa.ForeignKeyConstraint(
            ["event_position"],
            ["events_outbox.position"],
            name=op.f("fk_webhooks_delivery_event_position_events_outbox"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["replay_of"],
            ["webhooks_delivery.id"],
            name=op.f("fk_webhooks_delivery_replay_of_webhooks_delivery"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhooks_subscription.id"],
            name=op.f("fk_webhooks_delivery_subscription_id_webhooks_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhooks_delivery")),
        sa.UniqueConstraint("seq", name=op.f("uq_webhooks_delivery_seq")),
    )
    op.create_index(
        op.f("ix_webhooks_delivery_event_position"),
        "webhooks_delivery",
        ["event_position"],
        unique=False,
    )
    op.create_index(
        "ix_webhooks_delivery_pending",
        "webhooks_delivery",
        ["subscription_id", "seq"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_webhooks_delivery_once_per_event",
        "webhooks_delivery",
        ["subscription_id", "event_position"],
        unique=True,
        postgresql_where=sa.text("replay_of IS NULL"),
    )
    op.create_index(
        "ix_webhooks_delivery_log",
        "webhooks_delivery",
        ["subscription_id", "updated_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_webhooks_delivery_updated_at"), "webhooks_delivery", ["updated_at"], unique=False
    )
    op.create_table(
        "webhooks_attempt",
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=True),
        sa.Column("error", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["webhooks_delivery.id"],
            name=op.f("fk_webhooks_attempt_delivery_id_webhooks_delivery"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("delivery_id", "number", name=op.f("pk_webhooks_attempt")),
    )
    op.create_table(
        "webhooks_lease",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_webhooks_lease")),
    )
    op.add_column(
        "webhooks_subscription", sa.Column("paused_reason", sa.String(length=200), nullable=True)
    )
    op.add_column(
        "webhooks_subscription",
        sa.Column(
            "consecutive_failures", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
    )
    op.add_column(
        "webhooks_subscription",
        sa.Column(
            "from_txid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
            nullable=False,
        ),
    )
    op.execute(NOTIFY_FUNCTION)
    op.execute(NOTIFY_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER webhooks_notify_outbox ON events_outbox")
    op.execute("DROP FUNCTION webhooks_notify_outbox()")
    op.drop_column("webhooks_subscription", "from_txid")
    op.drop_column("webhooks_subscription", "consecutive_failures")
    op.drop_column("webhooks_subscription", "paused_reason")
    op.drop_table("webhooks_lease")
    op.drop_table("webhooks_attempt")
    op.drop_index(op.f("ix_webhooks_delivery_updated_at"), table_name="webhooks_delivery")
    op.drop_index("ix_webhooks_delivery_once_per_event", table_name="webhooks_delivery")
    op.drop_index("ix_webhooks_delivery_log", table_name="webhooks_delivery")
    op.drop_index(
        "ix_webhooks_delivery_pending",
        table_name="webhooks_delivery",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_index(op.f("ix_webhooks_delivery_event_position"), table_name="webhooks_delivery")
    op.drop_table("webhooks_delivery")
    op.drop_table("webhooks_fan_out")
