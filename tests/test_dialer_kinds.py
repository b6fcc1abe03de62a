"""Campaign kinds are data (dialer/kinds.yaml), checked on load with errors at the line."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest

from dialer import kinds
from dialer.kinds import KindError, Mode
from interactions.outcomes import Outcome

CATALOGUE = {
    "renewal_due",
    "overdue_installment",
    "bounced_cheque",
    "debt_reminder",
    "welcome",
    "premium_thanks",
    "claim_settled",
    "occasion",
    "general_meeting",
    "marketing_offer",
}


def test_the_shipped_kinds_cover_the_insurers_catalogue() -> None:
    loaded = kinds.load()
    assert set(loaded) == CATALOGUE
    renewal = loaded["renewal_due"]
    assert renewal.target.rule == "policies_ending"
    assert dict(renewal.target.params)["days_before"] == 30
    assert renewal.mode is Mode.PROGRESSIVE
    assert "policy_number" in renewal.fields


def test_a_kind_takes_the_defaults_and_overrides_only_what_it_says() -> None:
    loaded = kinds.load()
    occasion, renewal = loaded["occasion"], loaded["renewal_due"]
    assert (occasion.window.start, occasion.window.end) == (time(10), time(19))
    assert (renewal.window.start, renewal.window.end) == (time(9), time(20))
    assert occasion.retries.max_attempts == 1
    assert renewal.retries.waits[Outcome.BUSY] == timedelta(minutes=15)
    assert renewal.window.thursday_until == time(12)


GOOD = """\
kinds:
  welcome:
    messages: [campaign_welcome]
    target: {rule: policies_started, days_since: 3}
    mode: broadcast
    window: {from: "09:00", to: "20:00", days: [saturday]}
"""


def error_of(text: str) -> str:
    with pytest.raises(KindError) as raised:
        kinds.parse(text, Path("kinds.yaml"))
    return str(raised.value)


def test_a_valid_file_loads() -> None:
    assert kinds.parse(GOOD)["welcome"].window.weekdays == frozenset({5})


@pytest.mark.parametrize(
    ("broken", "line", "where"),
    [
        (GOOD.replace("broadcast", "shouting"), 5, "kinds.welcome.mode"),
        (GOOD.replace('to: "20:00"', 'to: "08:00"'), 6, "kinds.welcome.window.to"),
        (GOOD.replace("[saturday]", "[caturday]"), 6, "kinds.welcome.window.days[0]"),
        (GOOD.replace("    mode:", "    tone: high\n    mode:"), 5, "kinds.welcome.tone"),
        (GOOD.replace("{rule: policies_started, ", "{"), 4, "kinds.welcome.target.rule"),
        (
            GOOD + "    retries: {wait_minutes: {opted_out: 5}}\n",
            7,
            "kinds.welcome.retries.wait_minutes.opted_out",
        ),
    ],
)
def test_a_mistake_is_reported_with_its_line_and_key(broken: str, line: int, where: str) -> None:
    assert error_of(broken).startswith(f"kinds.yaml:{line}: {where}:")
