"""Complaints and callback tasks refer to customers and policies by value, not foreign key:
they are Tamas's own records, and with an insurer's adapter the customers and policies live
in its core system. A task keeps the policy number the caller keyed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("callback_tasks") as batch_op:
        batch_op.add_column(sa.Column("policy_number", sa.String(length=32), nullable=True))
    op.execute(
        "UPDATE callback_tasks SET policy_number ="
        " (SELECT number FROM policies WHERE policies.id = callback_tasks.policy_id)"
        " WHERE policy_id IS NOT NULL"
    )
    with op.batch_alter_table("callback_tasks") as batch_op:
        batch_op.drop_constraint("fk_callback_tasks_customer_id_customers", type_="foreignkey")
        batch_op.drop_constraint("fk_callback_tasks_policy_id_policies", type_="foreignkey")
        batch_op.drop_column("policy_id")
    with op.batch_alter_table("complaints") as batch_op:
        batch_op.drop_constraint("fk_complaints_customer_id_customers", type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("complaints") as batch_op:
        batch_op.create_foreign_key(
            "fk_complaints_customer_id_customers", "customers", ["customer_id"], ["id"]
        )
    with op.batch_alter_table("callback_tasks") as batch_op:
        batch_op.add_column(sa.Column("policy_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE callback_tasks SET policy_id ="
        " (SELECT id FROM policies WHERE policies.number = callback_tasks.policy_number)"
    )
    with op.batch_alter_table("callback_tasks") as batch_op:
        batch_op.create_foreign_key(
            "fk_callback_tasks_policy_id_policies", "policies", ["policy_id"], ["id"]
        )
        batch_op.create_foreign_key(
            "fk_callback_tasks_customer_id_customers", "customers", ["customer_id"], ["id"]
        )
        batch_op.drop_column("policy_number")
