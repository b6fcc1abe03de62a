"""Speech with the real espeak-ng and sox: 8 kHz mono WAV for Asterisk, cached by content."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest

from prompts.sounds import OnDemandSpeech, sound_file
from prompts.speech import (
    EspeakEngine,
    GttsEngine,
    LanguageNotSupported,
    SpeechError,
    Synthesizer,
    run_tool,
)
from prompts.utterance import Utterance
from tamas.settings import load

# A top-level domain reserved never to resolve (RFC 2606): gTTS fails the same way with or
# without internet on the machine running the tests.
UNREACHABLE_TLD = "invalid"


def _format(path: Path) -> tuple[int, int, int, int]:
    with wave.open(str(path), "rb") as audio:
        return audio.getframerate(), audio.getnchannels(), audio.getsampwidth(), audio.getnframes()


@pytest.mark.parametrize(
    ("lang", "text"),
    [("fa", "صد و بیست و پنج"), ("en", "Welcome"), ("ru", "двадцать один рубль")],
)
async def test_espeak_speaks_each_language_as_8khz_mono_16bit_wav(
    tmp_path: Path, lang: str, text: str
) -> None:
    path = await Synthesizer(tmp_path).synthesize(text, lang)
    rate, channels, width, frames = _format(path)
    assert (rate, channels, width) == (8000, 1, 2)
    assert frames > 0
    assert path.stat().st_mode & 0o044 == 0o044, "Asterisk's own user must be able to read it"


async def test_a_cached_text_is_not_spoken_again(tmp_path: Path) -> None:
    first = await Synthesizer(tmp_path).synthesize("سلام", "fa")
    # Same engine and voice, but no executable: any attempt to run espeak would fail.
    broken = Synthesizer(tmp_path, EspeakEngine(executable=str(tmp_path / "no-espeak")))
    assert await broken.synthesize("  سلام ", "fa") == first
    assert (broken.synthesized, broken.cache_hits) == (0, 1)
    with pytest.raises(SpeechError, match="install the Debian package espeak-ng"):
        await broken.synthesize("خداحافظ", "fa")


class CountingEspeak(EspeakEngine):
    def __init__(self) -> None:
        super().__init__()
        self.renders = 0

    async def render(self, text: str, lang: str, path: Path) -> None:
        self.renders += 1
        await super().render(text, lang, path)


async def test_concurrent_requests_for_the_same_text_synthesise_once(tmp_path: Path) -> None:
    engine = CountingEspeak()
    synthesizer = Synthesizer(tmp_path, engine)
    paths = await asyncio.gather(*(synthesizer.synthesize("علی رضایی", "fa") for _ in range(10)))
    assert len(set(paths)) == 1
    assert engine.renders == 1
    assert synthesizer.synthesized == 1


async def test_different_languages_and_texts_are_cached_apart(tmp_path: Path) -> None:
    synthesizer = Synthesizer(tmp_path)
    paths = {
        synthesizer.cache_path("Anna", "en"),
        synthesizer.cache_path("Anna", "ru"),
        synthesizer.cache_path("Anne", "en"),
    }
    assert len(paths) == 3


async def test_gtts_has_no_persian(tmp_path: Path) -> None:
    engine = GttsEngine()
    with pytest.raises(LanguageNotSupported, match="no Persian"):
        engine.voice("fa")
    with pytest.raises(LanguageNotSupported):
        await engine.render("سلام", "fa", tmp_path / "x.mp3")


async def test_gtts_without_internet_fails_with_a_clear_speech_error(tmp_path: Path) -> None:
    engine = GttsEngine(timeout_s=2, tld=UNREACHABLE_TLD)
    # The guard only keeps a regression from hanging the test run.
    with pytest.raises(SpeechError, match=r"gTTS failed.*tts_engine = espeak"):
        await asyncio.wait_for(engine.render("hello", "en", tmp_path / "x.mp3"), timeout=60)


async def test_persian_is_spoken_by_espeak_when_gtts_is_the_engine(tmp_path: Path) -> None:
    synthesizer = Synthesizer(tmp_path, GttsEngine(tld=UNREACHABLE_TLD), EspeakEngine())
    path = await synthesizer.synthesize("سلام", "fa")
    assert path == Synthesizer(tmp_path).cache_path("سلام", "fa")
    assert _format(path)[3] > 0


async def test_a_failing_gtts_falls_back_to_espeak(tmp_path: Path) -> None:
    synthesizer = Synthesizer(
        tmp_path, GttsEngine(timeout_s=2, tld=UNREACHABLE_TLD), EspeakEngine()
    )
    path = await asyncio.wait_for(synthesizer.synthesize("Hello", "en"), timeout=60)
    assert path == Synthesizer(tmp_path).cache_path("Hello", "en")


class CountingGtts(GttsEngine):
    def __init__(self) -> None:
        super().__init__(timeout_s=2, tld=UNREACHABLE_TLD)
        self.renders = 0

    async def render(self, text: str, lang: str, path: Path) -> None:
        self.renders += 1
        await super().render(text, lang, path)


async def test_after_gtts_fails_it_rests_and_callers_do_not_wait_for_it(tmp_path: Path) -> None:
    gtts = CountingGtts()
    synthesizer = Synthesizer(tmp_path, gtts, EspeakEngine(), primary_rest_s=600)
    await asyncio.wait_for(synthesizer.synthesize("Hello", "en"), timeout=60)
    await synthesizer.synthesize("Goodbye", "en")
    await synthesizer.synthesize("До свидания", "ru")
    assert gtts.renders == 1
    assert synthesizer.synthesized == 3


async def test_without_a_fallback_the_gtts_error_reaches_the_caller(tmp_path: Path) -> None:
    synthesizer = Synthesizer(tmp_path, GttsEngine(timeout_s=2, tld=UNREACHABLE_TLD))
    with pytest.raises(SpeechError, match="gTTS"):
        await asyncio.wait_for(synthesizer.synthesize("Hello", "en"), timeout=60)
    with pytest.raises(LanguageNotSupported):
        await synthesizer.synthesize("سلام", "fa")


class Mp3Espeak(EspeakEngine):
    """Hands over MP3, as gTTS does (made locally from espeak's speech with sox)."""

    name = "espeak-mp3"
    suffix = ".mp3"

    async def render(self, text: str, lang: str, path: Path) -> None:
        wav = path.with_suffix(".wav")
        await super().render(text, lang, wav)
        await run_tool(["sox", str(wav), str(path)], timeout_s=30, package="libsox-fmt-mp3")


async def test_mp3_from_an_online_engine_is_converted_for_asterisk(tmp_path: Path) -> None:
    path = await Synthesizer(tmp_path, Mp3Espeak()).synthesize("Добрый день", "ru")
    rate, channels, width, frames = _format(path)
    assert (rate, channels, width) == (8000, 1, 2)
    assert frames > 0


async def test_nothing_to_say_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SpeechError, match="no text"):
        await Synthesizer(tmp_path).synthesize("  ", "en")


async def test_callers_name_is_spoken_on_demand_into_the_sounds_folder(tmp_path: Path) -> None:
    speech = OnDemandSpeech.from_settings(load(env={}), tmp_path)
    said = await speech.speak("علی  رضایی", "fa")
    assert said.text == "علی رضایی"
    (fragment,) = said.fragments
    assert fragment.startswith("fa/tts/")
    assert sound_file(tmp_path, fragment).exists()
    assert speech.missing(said) == []
    assert speech.missing(Utterance("صد", ("fa/num/100",))) == ["fa/num/100"]


async def test_other_calls_keep_running_while_speech_is_made(tmp_path: Path) -> None:
    synthesizer = Synthesizer(tmp_path)
    ticks = 0
    finished = asyncio.Event()

    async def other_call() -> None:
        nonlocal ticks
        while not finished.is_set():
            ticks += 1
            await asyncio.sleep(0)

    ticker = asyncio.create_task(other_call())
    await asyncio.gather(*(synthesizer.synthesize(f"شماره {n}", "fa") for n in range(6)))
    finished.set()
    await ticker
    # Blocking subprocess calls would have starved the other coroutine entirely.
    assert ticks > 6


async def test_a_caller_hanging_up_does_not_cancel_speech_another_caller_waits_for(
    tmp_path: Path,
) -> None:
    synthesizer = Synthesizer(tmp_path)
    hung_up = asyncio.create_task(synthesizer.synthesize("مریم احمدی", "fa"))
    waiting = asyncio.create_task(synthesizer.synthesize("مریم احمدی", "fa"))
    await asyncio.sleep(0)
    hung_up.cancel()
    path = await waiting
    assert _format(path)[3] > 0
    assert synthesizer.synthesized == 1
    with pytest.raises(asyncio.CancelledError):
        await hung_up
