"""identity: one id space for people and clients, and token revocation that sticks

Revision ID: 9d3c1e7a5b20
Revises: 62c57fce3877
Create Date: 2026-11-23 07:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "9d3c1e7a5b20"
down_revision: str | Sequence[str] | None = "62c57fce3877"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Revocations are announced on the channel auth_tokens_revoked as "<kind>:<id> <generation>";
# every API process listens (app/domain/identity/revocation.py, app/db/notifications.py).
FUNCTIONS = (
    """
CREATE FUNCTION auth_principal_lock_key(principal uuid) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT hashtextextended('auth_principal:' || principal::text, 0)
$$;
""",
    """
-- Revokes every token of a principal: access tokens by bumping the generation they must carry,
-- refresh tokens by row. The exclusive lock waits for the principal's write requests already
-- running (they hold it shared) and holds off new ones until this transaction ends, so no
-- change is ever authorised by a token this revokes. Other processes learn of it on commit.
CREATE FUNCTION auth_revoke_tokens(principal uuid) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    generation integer;
    holder_kind text;
BEGIN
    PERFORM pg_advisory_xact_lock(auth_principal_lock_key(principal));
    UPDATE auth_principal SET token_generation = token_generation + 1
     WHERE id = principal
    RETURNING token_generation, kind INTO generation, holder_kind;
    UPDATE auth_refresh_token SET revoked_at = now()
     WHERE user_id = principal AND revoked_at IS NULL;
    PERFORM pg_notify(
        'auth_tokens_revoked', holder_kind || ':' || principal::text || ' ' || generation
    );
    RETURN generation;
END
$$;
""",
    """
-- The generation a write request's token must carry. Taken after waiting for a revocation of
-- the principal in progress (each statement of a volatile function sees what committed before
-- it); the shared lock keeps later revocations waiting until the request's transaction ends.
CREATE FUNCTION auth_current_token_generation(principal uuid, holder_kind text)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    generation integer;
BEGIN
    PERFORM pg_advisory_xact_lock_shared(auth_principal_lock_key(principal));
    SELECT token_generation INTO generation FROM auth_principal
     WHERE id = principal AND kind = holder_kind;
    RETURN generation;
END
$$;
""",
    """
CREATE FUNCTION auth_revoke_tokens_on_access_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'auth_user_role' THEN
        -- A new user's first roles take nothing away (created_at is this transaction's now()).
        IF TG_OP = 'INSERT' AND EXISTS (
            SELECT 1 FROM auth_user WHERE id = NEW.user_id AND created_at = now()
        ) THEN
            RETURN NULL;
        END IF;
        IF TG_OP = 'DELETE' THEN
            PERFORM auth_revoke_tokens(OLD.user_id);
        ELSE
            PERFORM auth_revoke_tokens(NEW.user_id);
            IF TG_OP = 'UPDATE' AND OLD.user_id <> NEW.user_id THEN
                PERFORM auth_revoke_tokens(OLD.user_id);
            END IF;
        END IF;
    ELSE
        PERFORM auth_revoke_tokens(NEW.id);
    END IF;
    RETURN NULL;
END
$$;
""",
)

TRIGGERS = (
    """
CREATE TRIGGER auth_user_access_changed AFTER UPDATE ON auth_user FOR EACH ROW
    WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active
          OR OLD.password_hash IS DISTINCT FROM NEW.password_hash)
    EXECUTE FUNCTION auth_revoke_tokens_on_access_change();
""",
    """
CREATE TRIGGER auth_user_role_changed AFTER INSERT OR UPDATE OR DELETE ON auth_user_role
    FOR EACH ROW EXECUTE FUNCTION auth_revoke_tokens_on_access_change();
""",
    """
CREATE TRIGGER auth_client_access_changed AFTER UPDATE ON auth_client FOR EACH ROW
    WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active
          OR OLD.role IS DISTINCT FROM NEW.role
          OR OLD.secret_hash IS DISTINCT FROM NEW.secret_hash)
    EXECUTE FUNCTION auth_revoke_tokens_on_access_change();
""",
)


def upgrade() -> None:
    op.create_table(
        "auth_principal",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("token_generation", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint("kind IN ('user', 'client')", name=op.f("ck_auth_principal_known_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_principal")),
    )
    # A client that shares an id with a person stops this migration: the ids must be told apart
    # by hand (no such row can be made through the API's own checks before this revision).
    op.execute("INSERT INTO auth_principal (id, kind) SELECT id, 'user' FROM auth_user")
    op.execute("INSERT INTO auth_principal (id, kind) SELECT id, 'client' FROM auth_client")
    for table in ("auth_user", "auth_client"):
        op.create_foreign_key(
            op.f(f"fk_{table}_id_auth_principal"),
            table,
            "auth_principal",
            ["id"],
            ["id"],
            ondelete="CASCADE",
        )
    # One statement per execute: asyncpg prepares each, and a prepared statement holds one.
    for statement in (*FUNCTIONS, *TRIGGERS):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER auth_client_access_changed ON auth_client")
    op.execute("DROP TRIGGER auth_user_role_changed ON auth_user_role")
    op.execute("DROP TRIGGER auth_user_access_changed ON auth_user")
    op.execute("DROP FUNCTION auth_revoke_tokens_on_access_change()")
    op.execute("DROP FUNCTION auth_current_token_generation(uuid, text)")
    op.execute("DROP FUNCTION auth_revoke_tokens(uuid)")
    op.execute("DROP FUNCTION auth_principal_lock_key(uuid)")
    for table in ("auth_client", "auth_user"):
        op.drop_constraint(op.f(f"fk_{table}_id_auth_principal"), table, type_="foreignkey")
    op.drop_table("auth_principal")
