"""Complaints exported to the central insurance complaint system and kept in step with it,
against a local server that behaves like it: bearer token, a duplicate export answered 409 with
the existing id, outages (503, a dropped server) after which the next run catches up without
sending anything twice, and the regulator's notes read back into the timeline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from popup_support import served

from cases import types
from cases.central import CentralComplaints, CentralSync
from cases.store import CaseChannel, CaseRequest, CaseStore
from integrations.database import Database

TOKEN = "central-token"


@dataclass
class CentralSystem:
    """The regulator's service as the adapter sees it."""

    complaints: dict[str, dict[str, Any]] = field(default_factory=dict)
    by_external: dict[str, str] = field(default_factory=dict)
    statuses: list[tuple[str, str]] = field(default_factory=list)
    down: bool = False
    posts: int = 0

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/complaints", self.create),
            web.put("/complaints/{id}/status", self.status),
            web.get("/complaints/{id}", self.read),
        ]

    def _check(self, request: web.Request) -> None:
        if self.down:
            raise web.HTTPServiceUnavailable(text='{"error": "maintenance"}')
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            raise web.HTTPUnauthorized(text='{"error": "token"}')

    async def create(self, request: web.Request) -> web.Response:
        self._check(request)
        self.posts += 1
        body = await request.json()
        existing = self.by_external.get(body["external_id"])
        if existing:
            return web.json_response({"id": existing, "error": "duplicate"}, status=409)
        central_id = f"C{len(self.complaints) + 1:05d}"
        self.complaints[central_id] = {"status": body["status"], "regulator_note": None}
        self.by_external[body["external_id"]] = central_id
        return web.json_response({"id": central_id}, status=201)

    async def status(self, request: web.Request) -> web.Response:
        self._check(request)
        central_id = request.match_info["id"]
        if central_id not in self.complaints:
            raise web.HTTPNotFound(text='{"error": "no such complaint"}')
        status = (await request.json())["status"]
        self.complaints[central_id]["status"] = status
        self.statuses.append((central_id, status))
        return web.json_response({"id": central_id})

    async def read(self, request: web.Request) -> web.Response:
        self._check(request)
        return web.json_response(self.complaints[request.match_info["id"]])


@pytest.fixture
async def central() -> AsyncIterator[tuple[CentralSystem, str]]:
    system = CentralSystem()
    async with served(*system.routes()) as base:
        yield system, base


async def _complaint(store: CaseStore) -> str:
    request = CaseRequest("complaint", CaseChannel.IVR, "ivr", "",
                          {"remedy_sought": "refund", "category": "delay"})  # fmt: skip
    return (await store.open_case(request)).tracking_number


async def test_complaints_are_exported_once_and_follow_their_states(
    database: Database, central: tuple[CentralSystem, str]
) -> None:
    system, base = central
    store = CaseStore(database, types.load())
    sync = CentralSync(store, CentralComplaints(base, TOKEN, timeout_s=2))
    first, second = await _complaint(store), await _complaint(store)
    report = await sync.run()
    assert (report.exported, report.updated, report.outage) == (2, 0, None)
    assert set(system.by_external) == {first, second}
    await store.move(first, "acknowledged", "agent:1")
    assert (await sync.run()).updated == 1
    assert (await sync.run()).updated == 0  # nothing new: nothing sent
    assert system.statuses == [(system.by_external[first], "acknowledged")]
    # The regulator writes a note on the complaint; it lands in the timeline once.
    system.complaints[system.by_external[first]]["regulator_note"] = "answer within 5 days"
    assert (await sync.run()).regulator_notes == 1
    assert (await sync.run()).regulator_notes == 0
    notes = [e.note for e in await store.timeline(first) if e.kind == "central" and e.note]
    assert notes == ["answer within 5 days"]


async def test_an_outage_stops_the_run_and_the_next_one_catches_up(
    database: Database, central: tuple[CentralSystem, str]
) -> None:
    system, base = central
    store = CaseStore(database, types.load())
    sync = CentralSync(store, CentralComplaints(base, TOKEN, timeout_s=2))
    number = await _complaint(store)
    system.down = True
    report = await sync.run()
    assert report.exported == 0 and report.outage == "central system answered 503"
    system.down = False
    await store.move(number, "acknowledged", "agent:1")
    report = await sync.run()
    # Exported with its current status: one complaint, nothing to update after.
    assert (report.exported, report.updated) == (1, 0)
    assert system.complaints[system.by_external[number]]["status"] == "acknowledged"


async def test_an_export_whose_answer_was_lost_is_not_duplicated(
    database: Database, central: tuple[CentralSystem, str]
) -> None:
    system, base = central
    store = CaseStore(database, types.load())
    number = await _complaint(store)
    # The service registered it, but our side never heard the answer.
    system.by_external[number] = "C00042"
    system.complaints["C00042"] = {"status": "registered", "regulator_note": None}
    report = await CentralSync(store, CentralComplaints(base, TOKEN)).run()
    assert report.exported == 1 and len(system.complaints) == 1
    central_ids = [e.data.get("central_id") for e in await store.timeline(number)]
    assert "C00042" in central_ids


async def test_an_unreachable_service_and_a_wrong_token_are_reported(database: Database) -> None:
    store = CaseStore(database, types.load())
    await _complaint(store)
    # Nothing listens on this port: the run reports the outage, it does not raise.
    report = await CentralSync(store, CentralComplaints("http://127.0.0.1:9", TOKEN, 1)).run()
    assert report.outage is not None and "unreachable" in report.outage
    system = CentralSystem()
    async with served(*system.routes()) as base:
        report = await CentralSync(store, CentralComplaints(base, "wrong")).run()
    assert report.exported == 0 and report.refused and "401" in report.refused[0]
