"""Pointing Tamas at an insurer's core system over HTTP: `RestCustomerFile` against a small
local core-system server that speaks the protocol in integrations/customer_file/rest.py
(backed by its own database), while Tamas keeps complaints, tasks and calls in its own."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from test_customer_file import (
    AUTHENTICITY_CODE,
    CLAIM_CODE,
    MOBILE,
    NATIONAL_ID,
    NOW,
    POLICY_NUMBER,
    SHAREHOLDER_NUMBER,
    File,
    _build,
)

from customer_file.identifiers import InvalidIdentifier
from customer_file.views import CustomerRegistration, as_json, from_json
from integrations.customer_file import CustomerFile, CustomerFileError, DuplicateCustomer
from integrations.customer_file.adapters import open_customer_file
from integrations.customer_file.rest import RestCustomerFile
from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from integrations.migrations import upgrade
from interactions.table import Interaction
from tamas.settings import load

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def core_system(core: SqlCustomerFile) -> web.Application:
    """The insurer's side: answers the protocol from its own records."""

    def reply(view: Any) -> web.Response:
        if view is None:
            raise web.HTTPNotFound()
        return web.json_response(as_json(view), dumps=lambda d: json.dumps(d, ensure_ascii=False))

    def route(produce: Callable[[web.Request], Awaitable[Any]]) -> Handler:
        async def handler(request: web.Request) -> web.StreamResponse:
            return reply(await produce(request))

        return handler

    async def check_pin(request: web.Request) -> web.Response:
        pin = (await request.json())["pin"]
        if "shareholder" in request.match_info:
            valid = await core.verify_shareholder_pin(request.match_info["shareholder"], pin)
        else:
            valid = await core.verify_customer_pin(int(request.match_info["id"]), pin)
        return web.json_response({"valid": valid})

    async def register(request: web.Request) -> web.Response:
        try:
            summary = await core.register_customer(
                from_json(CustomerRegistration, await request.json())
            )
        except DuplicateCustomer as error:
            return web.json_response({"field": error.field}, status=409)
        return reply(summary)

    async def set_pin(request: web.Request) -> web.Response:
        customer_id = int(request.match_info["id"])
        if await core.customer(customer_id) is None:
            raise web.HTTPNotFound()
        try:
            await core.set_customer_pin(customer_id, (await request.json())["pin"])
        except CustomerFileError as error:
            raise web.HTTPBadRequest(text=str(error)) from error
        return web.Response(status=204)

    def meeting(request: web.Request) -> Awaitable[Any]:
        after = request.query.get("after")
        return core.next_general_meeting(datetime.fromisoformat(after) if after else None)

    app = web.Application()

    async def posted(request: web.Request) -> Any:
        body = await request.json()
        if request.path.endswith("/by-phone"):
            return await core.customer_by_phone(body["e164"])
        if request.path.endswith("/by-national-id"):
            return await core.customer_by_national_id(body["national_id"])
        return await core.search_customers(body["q"], int(body["limit"]))

    app.router.add_post("/core/customers/by-phone", route(posted))
    app.router.add_post("/core/customers/by-national-id", route(posted))
    app.router.add_post("/core/customers/search", route(posted))
    app.router.add_get(
        "/core/customers/by-policy/{number}",
        route(lambda r: core.customer_by_policy_number(r.match_info["number"])),
    )
    app.router.add_get(
        "/core/customers/{id:\\d+}", route(lambda r: core.customer(int(r.match_info["id"])))
    )
    app.router.add_get(
        "/core/customers/{id:\\d+}/file",
        route(lambda r: core.customer_file(int(r.match_info["id"]))),
    )
    app.router.add_get(
        "/core/customers/{id:\\d+}/debts", route(lambda r: core.debts(int(r.match_info["id"])))
    )
    app.router.add_post("/core/customers", register)
    app.router.add_post("/core/customers/{id:\\d+}/pin/check", check_pin)
    app.router.add_put("/core/customers/{id:\\d+}/pin", set_pin)
    app.router.add_get(
        "/core/claims/{code}", route(lambda r: core.claim_by_tracking_code(r.match_info["code"]))
    )
    app.router.add_get(
        "/core/policies/authenticity/{key}",
        route(lambda r: core.policy_for_authenticity(r.match_info["key"])),
    )
    app.router.add_get(
        "/core/branches/near",
        route(lambda r: core.branches_near(r.query["postal_code"], int(r.query["limit"]))),
    )
    app.router.add_get(
        "/core/medical-centres", route(lambda r: core.medical_centres(r.query.get("city")))
    )
    app.router.add_get(
        "/core/payment-centres", route(lambda r: core.payment_centres(r.query.get("city")))
    )
    app.router.add_get(
        "/core/shareholders/{number}", route(lambda r: core.shareholder(r.match_info["number"]))
    )
    app.router.add_post("/core/shareholders/{shareholder}/pin/check", check_pin)
    app.router.add_get("/core/general-meetings/next", route(meeting))
    app.router.add_post("/core/broken/customers/by-phone", route(_garbled))
    return app


async def _garbled(_request: web.Request) -> dict[str, Any]:
    return {"id": "not a number"}


@pytest.fixture
async def core_url(database: Database) -> AsyncIterator[tuple[str, File]]:
    built = await _build(database)
    server = TestServer(core_system(SqlCustomerFile(database)), host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/core")), built
    finally:
        await server.close()


@pytest.fixture
async def tamas_database(tmp_path: Path) -> AsyncIterator[Database]:
    """Tamas's own database: no customers in it at all."""
    # Its own file: the core system's database fixture also lives in tmp_path.
    url = f"sqlite+aiosqlite:///{tmp_path / 'tamas_own.sqlite3'}"
    await upgrade(url)
    database = Database(url)
    yield database
    await database.dispose()


@pytest.fixture
async def rest(
    core_url: tuple[str, File], tamas_database: Database
) -> AsyncIterator[RestCustomerFile]:
    settings = load(
        env={
            "TAMAS_CUSTOMER_FILE_ADAPTER": "integrations.customer_file.rest:make",
            "TAMAS_CUSTOMER_FILE_URL": core_url[0],
            "TAMAS_CUSTOMER_FILE_ALLOW_HTTP": "1",  # the test core system is on loopback
        }
    )
    adapter = open_customer_file(settings, tamas_database)
    assert isinstance(adapter, RestCustomerFile) and isinstance(adapter, CustomerFile)
    yield adapter
    await adapter.close()


async def test_callers_are_recognised_through_the_core_system(rest: RestCustomerFile) -> None:
    caller = await rest.customer_by_phone("09121234567")
    assert caller is not None and caller.name_fa == "علی محمدی" and caller.is_priority
    assert await rest.customer_by_phone("+989350000000") is None
    assert await rest.customer_by_phone("1001") is None
    by_id = await rest.customer_by_national_id(NATIONAL_ID)
    assert by_id is not None and by_id.id == caller.id
    with pytest.raises(InvalidIdentifier):
        await rest.customer_by_national_id("0076229646")
    holder = await rest.customer_by_policy_number(POLICY_NUMBER)
    assert holder is not None and holder.id == caller.id
    assert await rest.verify_customer_pin(caller.id, "4321")
    assert not await rest.verify_customer_pin(caller.id, "1111")


async def test_every_menu_question_is_answered_by_the_core_system(rest: RestCustomerFile) -> None:
    status = await rest.claim_by_tracking_code(CLAIM_CODE)
    assert status is not None
    assert status.claim.stage == "approved" and status.claim.amount_approved_rials == 230_000_000
    assert status.claim.stage_changed_at.tzinfo is not None
    assert await rest.claim_by_tracking_code("00000000") is None
    genuine = await rest.policy_for_authenticity(AUTHENTICITY_CODE)
    assert genuine.genuine and genuine.holder_name_masked_fa == "ع*** م***"
    assert not (await rest.policy_for_authenticity("1")).genuine
    caller = await rest.customer_by_phone(MOBILE)
    assert caller is not None
    assert (await rest.debts(caller.id)).balance_rials == 31_500_000
    branches = await rest.branches_near("1193653471")
    assert [b.code for b in branches] == ["B-TEH-1", "B-TEH-2", "B-TEH-3"]
    assert branches[0].distance_km is not None
    assert len(await rest.medical_centres()) == 2
    assert [c.kind for c in await rest.payment_centres("تهران")] == ["payment"]
    holder = await rest.shareholder(SHAREHOLDER_NUMBER)
    assert holder is not None and holder.unpaid_dividends_rials == 63_000_000
    assert await rest.verify_shareholder_pin(SHAREHOLDER_NUMBER, "2580")
    meeting = await rest.next_general_meeting(NOW)
    assert meeting is not None and meeting.place_en == "Tehran, insurance conference hall"
    found = await rest.search_customers("mohammadi")
    assert [c.family_name_latin for c in found] == ["Mohammadi"]


async def test_the_popup_file_joins_core_data_with_tamas_own_records(
    rest: RestCustomerFile, tamas_database: Database
) -> None:
    caller = await rest.customer_by_phone(MOBILE)
    assert caller is not None
    # Requests and calls are written to Tamas's database, which has no customers table rows.
    number = await rest.create_complaint("claim", customer_id=caller.id)
    await rest.create_callback_task("renewal", MOBILE, customer_id=caller.id, policy_number="9")
    async with tamas_database.session() as session:
        session.add(
            Interaction(linkedid="1.1", customer_id=caller.id, started_at=NOW, agent="1001")
        )
        await session.commit()
    file = await rest.customer_file(caller.id)
    assert file is not None
    assert file.policies[0].number == POLICY_NUMBER
    assert [c.tracking_code for c in file.claims] == [CLAIM_CODE]
    assert [c.tracking_number for c in file.open_complaints] == [number]
    assert [t.policy_number for t in file.open_callback_tasks] == ["9"]
    assert [i.linkedid for i in file.recent_interactions] == ["1.1"]
    assert await rest.customer_file(999_999) is None


async def test_registration_goes_to_the_core_system(rest: RestCustomerFile) -> None:
    summary = await rest.register_customer(
        CustomerRegistration(family_name_fa="رضایی", phones=("09351112233",), language="ru")
    )
    assert summary.language == "ru"
    again = await rest.customer_by_phone("+989351112233")
    assert again is not None and again.id == summary.id
    with pytest.raises(DuplicateCustomer) as caught:
        await rest.register_customer(
            CustomerRegistration(family_name_fa="تکراری", phones=("09121234567",))
        )
    assert caught.value.field == "phone"


async def test_a_core_system_that_is_down_or_garbled_gives_a_clear_error(
    core_url: tuple[str, File], tamas_database: Database
) -> None:
    down = RestCustomerFile("http://127.0.0.1:1/core", tamas_database, timeout_s=1, allow_http=True)
    with pytest.raises(CustomerFileError, match="unreachable"):
        await down.customer_by_phone(MOBILE)
    await down.close()
    garbled = RestCustomerFile(core_url[0] + "/broken", tamas_database, allow_http=True)
    with pytest.raises(CustomerFileError, match="does not fit"):
        await garbled.customer_by_phone(MOBILE)
    await garbled.close()


def test_the_rest_adapter_needs_its_url(tmp_path: Path) -> None:
    settings = load(env={"TAMAS_CUSTOMER_FILE_ADAPTER": "integrations.customer_file.rest:make"})
    with pytest.raises(CustomerFileError, match="customer_file_url"):
        open_customer_file(settings, Database(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"))
