"""`tamas prompts build`: every fixed sound made once, in place for Asterisk, then reused."""

from __future__ import annotations

import datetime as dt
import uuid
import wave
from pathlib import Path

import pytest

from prompts.catalogue import default_catalogue
from prompts.dates import say_date, say_time
from prompts.numbers import say_amount, say_digits
from prompts.sounds import all_sounds, build_sounds, sound_file, sound_names
from prompts.speech import Synthesizer
from prompts.vocabulary import words
from tamas.cli import main
from tamas.settings import Settings


async def test_build_makes_every_persian_sound_once_then_reuses_the_cache(tmp_path: Path) -> None:
    catalogue = default_catalogue()
    sounds = all_sounds(catalogue, ["fa"])
    assert len(sounds) == len(words("fa")) + len(catalogue)
    target = tmp_path / "sounds"

    first = await build_sounds(target, sounds, Synthesizer(tmp_path / "cache"))
    assert first.installed == len(sounds)
    assert first.synthesized > 0

    again = await build_sounds(target, sounds, Synthesizer(tmp_path / "cache"))
    assert (again.synthesized, again.installed) == (0, 0)
    assert again.from_cache == len(sounds) - 1  # the pause is made with sox, not cached

    # A claim-status answer: every fragment it needs is a file Asterisk can play.
    answer = (
        catalogue.say("claim_amount_approved", "fa")
        + say_amount(1_250_000_000, "fa")
        + catalogue.say("claim_last_change", "fa")
        + say_date(dt.date(2024, 10, 6), "fa")
        + say_time(dt.time(14, 30), "fa")
        + say_digits("۰۲۱-۸۸۷۷۶۶۵۵", "fa")
    )
    for fragment in answer.fragments:
        with wave.open(str(sound_file(target, fragment)), "rb") as audio:
            assert (audio.getframerate(), audio.getnchannels()) == (8000, 1)
            assert audio.getnframes() > 0
    assert sound_names(answer)[0] == "tamas/fa/prompt/claim_amount_approved"
    with wave.open(str(sound_file(target, "fa/pause/group")), "rb") as pause:
        assert pause.readframes(pause.getnframes()) == bytes(pause.getnframes() * 2)


def test_tamas_prompts_build_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TAMAS_DATA_DIR", str(tmp_path / "data"))
    catalogue = tmp_path / "prompts.yaml"
    catalogue.write_text("welcome:\n  fa: خوش آمدید\n  en: Welcome\n  ru: Добро пожаловать\n")
    target = tmp_path / "sounds"
    argv = ["prompts", "build", "--lang", "en", "--target", str(target)]
    assert main([*argv, "--catalogue", str(catalogue)]) == 0
    expected = len(words("en")) + 1
    assert f"{expected} sounds (en {expected})" in capsys.readouterr().out
    assert sound_file(target, "en/prompt/welcome").exists()
    assert sound_file(target, "en/num/20").exists()
    assert not (target / "fa").exists()


def test_tamas_prompts_build_refuses_an_unknown_language(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["prompts", "build", "--lang", "fa,de", "--target", str(tmp_path)]) == 1
    assert "choose among fa, en, ru" in capsys.readouterr().err


def test_tamas_prompts_build_reports_a_broken_catalogue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "prompts.yaml"
    broken.write_text("welcome:\n  fa: سلام\n")
    argv = ["prompts", "build", "--target", str(tmp_path), "--catalogue", str(broken)]
    assert main(argv) == 1
    assert "prompts.yaml:1: prompt 'welcome' has no text in en, ru" in capsys.readouterr().err


def test_tamas_prompts_say_shows_words_and_sound_names(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["prompts", "say", "amount", "1,250,000", "--lang", "ru"]) == 0
    text, names = capsys.readouterr().out.splitlines()
    assert text == "один миллион двести пятьдесят тысяч риалов"
    assert names.split()[-1] == "tamas/ru/unit/rial_many"
    assert main(["prompts", "say", "date", "1403-07-15", "--jalali", "--lang", "fa"]) == 0
    assert capsys.readouterr().out.startswith("پانزدهم مهر هزار و چهارصد و سه\n")
    assert main(["prompts", "say", "time", "25:00", "--lang", "en"]) == 1
    assert "cannot say '25:00' as a time" in capsys.readouterr().err


@pytest.mark.asterisk
def test_the_sandboxs_asterisk_reads_the_built_sounds(
    asterisk_sandbox: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from tamas.asterisk import sandbox

    # What a deployment runs: the whole set into the sandbox's sounds folder, by default.
    assert main(["prompts", "build"]) == 0
    assert str(sandbox.sounds_dir(asterisk_sandbox)) in capsys.readouterr().out

    answer = default_catalogue().say("claim_amount_paid", "ru") + say_amount(21, "ru")
    for name in sound_names(answer):
        converted = f"/tmp/tamas-test-{uuid.uuid4().hex}.sln"
        try:
            reply = sandbox.cli(asterisk_sandbox, f"file convert {name}.wav {converted}")
            assert reply.startswith(f"Converted {name}.wav"), reply
            assert (sandbox.root_dir(asterisk_sandbox) / converted.lstrip("/")).stat().st_size > 0
        finally:
            (sandbox.root_dir(asterisk_sandbox) / converted.lstrip("/")).unlink(missing_ok=True)
