"""The civil registry check before a case opens, against a local server that behaves like the
registry: a known person opens the case (their answer on the timeline), an unknown one opens
nothing, and a registry that fails or does not answer lets the case open marked unverified."""

from __future__ import annotations

import pytest
from aiohttp import web
from popup_support import served

from cases import types
from cases.registry import CivilRegistry, UnknownPerson
from cases.store import CaseChannel, CaseRequest, CaseStore
from customer_file.identifiers import national_id_check_digit
from integrations.database import Database


def national_id(first_nine: str) -> str:
    return first_nine + str(national_id_check_digit(first_nine))


FIRST_NINE = ("001234567", "002345678", "003456789", "004567891")
LIVING, DECEASED, UNKNOWN, BROKEN = (national_id(first) for first in FIRST_NINE)
PEOPLE = {LIVING: {"alive": True}, DECEASED: {"alive": False}}


async def person(request: web.Request) -> web.Response:
    if request.headers.get("Authorization") != "Bearer registry-token":
        raise web.HTTPUnauthorized()
    number = request.match_info["national_id"]
    if number == BROKEN:
        raise web.HTTPInternalServerError()
    if number not in PEOPLE:
        raise web.HTTPNotFound()
    return web.json_response(PEOPLE[number])


def letter(member: str) -> CaseRequest:
    fields = {"policy_number": "H-1", "member_national_id": member, "hospital": "Day"}
    return CaseRequest("hospital_admission_letter", CaseChannel.DESKTOP, "agent:101", "", fields,
                       national_id=member)  # fmt: skip


async def test_the_registry_is_asked_before_a_case_opens(database: Database) -> None:
    async with served(web.get("/persons/{national_id}", person)) as base:
        store = CaseStore(database, types.load(), registry=CivilRegistry(base, "registry-token"))
        known = await store.open_case(letter(LIVING))
        identity = [e for e in await store.timeline(known.tracking_number) if e.kind == "identity"]
        assert identity[0].data == {"verified": True, "alive": True, "reason": ""}
        with pytest.raises(UnknownPerson, match="national_id: the civil registry"):
            await store.open_case(letter(UNKNOWN))
        unverified = await store.open_case(letter(BROKEN))
        notes = [e.note for e in await store.timeline(unverified.tracking_number)]
        assert "registry answered 500" in notes
        deceased = await store.open_case(letter(DECEASED))
        entries = await store.timeline(deceased.tracking_number)
        assert [e.data.get("alive") for e in entries if e.kind == "identity"] == [False]
    assert len(await store.find()) == 3
    # The registry gone: the case still opens, marked unverified.
    store = CaseStore(database, types.load(), registry=CivilRegistry(base, "registry-token", 1))
    case = await store.open_case(letter(LIVING))
    (entry,) = [e for e in await store.timeline(case.tracking_number) if e.kind == "identity"]
    assert entry.data["verified"] is False and "unreachable" in entry.note
