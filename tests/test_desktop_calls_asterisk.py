"""Agents' click-to-call against the real Asterisk sandbox: a domestic number is dialled and
audited; an international one is refused before Asterisk sees it, and audited too."""

from __future__ import annotations

import pytest
from popup_support import RunningServer, logged_in
from test_popup_asterisk import desktop_dialplan, following  # noqa: F401  (fixtures)

from integrations.database import Database
from popup_server.audit import AuditLog
from tamas.asterisk import sandbox
from tamas.settings import Settings

pytestmark = pytest.mark.asterisk


def _desktop_channels(settings: Settings) -> int:
    shown = sandbox.cli(settings, "core show channels concise")
    return sum(1 for line in shown.splitlines() if "tamas-desktop" in line)


async def test_click_to_call_is_audited_and_an_international_number_never_reaches_asterisk(
    following: RunningServer,  # noqa: F811
    desktop_dialplan: Settings,  # noqa: F811
    database: Database,
) -> None:
    async with await logged_in(following, "102") as session:
        before = _desktop_channels(desktop_dialplan)
        async with session.post("/api/originate", json={"number": "+44 20 7123 4567"}) as r:
            assert r.status == 403
        assert _desktop_channels(desktop_dialplan) == before
        async with session.post("/api/originate", json={"number": "+98 912 555 0002"}) as r:
            assert r.status == 200, await r.text()

    records = list(reversed(await AuditLog(database).for_agent("102")))
    assert [(a.action, a.target, a.allowed) for a in records] == [
        ("originate", "00442071234567", False),
        ("originate", "09125550002", True),
    ]
