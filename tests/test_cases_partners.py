"""The partners' B2B API and the agents' case API, on the real popup server: signed tokens with
a key rotated without downtime, each partner on its own cases only (another's answers 404 like
a case that does not exist), every call audit-logged, the adjuster's progress back in the case;
agents without the case_handler role refused."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import jdatetime
import pytest
import yaml
from playwright.async_api import Browser, expect
from popup_support import PASSWORD, RunningServer, logged_in, start_server
from sqlalchemy import select

from cases import partners as partner_file
from cases import types
from cases.escalation import CaseAlert
from cases.partners import TokenRefused
from cases.store import CaseChannel, CaseRequest, CaseStore
from cases.types import EscalationAction
from integrations.database import Database
from ivr.hours import TEHRAN
from popup_server.audit import AuditRecord
from tamas.bus import InProcessBus
from tamas.settings import Settings

OPENAPI = Path(__file__).resolve().parents[1] / "docs" / "partner-api.yaml"
OLD_KEY, NEW_KEY, OTHER_KEY = (partner_file.new_key() for _ in range(3))
LATER = datetime.now(UTC) + timedelta(days=1)


def partners_text(*acme_keys: tuple[str, str]) -> str:
    keys = ", ".join(f'"{key_id}": "{secret}"' for key_id, secret in acme_keys)
    return (
        "partners:\n"
        f"  acme: {{name: Acme Adjusters, keys: {{{keys}}}, may_open: [claim_to_adjuster]}}\n"
        f'  zenith: {{name: Zenith Assistance, keys: {{"z1": "{OTHER_KEY}"}}}}\n'
    )


@pytest.fixture
def bus() -> InProcessBus:
    return InProcessBus()


@pytest.fixture
async def server(
    database: Database, tmp_path: Path, bus: InProcessBus
) -> AsyncIterator[RunningServer]:
    path = tmp_path / "partners.yaml"
    path.write_text(partners_text(("2026-11", OLD_KEY), ("2026-12", NEW_KEY)), encoding="utf-8")
    settings = Settings(cases_partners_path=str(path))
    running = await start_server(database, bus=bus, settings=settings)
    directory = running.parts.directory
    await directory.create_agent("101", PASSWORD, "Local/101@x", roles="agent,case_handler",
                                 password_cost=2**10)  # fmt: skip
    await directory.create_agent("102", PASSWORD, "Local/102@x", password_cost=2**10)
    roles = "agent,case_handler,supervisor"
    await directory.create_agent("205", PASSWORD, "Local/205@x", roles=roles, password_cost=2**10)
    try:
        yield running
    finally:
        await running.stop()


def bearer(partner: str, key_id: str) -> dict[str, str]:
    registry = partner_file.parse(
        partners_text(("2026-11", OLD_KEY), ("2026-12", NEW_KEY)), Path("partners.yaml")
    )
    return {"Authorization": f"Bearer {registry.issue(partner, key_id, LATER)}"}


CLAIM = {
    "type": "claim_to_adjuster",
    "summary": "rear-end collision, Tehran",
    "fields": {"claim_number": "CL-1404-77", "partner": "acme"},
}


async def test_partner_sees_and_acts_only_on_its_own_cases(
    server: RunningServer, database: Database
) -> None:
    api = f"{server.base}/api/partner/v1"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{api}/cases", json=CLAIM, headers=bearer("acme", "2026-12")) as r:
            assert r.status == 201, await r.text()
            opened = await r.json()
        number = opened["tracking_number"]
        assert opened["state"] == "new" and "national_id" not in opened
        # Zenith may not open adjusters' files, nor see or touch Acme's.
        zenith = bearer("zenith", "z1")
        async with http.post(f"{api}/cases", json=CLAIM, headers=zenith) as r:
            assert r.status == 403
        async with http.get(f"{api}/cases/{number}", headers=zenith) as r:
            assert r.status == 404
            not_theirs = await r.json()
        async with http.get(f"{api}/cases/300000000", headers=zenith) as r:
            assert r.status == 404
            assert (await r.json()).keys() == not_theirs.keys()  # nothing tells them apart
        progress = {"kind": "estimate", "value": "120000000", "note": "photos checked"}
        async with http.post(f"{api}/cases/{number}/progress", json=progress, headers=zenith) as r:
            assert r.status == 404
        async with http.get(f"{api}/cases", headers=zenith) as r:
            assert (await r.json())["cases"] == []
        # Acme reports the inspection and the estimate; they land in the case.
        acme = bearer("acme", "2026-11")  # the old key still works during the rotation
        inspected = {"kind": "inspection_done", "value": "1404/07/20", "state": "in_progress"}
        async with http.post(f"{api}/cases/{number}/progress", json=inspected, headers=acme) as r:
            assert r.status == 200, await r.text()
        progress["attachment"] = "partner:acme/photos/77.zip"
        async with http.post(f"{api}/cases/{number}/progress", json=progress, headers=acme) as r:
            case = await r.json()
        assert case["fields"]["estimate_rials"] == 120_000_000
        assert case["fields"]["inspection_done"] == "2025-10-12"
        assert case["state"] == "in_progress"
        async with http.get(f"{api}/cases", headers=acme) as r:
            assert [c["tracking_number"] for c in (await r.json())["cases"]] == [number]
        closing = {"kind": "note", "state": "closed"}
        async with http.post(f"{api}/cases/{number}/progress", json=closing, headers=acme) as r:
            assert r.status == 403
        async with http.get(f"{api}/cases", headers={"Authorization": "Bearer forged.x"}) as r:
            assert r.status == 401
    async with database.session() as session:
        calls = (
            await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.action == "partner_call")
                .order_by(AuditRecord.id)
            )
        ).all()
    refusals = [(c.agent, c.refusal) for c in calls if c.refusal]
    assert refusals == [
        ("p:zenith", "type"),
        ("p:zenith", "not_own"),
        ("p:zenith", "not_own"),
        ("p:zenith", "not_own"),
        ("p:acme", "403"),  # it tried to close the case
        ("p:?", "token"),
    ]
    assert sum(1 for c in calls if c.agent == "p:acme" and c.allowed) == 4
    assert [c.refusal for c in calls if c.agent == "p:acme" and not c.allowed] == ["403"]


def test_key_rotation_accepts_both_keys_then_only_the_new_one() -> None:
    both = partner_file.parse(
        partners_text(("2026-11", OLD_KEY), ("2026-12", NEW_KEY)), Path("p.yaml")
    )
    old_token = both.issue("acme", "2026-11", LATER)
    new_token = both.issue("acme", "2026-12", LATER)
    now = datetime.now(UTC)
    assert both.verify(old_token, now).id == both.verify(new_token, now).id == "acme"
    retired = partner_file.parse(partners_text(("2026-12", NEW_KEY)), Path("p.yaml"))
    assert retired.verify(new_token, now).id == "acme"
    with pytest.raises(TokenRefused, match="retired key"):
        retired.verify(old_token, now)
    with pytest.raises(TokenRefused, match="expired"):
        both.verify(both.issue("acme", "2026-12", now - timedelta(seconds=1)), now)
    # A token of one partner re-labelled as another's fails its signature.
    payload, _, signature = old_token.partition(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["p"] = "zenith"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenRefused):
        both.verify(f"{forged}.{signature}", now)


def test_short_keys_and_long_partner_ids_are_refused_on_load() -> None:
    key = partner_file.new_key()
    with pytest.raises(ValueError, match="a partner id is 1-14"):
        partner_file.parse(
            f'partners:\n  acme-loss-adjusters: {{keys: {{k1: "{key}"}}}}\n', Path("p")
        )
    with pytest.raises(ValueError, match=r"partners\.acme\.keys\.k1: at least 32 bytes"):
        partner_file.parse('partners:\n  acme: {keys: {k1: "abcd"}}\n', Path("p.yaml"))


async def test_agents_need_the_case_handler_role(server: RunningServer) -> None:
    handler = await logged_in(server, "101")
    plain = await logged_in(server, "102")
    try:
        async with plain.get("/api/cases/mine") as reply:
            assert reply.status == 403
        body = {"type": "callback", "fields": {"reason": "claim"}, "phone": "09121234567"}
        async with handler.post("/api/cases", json=body) as reply:
            assert reply.status == 201, await reply.text()
            number = (await reply.json())["tracking_number"]
        for wrong in (
            {**body, "fields": ["reason"]},
            {**body, "customer_id": "7"},
            {**body, "phone": 9},
        ):
            async with handler.post("/api/cases", json=wrong) as reply:
                assert reply.status == 400, wrong
        async with handler.post("/api/cases", json={**body, "national_id": "0012345678"}) as reply:
            assert reply.status == 422
            assert "national_id" in (await reply.json())["error"]
        async with handler.post(f"/api/cases/{number}", json={"state": "in_progress"}) as reply:
            assert (await reply.json())["state"] == "in_progress"
        async with handler.post(f"/api/cases/{number}", json={"note": "called twice"}) as reply:
            assert reply.status == 200
        async with handler.post(f"/api/cases/{number}", json={"state": "flying"}) as reply:
            assert reply.status == 422
        async with handler.get(f"/api/cases/{number}") as reply:
            shown = await reply.json()
        assert [e["kind"] for e in shown["timeline"]][-3:] == ["state", "responded", "note"]
        async with handler.get("/api/cases/mine?team=customer_care") as reply:
            assert [c["tracking_number"] for c in (await reply.json())["cases"]] == [number]
        task = {"title": "call back after the garage", "control_at": "2025-10-18T10:00"}
        async with handler.post(f"/api/cases/{number}/tasks", json=task) as reply:
            assert reply.status == 201, await reply.text()
            task_id = (await reply.json())["id"]
        async with handler.post(f"/api/cases/{number}/tasks", json={"title": "x"}) as reply:
            assert reply.status == 422
        async with handler.get("/api/cases/mine?team=customer_care") as reply:
            (listed,) = (await reply.json())["tasks"]
        assert listed["control_at"] == "2025-10-18T06:30:00+00:00"  # 10:00 in Tehran
        async with handler.post(f"/api/cases/tasks/{task_id}/done", json={}) as reply:
            assert reply.status == 200
        async with handler.post(f"/api/cases/tasks/{task_id}/done", json={}) as reply:
            assert reply.status == 409
        satisfied = {"satisfaction": 4, "nps": 9}
        async with handler.post(f"/api/cases/{number}", json=satisfied) as reply:
            assert (await reply.json())["nps"] == 9
        async with handler.post(f"/api/cases/{number}", json={"nps": "9"}) as reply:
            assert reply.status == 400
        async with plain.get(f"/api/cases/{number}") as reply:
            assert reply.status == 403
    finally:
        await handler.close()
        await plain.close()


async def test_cases_from_the_ivr_sms_and_a_partner_reach_the_agents_desktop(
    server: RunningServer, database: Database, browser: Browser, bus: InProcessBus
) -> None:
    store = CaseStore(database, types.load())
    complaint = {"remedy_sought": "refund", "category": "delay"}
    # Gold customers' complaints go to agent 205 (types.yaml's routing).
    by_phone = await store.open_case(
        CaseRequest(
            "complaint",
            CaseChannel.IVR,
            "ivr",
            "voice complaint",
            complaint,
            tier="gold",
            attachment="recording:1700000000.1",
        )
    )
    by_text = await store.open_case(
        CaseRequest("complaint", CaseChannel.SMS, "customer", "by SMS", complaint, tier="gold")
    )
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{server.base}/api/partner/v1/cases", json=CLAIM, headers=bearer("acme", "2026-12")
        ) as reply:
            from_partner = (await reply.json())["tracking_number"]
    page = await browser.new_page()
    await page.goto(server.base + "/cases")
    await page.get_by_test_id("login-agent").fill("205")
    await page.get_by_test_id("login-password").fill(PASSWORD)
    await page.get_by_test_id("login-submit").click()
    mine = page.get_by_test_id("my-cases")
    for number in (by_phone.tracking_number, by_text.tracking_number):
        await expect(mine.locator(f"tr[data-case='{number}']")).to_contain_text("شکایت")
    await page.get_by_test_id("team").select_option("adjusters")
    team = page.get_by_test_id("team-cases")
    await expect(team.locator(f"tr[data-case='{from_partner}']")).to_contain_text(
        "ارجاع به کارشناس خسارت"
    )
    # The supervisor's panel counts each team's open cases.
    load = page.get_by_test_id("team-load")
    await expect(load.locator("tr[data-team=customer_care] td").nth(1)).to_have_text("۲")
    await mine.locator(f"tr[data-case='{by_phone.tracking_number}']").click()
    await expect(page.get_by_test_id("detail-number")).to_have_text(by_phone.tracking_number)
    await expect(page.get_by_test_id("timeline").locator("li").first).to_contain_text("recording:")
    await page.get_by_test_id("move-state").select_option("acknowledged")
    await page.get_by_test_id("move").click()
    await expect(page.get_by_test_id("detail-state")).to_have_text("اعلام وصول")
    # An escalation reaches the page live, in the agent's language.
    alert = CaseAlert(await store.get(by_text.tracking_number), EscalationAction.NOTIFY_OWNER,
                      "205", datetime.now(UTC))  # fmt: skip
    await bus.publish(alert)
    alerts = page.get_by_test_id("alerts")
    await expect(alerts.locator("li")).to_contain_text(f"مهلت پرونده {by_text.tracking_number}")
    # Reports: the partners' SLA compliance for today, on the Jalali calendar.
    today = jdatetime.date.fromgregorian(date=datetime.now(TEHRAN).date())
    await page.get_by_test_id("report-name").select_option("partners")
    await page.get_by_test_id("report-from").fill(today.strftime("%Y/%m/%d"))
    await page.get_by_test_id("report-to").fill((today + timedelta(days=1)).strftime("%Y/%m/%d"))
    await page.get_by_test_id("report-show").click()
    report = page.get_by_test_id("report")
    await expect(report.locator("tbody tr")).to_have_count(1)
    await expect(report.locator("tbody td").first).to_have_text("acme")
    await expect(report.locator("th").nth(5)).to_have_text("رعایت مهلت")
    assert "format=xlsx" in (await page.get_by_test_id("report-xlsx").get_attribute("href") or "")
    await page.get_by_test_id("language").select_option("en")
    await expect(page.get_by_test_id("detail-state")).to_have_text("acknowledged")
    assert await page.evaluate("document.documentElement.dir") == "ltr"
    await page.close()


async def test_the_openapi_document_lists_exactly_the_partner_routes(server: RunningServer) -> None:
    document = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    base = document["servers"][0]["url"]
    documented = {
        (method.upper(), base + path)
        for path, operations in document["paths"].items()
        for method in operations
        if method != "parameters"
    }
    served = {
        (route.method, route.resource.canonical)
        for route in server.app.router.routes()
        if route.method != "HEAD"  # aiohttp's own, beside each GET
        and route.resource is not None
        and route.resource.canonical.startswith(base)
    }
    assert documented == served
