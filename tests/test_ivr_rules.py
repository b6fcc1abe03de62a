"""The IVR's rules without any call: the menu file's checks, the PIN lockout (in process and
in a real Redis), and the opening hours on the Iranian week."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from pathlib import Path

import pytest
import redis.asyncio as redis
from ivr_support import CLOSED_AT, OPEN_AT, TEHRAN

from ivr import definitions
from ivr.definitions import DefinitionError
from ivr.hours import HolidaysError, OpeningHours, default_hours, load_holidays
from ivr.lockout import MemoryFailures, PinGuard, RedisFailures
from ivr.services import SERVICES
from ivr.speech import PromptVoice
from prompts.catalogue import default_catalogue
from prompts.utterance import Utterance
from tamas import cli

REDIS_URL = "redis://127.0.0.1:6379/0"
MENUS = definitions.DEFAULT_PATH.read_text(encoding="utf-8")


# --- the menu file ---------------------------------------------------------------------


def test_the_shipped_menus_load_and_every_prompt_is_in_the_catalogue() -> None:
    book = definitions.load(services=SERVICES)
    catalogue = default_catalogue()
    prompts = [menu.prompt for menu in book.menus.values()]
    prompts += [rule.prompt for rule in book.inputs.values()]
    prompts.append(book.languages.prompt)
    assert [key for key in prompts if key not in catalogue] == []
    assert {option.service for option in book.menu("main").options} <= set(SERVICES)


def _error(text: str) -> str:
    with pytest.raises(DefinitionError) as caught:
        definitions.parse(text, Path("menus.yaml"), services=SERVICES)
    return str(caught.value)


def test_an_unknown_service_is_reported_with_its_line_and_key() -> None:
    broken = MENUS.replace('"4": {service: debts}', '"4": {service: debtz}')
    line = MENUS.splitlines().index('      "4": {service: debts}') + 1
    assert _error(broken).startswith(f"menus.yaml:{line}: menus.main.options.4.service: no service")


def test_an_option_key_must_be_one_digit() -> None:
    broken = MENUS.replace('"4": {service: debts}', '"44": {service: debts}')
    assert "menus.main.options.44: an option key must be one digit" in _error(broken)


def test_the_agent_key_cannot_lead_elsewhere() -> None:
    broken = MENUS.replace('"0": {service: agent}', '"0": {service: debts}')
    assert "menus.main.options.0: key 0 is the agent key" in _error(broken)


def test_an_input_length_range_must_not_be_empty() -> None:
    broken = MENUS.replace(
        "digits: [4, 6], sensitive: true}\n  postal", "digits: [6, 4], sensitive: true}\n  postal"
    )
    assert "inputs.pin.digits: range [6, 4] is empty" in _error(broken)


def test_unknown_keys_and_bad_yaml_are_refused() -> None:
    assert "behaviour.atempts: unknown key" in _error(
        MENUS.replace("  attempts: 3", "  atempts: 3")
    )
    assert "not valid YAML" in _error("menus: [\n")
    assert "key given twice" in _error(MENUS + "\nentry: main\n")


def test_a_service_missing_from_the_inputs_is_named() -> None:
    book = definitions.load(services=SERVICES)
    with pytest.raises(DefinitionError, match="input 'nope'"):
        book.input("nope")


# --- the PIN lockout --------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_three_wrong_pins_lock_the_number_and_the_identity_until_the_window_passes() -> None:
    clock = Clock()
    guard = PinGuard(MemoryFailures(clock), max_failures=3, window_s=600)
    assert not await guard.failed("+989120000001", "national_id:1")
    assert not await guard.failed("+989120000001", "national_id:1")
    assert await guard.failed("+989120000001", "national_id:1")
    assert await guard.locked("+989120000001", "national_id:2")  # same phone, other identity
    assert await guard.locked("+989120000002", "national_id:1")  # other phone, same identity
    assert not await guard.locked("+989120000002", "national_id:2")
    clock.now += 601
    assert not await guard.locked("+989120000001", "national_id:1")


async def test_many_phones_guessing_one_identity_are_stopped() -> None:
    guard = PinGuard(MemoryFailures(), max_failures=3, window_s=600)
    for n in range(3):
        await guard.failed(f"+98912000001{n}", "shareholder:42")
    assert await guard.locked("+989129999999", "shareholder:42")


async def test_a_right_pin_clears_the_identity_but_not_the_phone() -> None:
    guard = PinGuard(MemoryFailures(), max_failures=3, window_s=600)
    await guard.failed("+989120000001", "national_id:1")
    await guard.failed("+989120000001", "national_id:1")
    await guard.succeeded("+989120000001", "national_id:1")
    assert not await guard.failed("+989120000002", "national_id:1")  # identity count restarted
    assert await guard.failed("+989120000001", "national_id:9")  # the phone's third failure


async def test_the_lockout_is_shared_through_redis() -> None:
    prefix = f"tamas-test:{uuid.uuid4().hex}:"
    clock = Clock()
    one = PinGuard(RedisFailures(REDIS_URL, prefix=prefix, clock=clock), 3, 600)
    other = PinGuard(RedisFailures(REDIS_URL, prefix=prefix, clock=clock), 3, 600)
    try:
        await one.failed("+989120000001", "claim:7")
        await other.failed("+989120000002", "claim:7")
        assert not await one.locked("+989120000003", "claim:7")
        assert await other.failed("+989120000003", "claim:7")
        assert await one.locked("+989120000004", "claim:7")  # the other server's failures count
        client = redis.Redis.from_url(REDIS_URL)
        keys = [key.decode() async for key in client.scan_iter(f"{prefix}*")]
        assert len(keys) == 4 and not any("claim:7" in key or "98912" in key for key in keys)
        ttls = [await client.ttl(key) for key in keys]
        assert all(0 < ttl <= 600 for ttl in ttls)  # the keys expire by themselves
        await client.aclose()
        clock.now += 601
        assert not await one.locked("+989120000004", "claim:7")
    finally:
        await one.store.close()  # type: ignore[attr-defined]
        await other.store.close()  # type: ignore[attr-defined]


async def test_a_dead_redis_falls_back_to_counting_in_process() -> None:
    guard = PinGuard(RedisFailures("redis://127.0.0.1:1/0"), 3, 600)  # nothing listens there
    for _ in range(3):
        await guard.failed("+989120000001", "national_id:1")
    assert await guard.locked("+989120000001", "national_id:1")


# --- opening hours ----------------------------------------------------------------------


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TEHRAN)


def test_open_saturday_to_wednesday_a_half_day_on_thursday_closed_on_friday() -> None:
    hours = OpeningHours()
    assert hours.is_open(OPEN_AT)  # Saturday 10:00
    assert hours.is_open(at("2026-11-25T15:59"))  # Wednesday
    assert not hours.is_open(at("2026-11-25T16:00"))
    assert hours.is_open(at("2026-11-26T11:30"))  # Thursday morning
    assert not hours.is_open(at("2026-11-26T12:30"))  # Thursday afternoon
    assert not hours.is_open(CLOSED_AT)  # Friday
    assert not hours.is_open(at("2026-11-21T07:59"))


def test_hours_are_read_on_tehran_time() -> None:
    utc_morning = datetime.fromisoformat("2026-11-21T05:00:00+00:00")  # 08:30 in Tehran
    assert OpeningHours().is_open(utc_morning)


def test_official_holidays_are_closed_and_the_next_opening_skips_them() -> None:
    hours = default_hours()
    nowruz = at("2026-03-21T10:00")  # 1 Farvardin 1405, a Saturday
    assert not hours.is_open(nowruz)
    assert hours.next_opening(nowruz) == at("2026-03-25T08:00")  # after 1-4 Farvardin
    assert hours.next_opening(CLOSED_AT) == at("2026-11-21T08:00")


def test_a_malformed_holiday_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "holidays.yaml"
    path.write_text("every_year:\n  - {date: '13-40'}\n", encoding="utf-8")
    with pytest.raises(HolidaysError, match="every_year entry"):
        load_holidays(path)


# --- speaking names -------------------------------------------------------------------


async def test_names_are_spoken_by_the_speech_engine_when_it_answers_in_time() -> None:
    async def speaker(text: str, lang: str) -> Utterance:
        return Utterance(text=text, fragments=(f"{lang}/tts/abc",))

    voice = PromptVoice(speaker=speaker)
    assert (await voice.spoken("مریم احمدی", "fa")).fragments == ("fa/tts/abc",)


async def test_a_slow_or_failing_speech_engine_leaves_the_name_in_the_transcript_only() -> None:
    async def slow(text: str, lang: str) -> Utterance:
        await asyncio.sleep(5)
        raise AssertionError("not reached")

    async def broken(text: str, lang: str) -> Utterance:
        raise OSError("espeak-ng is not installed")

    for speaker in (slow, broken):
        said = await PromptVoice(speaker=speaker, speak_timeout_s=0.05).spoken("Ivan Petrov", "en")
        assert (said.text, said.fragments) == ("Ivan Petrov", ())


# --- tamas ivr check ------------------------------------------------------------------


def test_tamas_ivr_check_prints_the_menus(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ivr", "check"]) == 0
    out = capsys.readouterr().out
    assert "  1 -> service claim_status" in out
    assert "input pin: 4-6 digits, masked, prompt enter_pin" in out


def test_tamas_ivr_check_names_a_prompt_missing_from_the_catalogue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    menus = tmp_path / "menus.yaml"
    menus.write_text(MENUS.replace("prompt: main_menu", "prompt: main_menu_v2"), encoding="utf-8")
    assert cli.main(["ivr", "check", "--menus", str(menus)]) == 1
    assert "prompts not in the catalogue: main_menu_v2" in capsys.readouterr().err


def test_opening_hours_come_from_the_menu_file() -> None:
    book = definitions.load(services=SERVICES)
    hours = default_hours(dict(book.opening_hours))
    assert hours.is_open(at("2026-11-26T11:30"))  # Thursday morning
    assert not hours.is_open(CLOSED_AT)  # Friday
    shorter = MENUS.replace('thursday: "08:00-12:00"', 'thursday: "08:00-10:00"')
    book = definitions.parse(shorter, services=SERVICES)
    assert not default_hours(dict(book.opening_hours)).is_open(at("2026-11-26T11:30"))


def test_opening_hours_must_name_every_day_with_a_real_span() -> None:
    assert "missing: friday" in _error(MENUS.replace("  friday: closed\n", ""))
    broken = MENUS.replace('monday: "08:00-16:00"', 'monday: "16:00-08:00"')
    assert "opening_hours.monday: opens at 16:00 but closes at 08:00" in _error(broken)
    broken = MENUS.replace('monday: "08:00-16:00"', 'monday: "8 to 4"')
    assert "opening_hours.monday: must be 'closed' or a span" in _error(broken)
