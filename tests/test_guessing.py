"""Guessing is slowed for real: attempts at a secret are counted before it is checked, in one
atomic step (in this process and in a real Redis), so parallel guesses get no more checks than
the limit; the login limit counts the real client behind our proxies; the in-process counts
survive a spray of junk keys; an IVR call gets no more tries than the limit over every claim
it names."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis.asyncio as redis
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from ivr_support import (
    CLAIM_CODE,
    GOLD_PHONE,
    PIN,
    STRANGER_PHONE,
    ScriptedCaller,
    build_customer_file,
    call_ivr,
    en,
    make_engine,
    session_for,
)
from popup_support import PASSWORD, RunningServer, add_agents, client, start_server

from integrations.customer_file.sql import SqlCustomerFile
from integrations.database import Database
from interactions.records import InteractionRecords
from ivr.lockout import MemoryFailures, PinGuard, RedisFailures
from ivr.routes import IvrRoutes
from ivr.services import welcome
from popup_server import agents
from popup_server.auth import LIMITER, client_address
from tamas.limits import FailureLimiter
from tamas.settings import Settings

REDIS_URL = "redis://127.0.0.1:6379/0"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


# --- the limiter itself ---------------------------------------------------------------------


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[MemoryFailures | RedisFailures]:
    if request.param == "memory":
        made: MemoryFailures | RedisFailures = MemoryFailures()
    else:
        made = RedisFailures(REDIS_URL, prefix=f"tamas-test:{uuid.uuid4().hex}:")
    yield made
    await made.close()


async def test_parallel_attempts_past_the_limit_are_refused_before_any_check(
    store: MemoryFailures | RedisFailures,
) -> None:
    limiter = FailureLimiter(store, limit=5, window_s=300)
    keys = [limiter.key("agent", "101"), limiter.key("addr", "192.0.2.7")]
    checked = 0

    async def guess() -> None:
        nonlocal checked
        async with limiter.attempt(keys) as attempt:
            if attempt.admitted:
                checked += 1
                await asyncio.sleep(0.01)  # the hash being computed

    await asyncio.gather(*(guess() for _ in range(40)))

    assert checked == 5
    async with limiter.attempt(keys) as attempt:
        assert not attempt.admitted and 0 < attempt.retry_after_s <= 300


async def test_a_right_secret_gives_its_attempt_back(store: MemoryFailures | RedisFailures) -> None:
    limiter = FailureLimiter(store, limit=2, window_s=300)
    agent, address = limiter.key("agent", "101"), limiter.key("addr", "192.0.2.7")
    for _ in range(5):  # five agents logging in right from one desk's address
        async with limiter.attempt([agent, address]) as attempt:
            assert attempt.admitted
            await limiter.succeeded(attempt, forget=[agent])
    assert await store.count(address, 300) == 0


async def test_checks_of_one_key_at_once_are_bounded() -> None:
    limiter = FailureLimiter(MemoryFailures(), limit=100, window_s=300, max_concurrent=2)
    running = peak = 0

    async def check() -> bool:
        nonlocal running, peak
        async with limiter.attempt([limiter.key("agent", "101")]) as attempt:
            if not attempt.admitted:
                return False
            running += 1
            peak = max(peak, running)
            await asyncio.sleep(0.01)
            running -= 1
            return True

    admitted = await asyncio.gather(*(check() for _ in range(10)))
    assert peak == 2 and sum(admitted) == 2
    # The refused were not counted: nothing was tried.
    assert await limiter.store.count(limiter.key("agent", "101"), 300) == 2
    async with limiter.attempt([limiter.key("agent", "101")]) as attempt:
        assert attempt.admitted and not attempt.busy


async def test_keys_name_nobody_without_the_secret() -> None:
    one = FailureLimiter(MemoryFailures(), 3, 900, secret=b"first box")
    other = FailureLimiter(MemoryFailures(), 3, 900, secret=b"second secret")
    key = one.key("caller", "+989121110000")
    assert "989121110000" not in key and key != other.key("caller", "+989121110000")
    assert key == one.key("caller", "+989121110000")


async def test_a_spray_of_junk_keys_does_not_wipe_a_guessers_count() -> None:
    store = MemoryFailures(max_keys=100)
    limiter = FailureLimiter(store, limit=5, window_s=300)
    guessed = limiter.key("agent", "101")
    refused = False
    for round_ in range(5):
        async with limiter.attempt([guessed]) as attempt:
            refused = not attempt.admitted
        for n in range(60):  # junk numbers from a botnet, 300 in all: three times the room
            async with limiter.attempt([limiter.key("agent", f"junk-{round_}-{n}")]):
                pass
        assert len(store) <= 100  # memory stays bounded
    assert not refused
    async with limiter.attempt([guessed]) as attempt:
        assert not attempt.admitted  # the five guesses are still counted


async def test_expired_counts_are_swept_on_a_timer() -> None:
    clock = Clock()
    store = MemoryFailures(clock, sweep_every_s=0.05)
    limiter = FailureLimiter(store, limit=3, window_s=60)
    for n in range(20):
        async with limiter.attempt([limiter.key("caller", str(n))]):
            pass
    assert len(store) == 20
    clock.now += 61
    await asyncio.sleep(0.2)
    assert len(store) == 0
    await store.close()


# --- agent login ----------------------------------------------------------------------------


def counting_checks(monkeypatch: pytest.MonkeyPatch, database: Database) -> dict[str, int]:
    """Counts password checks, and notes the most database connections held during one."""
    seen = {"checks": 0, "connections_held": 0}
    lock = threading.Lock()
    real = agents.verify_secret
    pool = database.engine.sync_engine.pool

    def verify(secret: str, stored: str | None) -> bool:
        with lock:
            seen["checks"] += 1
            held = pool.checkedout()  # type: ignore[attr-defined]
            seen["connections_held"] = max(seen["connections_held"], held)
        return real(secret, stored)

    monkeypatch.setattr(agents, "verify_secret", verify)
    return seen


async def login_status(server: RunningServer, number: str, password: str, **headers: str) -> int:
    async with (
        client(server) as session,
        session.post(
            "/api/login", json={"agent": number, "password": password}, headers=headers
        ) as r,
    ):
        return r.status


@pytest.mark.parametrize("redis_url", ["", REDIS_URL], ids=["in-process", "redis"])
async def test_forty_parallel_wrong_passwords_get_at_most_five_checks(
    database: Database, monkeypatch: pytest.MonkeyPatch, redis_url: str
) -> None:
    server = await start_server(database, settings=Settings(redis_url=redis_url))
    number = str(uuid.uuid4().int % 10**8 + 10**8)
    limiter = server.app[LIMITER]
    keys = [limiter.key("agent", number), limiter.key("addr", "127.0.0.1")]
    try:
        await add_agents(server, number)
        seen = counting_checks(monkeypatch, database)
        statuses = await asyncio.gather(
            *(login_status(server, number, f"guess-{n}") for n in range(40))
        )
        assert seen["checks"] <= 5
        assert set(statuses) <= {401, 429} and statuses.count(401) == seen["checks"]
        # Guessing on, one at a time, never gets past five checks either; then even the
        # right password is refused until the window passes.
        for n in range(5):
            assert await login_status(server, number, f"again-{n}") in (401, 429)
        assert seen["checks"] <= 5
        assert await login_status(server, number, PASSWORD) == 429
    finally:
        await server.stop()
        if redis_url:
            cleanup = redis.from_url(redis_url)
            await cleanup.delete(*(f"tamas:login-failures:{key}" for key in keys))
            await cleanup.aclose()


async def test_agents_behind_a_trusted_proxy_are_counted_by_their_own_address(
    database: Database,
) -> None:
    settings = Settings(http_trusted_proxies=("127.0.0.0/8",))
    server = await start_server(database, settings=settings)
    try:
        await add_agents(server, "101", "102", "103", "104", "105", "106", "107")
        # Five typos at one desk, on five agents' numbers (none of them locked by this)...
        for number in ("101", "102", "103", "104", "105"):
            status = await login_status(server, number, "typo", **{"X-Forwarded-For": "10.1.1.1"})
            assert status == 401
        assert await login_status(server, "106", PASSWORD, **{"X-Forwarded-For": "10.1.1.1"}) == 429
        # ...do not lock out the next desk behind the same load balancer.
        assert await login_status(server, "107", PASSWORD, **{"X-Forwarded-For": "10.1.1.2"}) == 200
    finally:
        await server.stop()


async def test_no_database_connection_is_held_while_a_password_is_hashed(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = agents.AgentDirectory(database, session_ttl_s=3600)
    await directory.create_agent("101", PASSWORD, "Local/101@tamas-agents", password_cost=2**8)
    seen = counting_checks(monkeypatch, database)

    assert await directory.log_in("101", "wrong password") is None
    assert await directory.log_in("101", PASSWORD) is not None
    assert await directory.log_in("999", PASSWORD) is None  # unknown agents are hashed too

    # A flood of logins waits for hashing threads, not for the pool every request needs.
    assert seen == {"checks": 3, "connections_held": 0}


def request_from(remote: str, forwarded: str | None = None) -> web.Request:
    headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
    request = make_mocked_request("POST", "/api/login", headers=headers)
    return request.clone(remote=remote)


def test_the_client_address_is_read_only_from_trusted_proxies() -> None:
    import ipaddress

    proxies = (ipaddress.ip_network("10.0.0.0/24"),)
    # A client cannot choose its own key by sending the header itself.
    assert client_address(request_from("203.0.113.9", "198.51.100.1"), proxies) == "203.0.113.9"
    # Behind our proxy: the rightmost hop the proxy did not write is the client; what the
    # client wrote to the left of it is ignored.
    assert client_address(request_from("10.0.0.5", "1.2.3.4, 203.0.113.9"), proxies) == (
        "203.0.113.9"
    )
    assert client_address(request_from("10.0.0.5", "203.0.113.9, 10.0.0.6"), proxies) == (
        "203.0.113.9"
    )
    assert client_address(request_from("10.0.0.5", "junk"), proxies) == "10.0.0.5"
    assert client_address(request_from("10.0.0.5"), proxies) == "10.0.0.5"


# --- the IVR --------------------------------------------------------------------------------


class CountingPins(SqlCustomerFile):
    """Our real customer file, counting how many secrets are checked against a PIN hash."""

    checks = 0

    async def verify_customer_pin(self, customer_id: int, pin: str) -> bool:
        type(self).checks += 1
        await asyncio.sleep(0.02)
        return await super().verify_customer_pin(customer_id, pin)


def pin_guards() -> list[tuple[str, Callable[[], PinGuard]]]:
    return [
        ("in-process", lambda: PinGuard(MemoryFailures(), max_failures=3, window_s=900)),
        (
            "redis",
            lambda: PinGuard(
                RedisFailures(REDIS_URL, prefix=f"tamas-test:{uuid.uuid4().hex}:"), 3, 900
            ),
        ),
    ]


@pytest.mark.parametrize(
    ("kind", "make_guard"), pin_guards(), ids=lambda v: v if isinstance(v, str) else ""
)
async def test_ten_parallel_calls_against_one_claim_try_at_most_three_wrong_secrets(
    database: Database, kind: str, make_guard: Callable[[], PinGuard]
) -> None:
    await build_customer_file(database)
    pins = make_guard()
    engine = make_engine(database, pins=pins)
    engine.facilities.customers = CountingPins(database)
    CountingPins.checks = 0
    callers = [
        ScriptedCaller.keys("2", "1", CLAIM_CODE + "#", "1111#", "2222#", "3333#")
        for _ in range(10)
    ]
    try:
        await asyncio.gather(
            *(
                engine.run(
                    caller, session_for(f"+98935000{n:04d}", f"call-{n}"), welcome=welcome.run
                )
                for n, caller in enumerate(callers)
            )
        )
        assert CountingPins.checks <= 3
        assert all(en("claim_stage_approved") not in caller.heard for caller in callers)
        assert await pins.locked("+989359999999", f"claim:{CLAIM_CODE}")
    finally:
        await pins.close()


async def test_one_call_gets_three_tries_over_every_claim_it_names(database: Database) -> None:
    await build_customer_file(database)
    engine = make_engine(database)
    # A withheld number (nothing to count by but the call): unknown codes one after another.
    caller = ScriptedCaller.keys(
        "2",
        "1",
        "11111111#",
        "1111#",
        "*",
        "1",
        "22222222#",
        "1111#",
        "*",
        "1",
        "33333333#",
        "1111#",
        "*",
        "1",
        "44444444#",
    )
    session = session_for(None)

    await engine.run(caller, session, welcome=welcome.run)

    assert caller.heard.count(en("identity_not_verified")) == 2
    assert "access is locked for now" in caller.heard
    # The fourth code was not even asked a secret for.
    assert caller.heard.count(en("enter_nid_last4")) == 5  # twice for each of the first two


async def test_a_right_secret_does_not_count_against_the_callers_number(
    database: Database,
) -> None:
    await build_customer_file(database)
    pins = PinGuard(MemoryFailures(), max_failures=3, window_s=900)
    engine = make_engine(database, pins=pins)
    last4 = (await SqlCustomerFile(database).claim_by_tracking_code(CLAIM_CODE)).national_id_last4  # type: ignore[union-attr]
    for n in range(4):
        caller = ScriptedCaller.keys("2", "1", CLAIM_CODE + "#", last4 + "#", "~")
        await engine.run(caller, session_for(STRANGER_PHONE, f"call-{n}"), welcome=welcome.run)
        assert en("claim_stage_approved") in caller.heard
    assert not await pins.locked(STRANGER_PHONE, "national_id:1")


# --- caller ID is spoofable -----------------------------------------------------------------


async def test_a_number_match_is_recognised_not_verified_and_the_name_is_not_said(
    database: Database,
) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("~")
    session = await call_ivr(database, caller, GOLD_PHONE)
    await InteractionRecords(database).save_call(session.part())

    assert session.customer is not None and not session.customer.verified
    assert "مریم احمدی" not in caller.heard  # anyone can send this number as caller ID
    card = await InteractionRecords(database).ivr_summary(session.linkedid)
    assert card is not None
    assert (card["identified"], card["identified_by"]) == (True, "caller_id")


async def test_a_checked_secret_makes_the_recognised_caller_verified(database: Database) -> None:
    await build_customer_file(database)
    caller = ScriptedCaller.keys("~", "1", CLAIM_CODE + "#", PIN + "#", "~")
    session = await call_ivr(database, caller, GOLD_PHONE)
    await InteractionRecords(database).save_call(session.part())

    assert session.customer is not None and session.customer.identified_by == "pin"
    customers = [item for item in session.looked_up if item["kind"] == "customer"]
    assert [item["identified_by"] for item in customers] == ["pin"]
    card = await InteractionRecords(database).ivr_summary(session.linkedid)
    assert card is not None and card["identified_by"] == "pin"


async def test_a_caller_the_ivr_did_not_identify_is_said_so_on_the_card(
    database: Database,
) -> None:
    await build_customer_file(database)
    session = await call_ivr(database, ScriptedCaller.keys("~"), STRANGER_PHONE)
    await InteractionRecords(database).save_call(session.part())

    card = await InteractionRecords(database).ivr_summary(session.linkedid)
    assert card is not None
    assert (card["identified"], card["identified_by"]) == (False, None)


async def test_the_ivr_takes_the_greeting_rule_and_the_lockout_key_from_the_settings(
    database: Database, tmp_path: Path
) -> None:
    def routes(**values: object) -> IvrRoutes:
        settings = Settings(data_dir=tmp_path, sounds_dir=str(tmp_path / "none"), **values)  # type: ignore[arg-type]
        return IvrRoutes(settings, database, customers=SqlCustomerFile(database))

    default, greeting = routes(), routes(ivr_greet_by_caller_id=True, lockout_secret="one")
    assert not default.facilities.greet_by_caller_id
    assert greeting.facilities.greet_by_caller_id
    # Without a secret in the settings, one is generated (owner-only) and reused.
    secret = tmp_path / "lockout.secret"
    assert secret.stat().st_mode & 0o777 == 0o600
    again = routes()
    caller = "+989121110000"
    keys = [made.facilities.pins.keys(caller, "claim:1") for made in (default, again, greeting)]
    assert keys[0] == keys[1] != keys[2]
