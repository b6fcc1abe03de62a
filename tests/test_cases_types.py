"""Case types as data: the shipped file loads, mistakes point at their line, fields are checked
and routing picks the team, person, priority and SLA."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from cases import types
from cases.types import CaseFieldError, Priority
from customer_file.identifiers import national_id_check_digit
from tamas.documents import DefinitionError

CASE_TYPES = types.load()
NATIONAL_ID = "001234567" + str(national_id_check_digit("001234567"))


def test_every_case_type_of_the_issue_is_shipped() -> None:
    assert set(CASE_TYPES.types) == {
        "complaint",
        "renewal_callback",
        "callback",
        "vehicle_inspection",
        "loss_estimate",
        "endorsement",
        "hospital_admission_letter",
        "claim_to_adjuster",
    }
    complaint = CASE_TYPES.types["complaint"]
    assert complaint.workflow.states[:4] == (
        "received",
        "acknowledged",
        "assessed",
        "investigating",
    )
    assert complaint.workflow.paused_in == {"waiting_customer"}


def test_gold_customers_complaint_goes_to_a_person_with_the_urgent_sla() -> None:
    routed = CASE_TYPES.route("complaint", line="motor", region="tehran", tier="gold")
    assert (routed.team, routed.person, routed.priority) == ("customer_care", "205", Priority.HIGH)
    assert routed.sla.first_response == timedelta(hours=1)
    plain = CASE_TYPES.route("complaint", tier="silver")
    assert (plain.team, plain.person, plain.priority) == ("customer_care", None, Priority.NORMAL)
    assert plain.sla.name == "complaint"


def test_inspection_in_tehran_is_routed_by_region() -> None:
    assert CASE_TYPES.route("loss_estimate", region="tehran").team == "inspection"
    assert CASE_TYPES.route("loss_estimate", region="fars").team == "claims"


def test_fields_are_checked_and_normalised() -> None:
    letter = CASE_TYPES.types["hospital_admission_letter"]
    cleaned = letter.clean_fields(
        {
            "policy_number": " H-1 ",
            "member_national_id": NATIONAL_ID.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")),
            "hospital": "Day",
            "admission_date": "1404/07/19",
        }
    )
    assert cleaned["member_national_id"] == NATIONAL_ID
    assert cleaned["admission_date"] == "2025-10-11"
    with pytest.raises(CaseFieldError, match="member_national_id"):
        letter.clean_fields(
            {"policy_number": "H", "member_national_id": "0012345678", "hospital": "x"}
        )
    with pytest.raises(CaseFieldError, match="hospital: is required"):
        letter.clean_fields({"policy_number": "H", "member_national_id": NATIONAL_ID})
    with pytest.raises(CaseFieldError, match="colour: not a field"):
        letter.clean_fields({"colour": "red"})
    estimate = CASE_TYPES.types["loss_estimate"]
    assert estimate.clean_fields({"claim_number": "C1", "estimate_rials": "۱۲,۵۰۰,۰۰۰"}) == {
        "claim_number": "C1",
        "estimate_rials": 12_500_000,
    }


def _mutated(old: str, new: str) -> str:
    text = types.DEFAULT_PATH.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "where", "message"),
    [
        ("sla: complaint\n", "sla: nope\n", "types.complaint.sla", "no such SLA"),
        (
            "{type: choice, choices: [service",
            "{type: colour, choices: [service",
            "types.complaint.fields.category.type",
            "one of text",
        ),
        (
            "{before: 1h, action: notify_owner}",
            "{before: 1h, action: phone_home}",
            "escalation[0].action",
            "notify_owner",
        ),
        ("resolution: 56h", "resolution: 56 hours", "slas.complaint.resolution", "like 30m or 4h"),
        (
            "responded_on: in_progress",
            "responded_on: busy",
            "workflows.service.responded_on",
            "'busy'",
        ),
    ],
)
def test_mistakes_point_at_their_line(
    old: str, new: str, where: str, message: str, tmp_path: Path
) -> None:
    text = _mutated(old, new)
    line = next(n for n, each in enumerate(text.splitlines(), 1) if new.strip() in each)
    with pytest.raises(DefinitionError) as raised:
        types.parse(text, tmp_path / "types.yaml")
    assert f"types.yaml:{line}: {where}" in str(raised.value)
    assert message in str(raised.value)
