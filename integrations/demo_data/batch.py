"""Rows ready to insert, table by table, as tuples in a fixed column order.

Generators fill a `Batch`; the writer sends it with one COPY or one executemany per table.
Tuples rather than dicts: a million customers make about eight million rows, and building a
dict for each costs more than generating it.

Primary keys are computed from the customer's index (`Ids`), not left to the database: a chunk
of customers is then self-contained (its policies know their ids before any insert), the same
seed gives the same ids, and an interrupted run finds exactly which chunks are on file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Column order of every table the demo data fills. Columns left out get their default.
COLUMNS: dict[str, tuple[str, ...]] = {
    "postal_areas": ("prefix", "province", "city", "latitude", "longitude"),
    "branches": (
        "id", "kind", "code", "name_fa", "name_en", "province", "city", "postal_code",
        "address_fa", "address_en", "phone", "opening_hours", "latitude", "longitude",
        "licence_end",
    ),
    "medical_centres": (
        "id", "kind", "name_fa", "name_en", "city", "address_fa", "phone", "postal_code",
        "latitude", "longitude",
    ),
    "payment_centres": (
        "id", "name_fa", "name_en", "city", "address_fa", "phone", "opening_hours",
        "postal_code", "latitude", "longitude",
    ),
    "general_meetings": (
        "id", "kind", "held_at", "place_fa", "place_en", "agenda", "resolutions",
        "invitation_text",
    ),
    "customers": (
        "id", "kind", "national_id", "company_id", "given_name_fa", "family_name_fa",
        "given_name_latin", "family_name_latin", "gender", "birth_date", "language", "tier",
        "pin_hash",
    ),
    "phones": ("id", "customer_id", "e164", "kind", "is_primary"),
    "emails": ("id", "customer_id", "address", "is_primary"),
    "addresses": ("id", "customer_id", "kind", "postal_code", "province", "city", "line"),
    "policies": (
        "id", "number", "authenticity_code", "customer_id", "line", "status", "start_date",
        "end_date", "premium_rials", "sum_insured_rials", "insured_objects", "branch_id",
    ),
    "endorsements": (
        "id", "policy_id", "sequence", "effective_date", "description", "premium_change_rials",
    ),
    "installments": (
        "id", "policy_id", "sequence", "due_date", "amount_rials", "status", "paid_on",
    ),
    "cheques": (
        "id", "customer_id", "policy_id", "number", "bank", "due_date", "amount_rials", "status",
    ),
    "claims": (
        "id", "tracking_code", "policy_id", "customer_id", "line", "loss_date", "stage",
        "stage_changed_at", "amount_claimed_rials", "amount_approved_rials", "amount_paid_rials",
        "adjuster_name", "adjuster_deadline", "next_step", "next_step_note",
    ),
    "claim_stage_changes": ("id", "claim_id", "stage", "at", "note"),
    "shareholders": (
        "id", "shareholder_number", "customer_id", "name_fa", "name_latin", "pin_hash", "shares",
        "missing_documents",
    ),
    "dividends": (
        "id", "shareholder_id", "fiscal_year", "per_share_rials", "amount_due_rials",
        "payment_date", "paid_on",
    ),
}  # fmt: skip

# Tables holding the reference network (the same for every seed), in insert order.
REFERENCE_TABLES = (
    "postal_areas", "branches", "medical_centres", "payment_centres", "general_meetings",
)  # fmt: skip
# Tables holding customers and what they own, in insert order (parents first).
CUSTOMER_TABLES = (
    "customers", "phones", "emails", "addresses", "policies", "endorsements", "installments",
    "cheques", "claims", "claim_stage_changes", "shareholders", "dividends",
)  # fmt: skip
# Columns stored as JSON: COPY needs them as text.
JSON_COLUMNS = {
    "policies": ("insured_objects",),
    "shareholders": ("missing_documents",),
    "general_meetings": ("agenda",),
}

# How many rows of a kind one customer (or one policy, one claim) may have: the stride of
# that table's ids. Generators never exceed these.
MAX_PHONES = 4
MAX_EMAILS = 2
MAX_ADDRESSES = 2
MAX_POLICIES = 4
MAX_ENDORSEMENTS = 2  # per policy
MAX_INSTALLMENTS = 12  # per policy
MAX_CHEQUES = 4
MAX_CLAIMS = 2
MAX_STAGE_CHANGES = 8  # per claim
MAX_DIVIDENDS = 8


class Ids:
    """Primary keys derived from a customer's index (0-based)."""

    @staticmethod
    def customer(index: int) -> int:
        return index + 1

    @staticmethod
    def phone(index: int, n: int) -> int:
        return index * MAX_PHONES + n + 1

    @staticmethod
    def email(index: int, n: int) -> int:
        return index * MAX_EMAILS + n + 1

    @staticmethod
    def address(index: int, n: int) -> int:
        return index * MAX_ADDRESSES + n + 1

    @staticmethod
    def policy_slot(index: int, n: int) -> int:
        """0-based: also the slot for policy numbers and authenticity codes."""
        return index * MAX_POLICIES + n

    @staticmethod
    def endorsement(policy_slot: int, n: int) -> int:
        return policy_slot * MAX_ENDORSEMENTS + n + 1

    @staticmethod
    def installment(policy_slot: int, n: int) -> int:
        return policy_slot * MAX_INSTALLMENTS + n + 1

    @staticmethod
    def cheque(index: int, n: int) -> int:
        return index * MAX_CHEQUES + n + 1

    @staticmethod
    def claim_slot(index: int, n: int) -> int:
        """0-based: also the slot for claim tracking codes."""
        return index * MAX_CLAIMS + n

    @staticmethod
    def stage_change(claim_slot: int, n: int) -> int:
        return claim_slot * MAX_STAGE_CHANGES + n + 1

    @staticmethod
    def shareholder(index: int) -> int:
        return index + 1

    @staticmethod
    def dividend(index: int, n: int) -> int:
        return index * MAX_DIVIDENDS + n + 1

    @staticmethod
    def ranges(first: int, end: int) -> dict[str, tuple[int, int]]:
        """Per customer table, the inclusive id range customers first..end-1 may use."""
        last = end - 1
        return {
            "customers": (first + 1, last + 1),
            "phones": (first * MAX_PHONES + 1, (last + 1) * MAX_PHONES),
            "emails": (first * MAX_EMAILS + 1, (last + 1) * MAX_EMAILS),
            "addresses": (first * MAX_ADDRESSES + 1, (last + 1) * MAX_ADDRESSES),
            "policies": (first * MAX_POLICIES + 1, (last + 1) * MAX_POLICIES),
            "endorsements": (
                first * MAX_POLICIES * MAX_ENDORSEMENTS + 1,
                (last + 1) * MAX_POLICIES * MAX_ENDORSEMENTS,
            ),
            "installments": (
                first * MAX_POLICIES * MAX_INSTALLMENTS + 1,
                (last + 1) * MAX_POLICIES * MAX_INSTALLMENTS,
            ),
            "cheques": (first * MAX_CHEQUES + 1, (last + 1) * MAX_CHEQUES),
            "claims": (first * MAX_CLAIMS + 1, (last + 1) * MAX_CLAIMS),
            "claim_stage_changes": (
                first * MAX_CLAIMS * MAX_STAGE_CHANGES + 1,
                (last + 1) * MAX_CLAIMS * MAX_STAGE_CHANGES,
            ),
            "shareholders": (first + 1, last + 1),
            "dividends": (first * MAX_DIVIDENDS + 1, (last + 1) * MAX_DIVIDENDS),
        }


@dataclass
class Batch:
    """Rows per table, each a tuple in `COLUMNS[table]` order."""

    rows: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {table: [] for table in COLUMNS}
    )

    def add(self, table: str, **values: Any) -> None:
        """One row by column name: slower than appending a tuple, for hand-written records."""
        columns = COLUMNS[table]
        unknown = set(values) - set(columns)
        if unknown:
            raise KeyError(f"{table} has no column {', '.join(sorted(unknown))}")
        self.rows[table].append(tuple(values.get(column) for column in columns))

    def extend(self, other: Batch) -> None:
        for table, rows in other.rows.items():
            self.rows[table].extend(rows)

    def count(self) -> int:
        return sum(len(rows) for rows in self.rows.values())

    def dicts(self, table: str) -> list[dict[str, Any]]:
        columns = COLUMNS[table]
        return [dict(zip(columns, row, strict=True)) for row in self.rows[table]]
