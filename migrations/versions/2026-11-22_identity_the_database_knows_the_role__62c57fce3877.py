"""identity: the database knows the role names

Revision ID: 62c57fce3877
Revises: 431f4ffa999e
Create Date: 2026-11-22 09:22:18.167536
"""

from collections.abc import Sequence

from alembic import op

revision: str = "62c57fce3877"
down_revision: str | Sequence[str] | None = "431f4ffa999e"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Frozen here on purpose (migrations never import app code). tests/test_role_constraints.py
# fails when app/domain/identity/roles.py and these lists differ: a new role needs a migration.
USER_ROLES = (
    "admin",
    "auditor",
    "accountant",
    "hr_manager",
    "credit_officer",
    "warehouse_clerk",
    "receptionist",
    "sales",
    "employee",
)
CLIENT_ROLES = ("webshop", "reception_device")


def _one_of(roles: tuple[str, ...]) -> str:
    return "role IN (" + ", ".join(f"'{r}'" for r in roles) + ")"


def upgrade() -> None:
    # Named through the metadata's naming convention: ck_<table>_known_role.
    op.create_check_constraint("known_role", "auth_user_role", _one_of(USER_ROLES))
    op.create_check_constraint("known_role", "auth_client", _one_of(CLIENT_ROLES))


def downgrade() -> None:
    op.drop_constraint(op.f("ck_auth_client_known_role"), "auth_client", type_="check")
    op.drop_constraint(op.f("ck_auth_user_role_known_role"), "auth_user_role", type_="check")
