"""The customer file: every table and index of the first release.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "branches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name_fa", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("province", sa.String(length=64), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("postal_code", sa.String(length=10), nullable=False),
        sa.Column("address_fa", sa.String(length=300), nullable=False),
        sa.Column("address_en", sa.String(length=300), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("opening_hours", sa.String(length=100), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.Column("licence_end", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_branches")),
        sa.UniqueConstraint("code", name=op.f("uq_branches_code")),
    )
    op.create_index(
        "ix_branches_latitude_longitude", "branches", ["latitude", "longitude"], unique=False
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("national_id", sa.String(length=10), nullable=True),
        sa.Column("company_id", sa.String(length=11), nullable=True),
        sa.Column("given_name_fa", sa.String(length=100), nullable=False),
        sa.Column("family_name_fa", sa.String(length=200), nullable=False),
        sa.Column("given_name_latin", sa.String(length=100), nullable=False),
        sa.Column("family_name_latin", sa.String(length=200), nullable=False),
        sa.Column("gender", sa.String(length=8), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.Column("tier", sa.String(length=8), nullable=False),
        sa.Column("pin_hash", sa.String(length=160), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("company_id", name=op.f("uq_customers_company_id")),
        sa.UniqueConstraint("national_id", name=op.f("uq_customers_national_id")),
    )
    op.create_index(
        op.f("ix_customers_family_name_fa"), "customers", ["family_name_fa"], unique=False
    )
    op.create_index(
        op.f("ix_customers_family_name_latin"), "customers", ["family_name_latin"], unique=False
    )
    op.create_table(
        "general_meetings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("place_fa", sa.String(length=300), nullable=False),
        sa.Column("place_en", sa.String(length=300), nullable=False),
        sa.Column("agenda", sa.JSON(), nullable=False),
        sa.Column("resolutions", sa.Text(), nullable=True),
        sa.Column("invitation_text", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_general_meetings")),
    )
    op.create_index(
        op.f("ix_general_meetings_held_at"), "general_meetings", ["held_at"], unique=False
    )
    op.create_table(
        "interactions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("linkedid", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("caller_number", sa.String(length=32), nullable=True),
        sa.Column("called_number", sa.String(length=32), nullable=True),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=2), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("outcome_detail", sa.String(length=128), nullable=True),
        sa.Column("menu_path", sa.JSON(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("transcript", sa.JSON(), nullable=False),
        sa.Column("looked_up", sa.JSON(), nullable=False),
        sa.Column("queue", sa.String(length=64), nullable=True),
        sa.Column("agent", sa.String(length=32), nullable=True),
        sa.Column("disposition", sa.String(length=64), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("survey_score", sa.Integer(), nullable=True),
        sa.Column("survey_nps", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interactions")),
    )
    op.create_index(op.f("ix_interactions_agent"), "interactions", ["agent"], unique=False)
    op.create_index(
        op.f("ix_interactions_caller_number"), "interactions", ["caller_number"], unique=False
    )
    op.create_index(
        op.f("ix_interactions_customer_id"), "interactions", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_interactions_linkedid"), "interactions", ["linkedid"], unique=True)
    op.create_index(
        op.f("ix_interactions_started_at"), "interactions", ["started_at"], unique=False
    )
    op.create_table(
        "medical_centres",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name_fa", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("address_fa", sa.String(length=300), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("postal_code", sa.String(length=10), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medical_centres")),
    )
    op.create_index(op.f("ix_medical_centres_city"), "medical_centres", ["city"], unique=False)
    op.create_table(
        "payment_centres",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name_fa", sa.String(length=200), nullable=False),
        sa.Column("name_en", sa.String(length=200), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("address_fa", sa.String(length=300), nullable=False),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("opening_hours", sa.String(length=100), nullable=False),
        sa.Column("postal_code", sa.String(length=10), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_centres")),
    )
    op.create_index(op.f("ix_payment_centres_city"), "payment_centres", ["city"], unique=False)
    op.create_table(
        "postal_areas",
        sa.Column("prefix", sa.String(length=5), nullable=False),
        sa.Column("province", sa.String(length=64), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=False),
        sa.Column("longitude", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", name=op.f("pk_postal_areas")),
    )
    op.create_table(
        "addresses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("postal_code", sa.String(length=10), nullable=False),
        sa.Column("province", sa.String(length=64), nullable=False),
        sa.Column("city", sa.String(length=64), nullable=False),
        sa.Column("line", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_addresses_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_addresses")),
    )
    op.create_index(op.f("ix_addresses_customer_id"), "addresses", ["customer_id"], unique=False)
    op.create_index(op.f("ix_addresses_postal_code"), "addresses", ["postal_code"], unique=False)
    op.create_table(
        "complaints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_number", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("caller_number", sa.String(length=16), nullable=True),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("recording_path", sa.String(length=300), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("linkedid", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_complaints_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaints")),
        sa.UniqueConstraint("tracking_number", name=op.f("uq_complaints_tracking_number")),
    )
    op.create_index(op.f("ix_complaints_customer_id"), "complaints", ["customer_id"], unique=False)
    op.create_table(
        "emails",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(length=254), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_emails_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emails")),
    )
    op.create_index(op.f("ix_emails_address"), "emails", ["address"], unique=False)
    op.create_index(op.f("ix_emails_customer_id"), "emails", ["customer_id"], unique=False)
    op.create_table(
        "phones",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("e164", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_phones_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phones")),
    )
    op.create_index(op.f("ix_phones_customer_id"), "phones", ["customer_id"], unique=False)
    op.create_index(op.f("ix_phones_e164"), "phones", ["e164"], unique=True)
    op.create_table(
        "policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("authenticity_code", sa.String(length=32), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("premium_rials", sa.BigInteger(), nullable=False),
        sa.Column("sum_insured_rials", sa.BigInteger(), nullable=True),
        sa.Column("insured_objects", sa.JSON(), nullable=False),
        sa.Column("branch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branches.id"], name=op.f("fk_policies_branch_id_branches")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_policies_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
        sa.UniqueConstraint("authenticity_code", name=op.f("uq_policies_authenticity_code")),
        sa.UniqueConstraint("number", name=op.f("uq_policies_number")),
    )
    op.create_index(op.f("ix_policies_branch_id"), "policies", ["branch_id"], unique=False)
    op.create_index(op.f("ix_policies_customer_id"), "policies", ["customer_id"], unique=False)
    op.create_index(op.f("ix_policies_end_date"), "policies", ["end_date"], unique=False)
    op.create_table(
        "shareholders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shareholder_number", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("name_fa", sa.String(length=200), nullable=False),
        sa.Column("name_latin", sa.String(length=200), nullable=False),
        sa.Column("pin_hash", sa.String(length=160), nullable=True),
        sa.Column("shares", sa.BigInteger(), nullable=False),
        sa.Column("missing_documents", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_shareholders_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shareholders")),
        sa.UniqueConstraint("shareholder_number", name=op.f("uq_shareholders_shareholder_number")),
    )
    op.create_index(
        op.f("ix_shareholders_customer_id"), "shareholders", ["customer_id"], unique=False
    )
    op.create_table(
        "callback_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_number", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("assigned_agent", sa.String(length=32), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("linkedid", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_callback_tasks_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policies.id"], name=op.f("fk_callback_tasks_policy_id_policies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_tasks")),
        sa.UniqueConstraint("tracking_number", name=op.f("uq_callback_tasks_tracking_number")),
    )
    op.create_index(
        op.f("ix_callback_tasks_assigned_agent"), "callback_tasks", ["assigned_agent"], unique=False
    )
    op.create_index(
        op.f("ix_callback_tasks_customer_id"), "callback_tasks", ["customer_id"], unique=False
    )
    op.create_index(op.f("ix_callback_tasks_status"), "callback_tasks", ["status"], unique=False)
    op.create_table(
        "cheques",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("bank", sa.String(length=64), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_rials", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_cheques_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policies.id"], name=op.f("fk_cheques_policy_id_policies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cheques")),
    )
    op.create_index(op.f("ix_cheques_customer_id"), "cheques", ["customer_id"], unique=False)
    op.create_index(op.f("ix_cheques_policy_id"), "cheques", ["policy_id"], unique=False)
    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tracking_code", sa.String(length=20), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.String(length=32), nullable=False),
        sa.Column("loss_date", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("stage_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("amount_claimed_rials", sa.BigInteger(), nullable=False),
        sa.Column("amount_approved_rials", sa.BigInteger(), nullable=True),
        sa.Column("amount_paid_rials", sa.BigInteger(), nullable=True),
        sa.Column("adjuster_name", sa.String(length=100), nullable=True),
        sa.Column("adjuster_deadline", sa.Date(), nullable=True),
        sa.Column("next_step", sa.String(length=32), nullable=False),
        sa.Column("next_step_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_claims_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"], ["policies.id"], name=op.f("fk_claims_policy_id_policies")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint("tracking_code", name=op.f("uq_claims_tracking_code")),
    )
    op.create_index(op.f("ix_claims_customer_id"), "claims", ["customer_id"], unique=False)
    op.create_index(op.f("ix_claims_policy_id"), "claims", ["policy_id"], unique=False)
    op.create_table(
        "dividends",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shareholder_id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("per_share_rials", sa.BigInteger(), nullable=False),
        sa.Column("amount_due_rials", sa.BigInteger(), nullable=False),
        sa.Column("payment_date", sa.Date(), nullable=True),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["shareholder_id"],
            ["shareholders.id"],
            name=op.f("fk_dividends_shareholder_id_shareholders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dividends")),
        sa.UniqueConstraint(
            "shareholder_id", "fiscal_year", name=op.f("uq_dividends_shareholder_id_fiscal_year")
        ),
    )
    op.create_index(
        op.f("ix_dividends_shareholder_id"), "dividends", ["shareholder_id"], unique=False
    )
    op.create_table(
        "endorsements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("premium_change_rials", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policies.id"],
            name=op.f("fk_endorsements_policy_id_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_endorsements")),
        sa.UniqueConstraint(
            "policy_id", "sequence", name=op.f("uq_endorsements_policy_id_sequence")
        ),
    )
    op.create_index(op.f("ix_endorsements_policy_id"), "endorsements", ["policy_id"], unique=False)
    op.create_table(
        "installments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_rials", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["policies.id"],
            name=op.f("fk_installments_policy_id_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installments")),
    )
    op.create_index(op.f("ix_installments_due_date"), "installments", ["due_date"], unique=False)
    op.create_index(op.f("ix_installments_policy_id"), "installments", ["policy_id"], unique=False)
    op.create_table(
        "claim_stage_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("claim_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["claims.id"],
            name=op.f("fk_claim_stage_changes_claim_id_claims"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_stage_changes")),
    )
    op.create_index(
        op.f("ix_claim_stage_changes_claim_id"), "claim_stage_changes", ["claim_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_claim_stage_changes_claim_id"), table_name="claim_stage_changes")
    op.drop_table("claim_stage_changes")
    op.drop_index(op.f("ix_installments_policy_id"), table_name="installments")
    op.drop_index(op.f("ix_installments_due_date"), table_name="installments")
    op.drop_table("installments")
    op.drop_index(op.f("ix_endorsements_policy_id"), table_name="endorsements")
    op.drop_table("endorsements")
    op.drop_index(op.f("ix_dividends_shareholder_id"), table_name="dividends")
    op.drop_table("dividends")
    op.drop_index(op.f("ix_claims_policy_id"), table_name="claims")
    op.drop_index(op.f("ix_claims_customer_id"), table_name="claims")
    op.drop_table("claims")
    op.drop_index(op.f("ix_cheques_policy_id"), table_name="cheques")
    op.drop_index(op.f("ix_cheques_customer_id"), table_name="cheques")
    op.drop_table("cheques")
    op.drop_index(op.f("ix_callback_tasks_status"), table_name="callback_tasks")
    op.drop_index(op.f("ix_callback_tasks_customer_id"), table_name="callback_tasks")
    op.drop_index(op.f("ix_callback_tasks_assigned_agent"), table_name="callback_tasks")
    op.drop_table("callback_tasks")
    op.drop_index(op.f("ix_shareholders_customer_id"), table_name="shareholders")
    op.drop_table("shareholders")
    op.drop_index(op.f("ix_policies_end_date"), table_name="policies")
    op.drop_index(op.f("ix_policies_customer_id"), table_name="policies")
    op.drop_index(op.f("ix_policies_branch_id"), table_name="policies")
    op.drop_table("policies")
    op.drop_index(op.f("ix_phones_e164"), table_name="phones")
    op.drop_index(op.f("ix_phones_customer_id"), table_name="phones")
    op.drop_table("phones")
    op.drop_index(op.f("ix_emails_customer_id"), table_name="emails")
    op.drop_index(op.f("ix_emails_address"), table_name="emails")
    op.drop_table("emails")
    op.drop_index(op.f("ix_complaints_customer_id"), table_name="complaints")
    op.drop_table("complaints")
    op.drop_index(op.f("ix_addresses_postal_code"), table_name="addresses")
    op.drop_index(op.f("ix_addresses_customer_id"), table_name="addresses")
    op.drop_table("addresses")
    op.drop_table("postal_areas")
    op.drop_index(op.f("ix_payment_centres_city"), table_name="payment_centres")
    op.drop_table("payment_centres")
    op.drop_index(op.f("ix_medical_centres_city"), table_name="medical_centres")
    op.drop_table("medical_centres")
    op.drop_index(op.f("ix_interactions_started_at"), table_name="interactions")
    op.drop_index(op.f("ix_interactions_linkedid"), table_name="interactions")
    op.drop_index(op.f("ix_interactions_customer_id"), table_name="interactions")
    op.drop_index(op.f("ix_interactions_caller_number"), table_name="interactions")
    op.drop_index(op.f("ix_interactions_agent"), table_name="interactions")
    op.drop_table("interactions")
    op.drop_index(op.f("ix_general_meetings_held_at"), table_name="general_meetings")
    op.drop_table("general_meetings")
    op.drop_index(op.f("ix_customers_family_name_latin"), table_name="customers")
    op.drop_index(op.f("ix_customers_family_name_fa"), table_name="customers")
    op.drop_table("customers")
    op.drop_index("ix_branches_latitude_longitude", table_name="branches")
    op.drop_table("branches")
