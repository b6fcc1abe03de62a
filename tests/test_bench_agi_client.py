"""The benchmark's load generator speaks Asterisk's side of FastAGI the way our real server
expects: headers, answers to each command, the caller's keys, hang-up. Behaviour only; the
figures are the benchmark's business."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from agi_scripts.channel import AgiChannel
from agi_scripts.fastagi import AgiServer
from bench.agi_protocol_client import AsteriskSide, CallerScript, LoadPlan, run_load, run_session
from bench.server_process import ServerStats, timed
from bench.trivial_agi import EXPECTED_VARIABLE, RESULT_VARIABLE, ROUTE, trivial_route
from tamas.settings import Settings

TRIVIAL = CallerScript(
    ROUTE, keys="1234567", variables={EXPECTED_VARIABLE: "1234567"}, expect=(RESULT_VARIABLE, "ok")
)


@pytest.fixture
async def server() -> AsyncIterator[AgiServer]:
    seen: list[AgiChannel] = []

    async def echo(channel: AgiChannel) -> None:
        seen.append(channel)
        await channel.answer()
        linkedid = await channel.linkedid()
        keys = await channel.get_data("beep", 3000, 4)
        key = await channel.wait_for_digit(1000)
        await channel.set_variable("HEARD", f"{linkedid} {keys} {key} {channel.args}")
        await channel.hangup()

    agi = AgiServer(
        {ROUTE: trivial_route, "echo": echo, "rude": _rude}, "127.0.0.1", 0, ("127.0.0.1",)
    )
    agi.seen = seen  # type: ignore[attr-defined]
    await agi.start()
    try:
        yield agi
    finally:
        await agi.close()


async def _rude(channel: AgiChannel) -> None:
    await channel.command("MAKE COFFEE")


async def test_trivial_handler_gets_the_callers_digits(server: AgiServer) -> None:
    result = await run_session("127.0.0.1", server.port, TRIVIAL, "call-1", pace=0)

    assert result.right, result.error
    assert result.commands == 7  # five GET VARIABLE, GET DATA, SET VARIABLE
    assert len(result.round_trips_s) == 7


async def test_server_reads_the_headers_asterisk_sends(server: AgiServer) -> None:
    caller = CallerScript("echo", args=("claim_status", "en"), caller_number="+989121234567",
                          keys="98765")  # fmt: skip
    result = await run_session("127.0.0.1", server.port, caller, "call-2", pace=0)

    assert result.error is None
    channel = server.seen[-1]  # type: ignore[attr-defined]
    assert channel.script == "echo"
    assert channel.args == ["claim_status", "en"]
    assert channel.caller_number == "+989121234567"
    assert channel.headers["agi_linkedid"] == "call-2"


async def test_keys_go_to_get_data_then_wait_for_digit_and_hang_up_ends_the_call(
    server: AgiServer,
) -> None:
    side = AsteriskSide(CallerScript("echo", keys="98765"), "call-3")
    assert side.answer("GET VARIABLE CHANNEL(linkedid)") == "200 result=1 (call-3)"
    assert side.answer("GET DATA beep 3000 4") == "200 result=9876"
    assert side.answer("WAIT FOR DIGIT 1000") == f"200 result={ord('5')}"
    assert side.answer("WAIT FOR DIGIT 1000") == "200 result=0"  # no key left: timeout
    assert side.answer('SET VARIABLE HEARD "a b"') == "200 result=1"
    assert side.set_variables["HEARD"] == "a b"
    assert side.answer("HANGUP") == "200 result=1" and side.hung_up


async def test_hash_ends_get_data_and_silence_is_a_timeout() -> None:
    side = AsteriskSide(CallerScript("x", keys="12#"), "call-4")
    assert side.answer("GET DATA beep 3000 10") == "200 result=12"
    assert side.answer("GET DATA beep 3000 10") == "200 result= (timeout)"
    assert side.answer("GET VARIABLE NOT_SET") == "200 result=0"
    assert side.answer('STREAM FILE tamas/fa/prompt/x "0123456789*#"').startswith("200 result=0")


async def test_a_command_asterisk_does_not_know_fails_the_call(server: AgiServer) -> None:
    result = await run_session("127.0.0.1", server.port, CallerScript("rude"), "call-5", pace=0)

    assert not result.right
    assert result.error is not None and "MAKE COFFEE" in result.error


async def test_a_route_the_server_does_not_have_fails_the_call(server: AgiServer) -> None:
    result = await run_session("127.0.0.1", server.port, CallerScript("nope"), "call-6", pace=0)

    assert not result.right
    assert result.error is not None and "no such route" in result.error


async def test_a_handler_that_misses_the_digits_is_counted_wrong(server: AgiServer) -> None:
    caller = CallerScript(ROUTE, keys="1", variables={EXPECTED_VARIABLE: "1234567"},
                          expect=(RESULT_VARIABLE, "ok"))  # fmt: skip
    result = await run_session("127.0.0.1", server.port, caller, "call-7", pace=0)

    assert not result.right
    assert result.error is not None and "wrong:1" in result.error


async def test_load_runs_concurrent_calls_and_times_every_command(server: AgiServer) -> None:
    report = await run_load(LoadPlan(TRIVIAL, concurrent=20, duration_s=0.3, pace=0.01,
                                     ramp_s=0.05, port=server.port, run_id="load"))  # fmt: skip

    assert report.sessions >= 20
    assert report.right == report.sessions, report.errors
    assert report.commands == 7 * report.sessions
    assert len(report.round_trips_s) == report.commands
    assert report.peak_concurrent == 20
    assert len(set(report.linkedids)) == report.sessions


async def test_the_server_side_timer_times_commands_that_neither_play_nor_listen(
    server: AgiServer,
) -> None:
    stats = ServerStats()
    server.routes[ROUTE] = timed(trivial_route, stats)

    result = await run_session("127.0.0.1", server.port, TRIVIAL, "call-8", pace=0)

    assert result.right
    assert len(stats.round_trips_s) == 6  # all but GET DATA
    assert stats.played_s == [0.0]  # GET DATA's prompt has no endpos; no STREAM FILE


async def test_the_server_side_timer_adds_up_the_sound_each_call_played(
    server: AgiServer,
) -> None:
    async def two_prompts(channel: AgiChannel) -> None:
        await channel.stream_file("tamas/fa/prompt/welcome")
        await channel.stream_file("tamas/fa/prompt/goodbye", "0123456789")

    stats = ServerStats()
    server.routes["prompts"] = timed(two_prompts, stats)
    await run_session("127.0.0.1", server.port, CallerScript("prompts"), "call-9", pace=0)

    assert stats.played_s == [2.0]  # the generator answers endpos=8000 (1 s) to each


@pytest.mark.asterisk
async def test_bench_lines_bring_the_callers_digits_over_fastagi_and_process_agi(
    asterisk_sandbox: Settings,
) -> None:
    """dialplans/bench.conf and the process-AGI entry the benchmark installs: a real call on
    each path gets its DTMF to the trivial handler, which says so in the UserEvent."""
    from bench.ivr_calls import Scenario, Switchboard, ensure_ready

    await ensure_ready(asterisk_sandbox)
    agi = AgiServer({ROUTE: trivial_route}, "127.0.0.1", 0, ("127.0.0.1",))
    await agi.start()
    board = Switchboard(asterisk_sandbox)
    await board.connect()
    try:
        for path in ("fastagi", "process"):
            scenario = Scenario(path, "trivial", path, rate=2, duration_s=1)
            variables = {"TAMAS_AGI": f"agi://127.0.0.1:{agi.port}", "TAMAS_HOLD_S": "5"}
            run_id = f"test-bench-{path}-{uuid.uuid4().hex[:8]}"
            await board.place(
                scenario, run_id, "tamas-bench", path, "+989350000000", None, variables
            )

            assert scenario.placed == 2
            assert scenario.right == 2, [(c.result, c.status) for c in scenario.calls.values()]
    finally:
        await board.close()
        await agi.close()
