"""The customer file's pure rules, without a database: debt arithmetic, PIN hashing,
masked names, distances, claim stages."""

from __future__ import annotations

import ast
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from customer_file.debt import effective_status, summarize_debt
from customer_file.identifiers import (
    InvalidIdentifier,
    canonical_registration,
    company_id_check_digit,
    national_id_check_digit,
    validate_national_or_company_id,
)
from customer_file.views import ChequeView, CustomerRegistration, InstallmentView
from integrations.customer_file.claims import Claim, advance_claim
from integrations.customer_file.pins import hash_pin, verify_pin
from integrations.customer_file.places import distance_km
from integrations.customer_file.privacy import mask_name

TODAY = date(2026, 11, 21)


def _installment(sequence: int, due: date, amount: int, status: str = "due") -> InstallmentView:
    return InstallmentView("140210001234", sequence, due, amount, status)


def _cheque(number: str, due: date, amount: int, status: str) -> ChequeView:
    return ChequeView(number, "ملت", due, amount, status)


def test_an_unpaid_installment_past_its_date_is_overdue_whatever_is_stored() -> None:
    assert effective_status(_installment(1, date(2026, 11, 20), 1), TODAY) == "overdue"
    assert effective_status(_installment(1, TODAY, 1), TODAY) == "due"
    assert effective_status(_installment(1, date(2026, 1, 1), 1, "paid"), TODAY) == "paid"
    assert effective_status(_installment(1, date(2027, 1, 1), 1, "overdue"), TODAY) == "overdue"


def test_debt_balance_adds_bounced_cheques_but_not_cheques_still_due() -> None:
    debt = summarize_debt(
        7,
        [
            _installment(3, date(2026, 12, 21), 5_000_000),
            _installment(1, date(2026, 10, 21), 5_000_000, "paid"),
            _installment(2, date(2026, 11, 1), 5_000_000),
        ],
        [
            _cheque("2", date(2026, 12, 21), 5_000_000, "due"),
            _cheque("1", date(2026, 9, 1), 3_000_000, "bounced"),
        ],
        TODAY,
    )
    assert debt.customer_id == 7
    assert debt.balance_rials == 13_000_000
    assert debt.overdue_rials == 8_000_000
    assert [(i.sequence, i.status) for i in debt.next_installments] == [(2, "overdue"), (3, "due")]
    assert [c.number for c in debt.cheques_due] == ["2"]
    assert [c.number for c in debt.cheques_bounced] == ["1"]


def test_no_installments_no_debt() -> None:
    debt = summarize_debt(1, [], [], TODAY)
    assert (debt.balance_rials, debt.overdue_rials, debt.next_installments) == (0, 0, ())


def test_pins_are_salted_so_equal_pins_hash_differently() -> None:
    first, second = hash_pin("1234"), hash_pin("1234")
    assert first != second
    assert first.startswith("scrypt$16384$8$1$")
    assert "1234" not in first.split("$", 4)[-1]
    assert verify_pin("1234", first) and verify_pin("1234", second)
    assert not verify_pin("1235", first)


@pytest.mark.parametrize("stored", [None, "", "plain1234", "scrypt$x$8$1$a$b", "md5$1$2$3$4$5"])
def test_a_missing_or_malformed_hash_never_matches(stored: str | None) -> None:
    assert not verify_pin("1234", stored)


def test_a_pin_is_digits_only() -> None:
    with pytest.raises(ValueError, match="digits"):
        hash_pin("12a4")
    assert not verify_pin("12a4", hash_pin("1234", n=2**8))


@pytest.mark.parametrize(
    ("name", "masked"),
    [("علی محمدی", "ع*** م***"), ("Ali  Mohammadi", "A*** M***"), ("", ""), ("X", "X***")],
)
def test_masked_names_show_initials_only(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_distance_between_tehran_and_mashhad() -> None:
    # About 740 km as the crow flies.
    assert 720 < distance_km(35.6892, 51.3890, 36.2605, 59.6168) < 760
    assert distance_km(35.0, 51.0, 35.0, 51.0) == 0


def test_a_claim_moves_through_stages_and_closes() -> None:
    claim = Claim(tracking_code="1", stage="registered")
    at = datetime(2026, 11, 1, tzinfo=UTC)
    advance_claim(claim, "registered", at)
    advance_claim(claim, "inspection", at)
    advance_claim(claim, "rejected", at, note="not covered")
    assert claim.stage == "rejected"
    assert [change.stage for change in claim.history] == ["registered", "inspection", "rejected"]
    with pytest.raises(ValueError, match="closed"):
        advance_claim(claim, "paid", at)
    with pytest.raises(ValueError, match="unknown claim stage"):
        advance_claim(Claim(tracking_code="2"), "lost", at)


def test_one_box_takes_a_national_id_or_a_company_id_told_apart_by_length() -> None:
    national_id = "007622964" + str(national_id_check_digit("007622964"))
    company_id = "1010165655" + str(company_id_check_digit("1010165655"))
    assert validate_national_or_company_id(national_id.replace("0", "۰")) == national_id
    assert validate_national_or_company_id(company_id[:5] + "-" + company_id[5:]) == company_id
    with pytest.raises(InvalidIdentifier) as refused:
        validate_national_or_company_id("12345")
    assert refused.value.field == "national_id"


def test_a_registration_carries_its_identifiers_in_canonical_form() -> None:
    national_id = "007622964" + str(national_id_check_digit("007622964"))
    typed = CustomerRegistration(
        family_name_fa="محمدی",
        national_id=national_id.replace("0", "۰"),
        phones=("0912 123 4567", "+989121234567", "021-8888-1234"),
        postal_code="11936-53471",
    )
    checked = canonical_registration(typed)
    assert checked.national_id == national_id and checked.company_id is None
    assert checked.phones == ("+989121234567", "+982188881234")
    assert checked.postal_code == "1193653471"
    with pytest.raises(InvalidIdentifier) as refused:
        canonical_registration(CustomerRegistration(family_name_fa="x", phones=("12",)))
    assert refused.value.field == "phone"


def test_the_domain_imports_no_adapter_and_no_io() -> None:
    # Adapters import the domain, never the reverse: customer_file/ is plain Python.
    adapters_and_io = ("integrations", "sqlalchemy", "aiohttp", "asyncpg", "redis", "popup_server")
    package = Path(__file__).resolve().parents[1] / "customer_file"
    imported: set[tuple[str, str]] = set()
    for path in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update((path.name, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add((path.name, node.module))
    assert [pair for pair in imported if pair[1].split(".")[0] in adapters_and_io] == []
    assert ("port.py", "customer_file.views") in imported
