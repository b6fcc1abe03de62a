"""`tamas campaign`: create from a kind, import with the validation report, preview, and a
status whose JSON tells the truth from the stored attempts."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dialer.attempts import Attempts
from dialer.campaigns import Campaigns
from dialer.retries import RetryPolicy
from integrations.database import Database
from interactions.outcomes import Outcome
from interactions.records import InteractionRecords
from tamas import cli

STATUS_KEYS = {
    "state",
    "targets",
    "pending",
    "attempts",
    "answered",
    "to_agent",
    "abandoned",
    "abandon_rate",
    "opted_out",
    "outcomes",
    "window",
}


@pytest.fixture
def tamas(
    database: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., Awaitable[int]]:
    monkeypatch.setenv("TAMAS_DATABASE_URL", database.url)
    monkeypatch.setenv("TAMAS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)

    async def tamas(*argv: str) -> int:
        # In a thread: the command runs its own event loop, as from a shell.
        return await asyncio.to_thread(cli.main, ["campaign", *argv])

    return tamas


def test_campaign_is_a_tamas_command() -> None:
    assert cli.COMMANDS["campaign"][0] == "dialer.command"


async def test_create_import_and_status_from_the_command_line(
    tamas: Callable[..., Awaitable[int]],
    database: Database,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    targets = tmp_path / "renewals.csv"
    targets.write_text(
        "phone,name,policy_number\n09121234567,Ali,P-1\nnope,Bad,P\n0912 123 4567,,P\n",
        encoding="utf-8",
    )
    assert await tamas("create", "dec-renewals", "--kind", "renewal_due") == 0
    assert await tamas("import", "dec-renewals", str(targets), "--json") == 0
    out = capsys.readouterr().out.splitlines()
    report = json.loads(out[-1])
    assert (report["rows"], report["targets"], report["added"]) == (3, 1, 1)
    assert report["problems"] == [{"line": 3, "reason": "phone 'nope' must contain digits only"}]
    assert report["merged"] == [{"line": 4, "into_line": 2, "differs": {"policy_number": "P"}}]

    campaigns = Campaigns(database)
    campaign = await campaigns.named("dec-renewals")
    [target] = await campaigns.claim(campaign.id, "w1", datetime.now(UTC))
    attempts = Attempts(database, InteractionRecords(database))
    attempt = await attempts.begin(campaign, target, "w1", datetime.now(UTC))
    await attempts.settle(
        campaign, attempt.channel_id, Outcome.ABANDONED, datetime.now(UTC), RetryPolicy()
    )

    assert await tamas("status", "dec-renewals", "--json") == 0
    status = json.loads(capsys.readouterr().out)
    assert STATUS_KEYS <= set(status)
    assert (status["targets"], status["attempts"], status["answered"]) == (1, 1, 1)
    assert (status["abandoned"], status["abandon_rate"]) == (1, 1.0)
    assert status["outcomes"] == {"abandoned": 1}

    assert await tamas("status", "dec-renewals") == 0
    assert "abandon rate 100.0% over the last 30 days" in capsys.readouterr().out
    assert await tamas("preview", "dec-renewals") == 0
    assert "+989121234567" in capsys.readouterr().out


async def test_a_dry_run_import_reports_and_stores_nothing(
    tamas: Callable[..., Awaitable[int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    targets = tmp_path / "t.csv"
    targets.write_text("phone\n09121234567\n", encoding="utf-8")
    assert await tamas("create", "c1", "--kind", "welcome") == 0
    assert await tamas("import", "c1", str(targets), "--dry-run") == 0
    assert "1 targets" in capsys.readouterr().out
    assert await tamas("status", "c1", "--json") == 0
    assert json.loads(capsys.readouterr().out)["targets"] == 0


async def test_mistakes_are_told_with_the_fix_not_a_traceback(
    tamas: Callable[..., Awaitable[int]], capsys: pytest.CaptureFixture[str]
) -> None:
    assert await tamas("create", "c1", "--kind", "lottery") == 1
    assert "no kind 'lottery'" in capsys.readouterr().err
    assert await tamas("status", "missing") == 1
    assert "tamas campaign create" in capsys.readouterr().err
    assert await tamas("create", "c1", "--kind", "welcome") == 0
    assert await tamas("create", "c1", "--kind", "welcome") == 1
    assert "exists already" in capsys.readouterr().err
