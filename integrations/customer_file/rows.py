"""Turning table rows into the frozen views of customer_file.views: the one
place that knows both shapes. Works on ORM objects and on result rows of the same columns.

The `*_COLUMNS` tuples are what each view needs and nothing more: selecting them with Core
(`select(*POLICY_COLUMNS)`) skips the ORM's identity map and the columns no view shows (an
interaction's transcript), which is most of the cost of the agent's popup file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import literal

from customer_file.views import (
    AddressView,
    BranchView,
    ChequeView,
    ClaimView,
    CustomerSummary,
    DividendView,
    InstallmentView,
    PhoneView,
    PolicyView,
    ShareholderView,
    from_record,
)
from integrations.customer_file.claims import Claim
from integrations.customer_file.customers import Customer
from integrations.customer_file.policies import Policy
from integrations.customer_file.shareholders import Dividend, Shareholder


def one_of(column: Any, values: Sequence[str]) -> Any:
    """`column IN (...)` over fixed values as plain parameters: a list of plain values would
    make an "expanding" IN, whose SQL is re-rendered on every execution."""
    return column.in_([literal(value) for value in values])


def utc(moment: datetime) -> datetime:
    """A moment handed in by a caller of the adapter, as stored: naive ones are taken as UTC.
    (Reads need no such care: `UtcDateTime` columns come back aware.)"""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


SUMMARY_COLUMNS = (
    Customer.id,
    Customer.kind,
    Customer.national_id,
    Customer.company_id,
    Customer.given_name_fa,
    Customer.family_name_fa,
    Customer.given_name_latin,
    Customer.family_name_latin,
    Customer.gender,
    Customer.language,
    Customer.tier,
    Customer.pin_hash,
)


def id_last4(row: Any) -> str:
    """The last four digits of a customer's national ID (or company ID), which callers and
    agents confirm; from a row carrying both columns."""
    return (row.national_id or row.company_id or "")[-4:]


def customer_summary(row: Any) -> CustomerSummary:
    return from_record(
        CustomerSummary, row, id_last4=id_last4(row), has_pin=row.pin_hash is not None
    )


# With the claim's policy number joined in as `policy_number`.
CLAIM_COLUMNS = (
    Claim.id,
    Claim.tracking_code,
    Claim.line,
    Claim.stage,
    Claim.stage_changed_at,
    Claim.loss_date,
    Claim.amount_claimed_rials,
    Claim.amount_approved_rials,
    Claim.amount_paid_rials,
    Claim.adjuster_name,
    Claim.adjuster_deadline,
    Claim.next_step,
    Claim.next_step_note,
)


def claim_view(claim: Any, policy_number: str) -> ClaimView:
    """From a Claim or a row of its columns."""
    return from_record(ClaimView, claim, policy_number=policy_number)


POLICY_COLUMNS = (
    Policy.id,
    Policy.number,
    Policy.line,
    Policy.status,
    Policy.start_date,
    Policy.end_date,
    Policy.premium_rials,
    Policy.insured_objects,
)


def policy_view(policy: Any) -> PolicyView:
    return from_record(PolicyView, policy, insured_objects=tuple(policy.insured_objects or ()))


def contact_views(
    rows: Iterable[Any],
) -> tuple[tuple[PhoneView, ...], tuple[str, ...], tuple[AddressView, ...]]:
    """Phones, emails and addresses from rows with `what` telling which (see customer_records.py's
    _FILE_CONTACTS): `value` is the number, the email address or the address line."""
    phones: list[PhoneView] = []
    emails: list[str] = []
    addresses: list[AddressView] = []
    for row in rows:
        if row.what == "phone":
            phones.append(PhoneView(row.value, row.kind, row.is_primary))
        elif row.what == "email":
            emails.append(row.value)
        else:
            addresses.append(
                AddressView(row.kind, row.postal_code, row.province, row.city, row.value)
            )
    return tuple(phones), tuple(emails), tuple(addresses)


def owed_views(rows: Iterable[Any]) -> tuple[list[InstallmentView], list[ChequeView]]:
    """Installments and cheques from rows with `what` telling which (see customer_records.py's
    _OWED): `reference` is the installment's policy number or the cheque's number."""
    installments: list[InstallmentView] = []
    cheques: list[ChequeView] = []
    for row in rows:
        if row.what == "installment":
            installments.append(
                InstallmentView(
                    row.reference, row.sequence, row.due_date, row.amount_rials, row.status
                )
            )
        else:
            cheques.append(
                ChequeView(row.reference, row.bank, row.due_date, row.amount_rials, row.status)
            )
    return installments, cheques


def cheque_view(cheque: Any) -> ChequeView:
    return from_record(ChequeView, cheque)


SHAREHOLDER_COLUMNS = (
    Shareholder.id,
    Shareholder.shareholder_number,
    Shareholder.customer_id,
    Shareholder.name_fa,
    Shareholder.name_latin,
    Shareholder.shares,
    Shareholder.missing_documents,
)
DIVIDEND_COLUMNS = (
    Dividend.fiscal_year,
    Dividend.per_share_rials,
    Dividend.amount_due_rials,
    Dividend.payment_date,
    Dividend.paid_on,
)


def shareholder_view(holder: Any, dividends: Iterable[Any] | None = None) -> ShareholderView:
    """From a Shareholder with its dividends loaded, or from a row of SHAREHOLDER_COLUMNS and
    rows of DIVIDEND_COLUMNS (oldest fiscal year first)."""
    dividend_views = tuple(
        from_record(DividendView, dividend)
        for dividend in (holder.dividends if dividends is None else dividends)
    )
    return from_record(
        ShareholderView,
        holder,
        dividends=dividend_views,
        unpaid_dividends_rials=sum(d.amount_due_rials for d in dividend_views if d.paid_on is None),
        missing_documents=tuple(holder.missing_documents or ()),
    )


def branch_view(branch: Any, distance: float | None) -> BranchView:
    """From a Branch or a row of its table's columns."""
    rounded = None if distance is None else round(distance, 2)
    return from_record(BranchView, branch, distance_km=rounded)
