"""Text to speech: engines (espeak-ng offline, gTTS online), the conversion with sox to the
8 kHz mono 16-bit WAV Asterisk plays natively, and a cache keyed by a hash of what was said.

Everything runs in subprocesses or threads awaited from asyncio, so a FastAGI handler can ask
for a caller's name to be spoken without stalling other calls; a bounded number of engine
processes run at once, and concurrent requests for the same text synthesise it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import tempfile
import time
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar, Protocol

from prompts.vocabulary import check_language
from tamas.settings import Settings

logger = logging.getLogger(__name__)

# Part of every cache key: change it when the conversion below changes, so old files are
# not served for the new format.
AUDIO_FORMAT = "wav8k-mono-s16-trim-v1"
SAMPLE_RATE = 8000
# Fragments are played back to back: trim the engine's leading and trailing silence (below
# 0.1% for 10 ms), even out loudness, and keep a short pause so words do not run together.
_SOX_EFFECTS = (
    "silence", "1", "0.01", "0.1%", "reverse", "silence", "1", "0.01", "0.1%", "reverse",
    "gain", "-n", "-3", "pad", "0.02", "0.08",
)  # fmt: skip


class SpeechError(Exception):
    """Speech could not be made; the message says which engine failed and what to do."""


class LanguageNotSupported(SpeechError):
    """The engine has no voice for the language (gTTS has no Persian)."""


class Engine(Protocol):
    """A text-to-speech engine writing one audio file (any format sox reads)."""

    name: str
    suffix: str  # the file suffix of what `render` writes, so sox knows the format

    def voice(self, lang: str) -> str:
        """The engine's voice for `lang`; raises LanguageNotSupported."""
        ...

    async def render(self, text: str, lang: str, path: Path) -> None: ...


class EspeakEngine:
    """espeak-ng: offline, robotic, and the only engine here that speaks Persian."""

    name = "espeak"
    suffix = ".wav"
    VOICES: ClassVar[dict[str, str]] = {"fa": "fa", "en": "en-us", "ru": "ru"}

    def __init__(
        self, executable: str = "espeak-ng", words_per_minute: int = 150, timeout_s: float = 30.0
    ) -> None:
        self.executable = executable
        self.words_per_minute = words_per_minute
        self.timeout_s = timeout_s

    def voice(self, lang: str) -> str:
        try:
            return self.VOICES[lang]
        except KeyError:
            raise LanguageNotSupported(f"espeak-ng has no voice set up for {lang!r}") from None

    async def render(self, text: str, lang: str, path: Path) -> None:
        # The text goes through stdin, so a name starting with "-" is not taken for an option.
        argv = [self.executable, "-v", self.voice(lang), "-s", str(self.words_per_minute)]
        argv += ["-w", str(path), "--stdin"]
        await run_tool(
            argv, stdin=text.encode("utf-8"), timeout_s=self.timeout_s, package="espeak-ng"
        )


class GttsEngine:
    """Google Translate's speech through gTTS: better voices, needs the internet, no Persian."""

    name = "gtts"
    suffix = ".mp3"
    LANGUAGES: ClassVar[dict[str, str]] = {"en": "en", "ru": "ru"}

    def __init__(self, timeout_s: float = 5.0, tld: str = "com") -> None:
        self.timeout_s = timeout_s
        self.tld = tld

    def voice(self, lang: str) -> str:
        try:
            return f"{self.LANGUAGES[lang]}@{self.tld}"
        except KeyError:
            raise LanguageNotSupported(
                f"gTTS has no voice for {lang!r} (Google's service has no Persian); "
                "use espeak for it"
            ) from None

    async def render(self, text: str, lang: str, path: Path) -> None:
        self.voice(lang)
        from gtts import gTTS
        from gtts.tts import gTTSError

        def save() -> None:
            gTTS(text, lang=self.LANGUAGES[lang], tld=self.tld, timeout=self.timeout_s).save(path)

        try:
            # gTTS is blocking (requests); each of its requests has the timeout, and the whole
            # text is bounded too since a long text is sent in several requests.
            await asyncio.wait_for(asyncio.to_thread(save), timeout=self.timeout_s * 3)
        except TimeoutError:
            raise SpeechError(
                f"gTTS did not answer within {self.timeout_s * 3:g} s; "
                "without internet use tts_engine = espeak"
            ) from None
        except (gTTSError, OSError, ValueError, AssertionError) as error:
            raise SpeechError(
                f"gTTS failed: {error}; without internet use tts_engine = espeak"
            ) from error


async def run_tool(
    argv: Sequence[str], *, stdin: bytes | None = None, timeout_s: float, package: str
) -> None:
    """Run an external tool without blocking the event loop; failures become SpeechError."""
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError:
        raise SpeechError(
            f"{argv[0]} is not installed: install the Debian package {package}"
        ) from None
    try:
        _, stderr = await asyncio.wait_for(process.communicate(stdin), timeout=timeout_s)
    except TimeoutError:
        await _kill(process)
        raise SpeechError(f"{argv[0]} did not finish within {timeout_s:g} s") from None
    except asyncio.CancelledError:
        # The caller went away (hung up): do not leave the process behind.
        await _kill(process)
        raise
    if process.returncode != 0:
        message = stderr.decode("utf-8", errors="replace").strip()[-300:]
        raise SpeechError(f"{argv[0]} failed (exit {process.returncode}): {message}")


async def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    await process.wait()


def synthesizer_from_settings(
    settings: Settings, cache_dir: Path, max_processes: int = 2
) -> Synthesizer:
    """The configured engine (`tts_engine`), with espeak speaking what it cannot."""
    engine = engine_named(settings.tts_engine)
    fallback = None if isinstance(engine, EspeakEngine) else EspeakEngine()
    return Synthesizer(cache_dir, engine, fallback, max_processes=max_processes)


def engine_named(name: str) -> Engine:
    if name == "espeak":
        return EspeakEngine()
    if name == "gtts":
        return GttsEngine()
    raise ValueError(f"unknown speech engine {name!r}; expected espeak or gtts")


class Synthesizer:
    """Speaks text into cached WAV files: `cache_dir/<lang>/tts/<sha256>.wav`.

    With `cache_dir` set to the folder Asterisk plays `tamas/` from, a file is playable as the
    fragment `<lang>/tts/<sha256>` (see `prompts.sounds`). When the engine has no voice for a
    language, or fails (no internet for gTTS), the fallback engine speaks instead; after a
    failure the engine rests for `primary_rest_s` (what it already made is still served).
    """

    def __init__(
        self,
        cache_dir: Path,
        engine: Engine | None = None,
        fallback: Engine | None = None,
        *,
        max_processes: int = 2,
        sox: str = "sox",
        timeout_s: float = 30.0,
        primary_rest_s: float = 60.0,
    ) -> None:
        self.cache_dir = cache_dir
        self.engine = engine or EspeakEngine()
        self.fallback = fallback
        self.sox = sox
        self.timeout_s = timeout_s
        self.primary_rest_s = primary_rest_s
        self._primary_rests_until = 0.0
        self._slots = asyncio.Semaphore(max_processes)
        self._pending: dict[Path, asyncio.Future[Path]] = {}
        self.synthesized = 0  # files made by an engine
        self.cache_hits = 0  # requests answered from the cache

    def cache_path(self, text: str, lang: str, engine: Engine | None = None) -> Path:
        engine = engine or self._engine_for(lang)
        key = "\n".join((AUDIO_FORMAT, engine.name, engine.voice(lang), lang, _clean(text)))
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.cache_dir / lang / "tts" / f"{digest}.wav"

    async def synthesize(self, text: str, lang: str) -> Path:
        """The WAV file saying `text` in `lang`, made now or taken from the cache."""
        check_language(lang)
        text = _clean(text)
        if not text:
            raise SpeechError("there is no text to speak")
        engine = self._engine_for(lang)
        if self.fallback is not None and engine is not self.fallback and self._primary_resting():
            cached = self.cache_path(text, lang, engine)
            if cached.exists():
                self.cache_hits += 1
                return cached
            engine = self.fallback
        try:
            return await self._once(engine, text, lang)
        except SpeechError as error:
            if self.fallback is None or engine is self.fallback:
                raise
            # Say it robotically rather than not at all, and stop asking the failing engine
            # for a while so callers do not wait for its timeout on every prompt. The text
            # may be personal data (a name), so it is not logged.
            self._primary_rests_until = time.monotonic() + self.primary_rest_s
            logger.warning(
                "%s failed (%s); speaking with %s for the next %g s",
                engine.name,
                error,
                self.fallback.name,
                self.primary_rest_s,
            )
            return await self._once(self.fallback, text, lang)

    def _primary_resting(self) -> bool:
        return time.monotonic() < self._primary_rests_until

    def _engine_for(self, lang: str) -> Engine:
        try:
            self.engine.voice(lang)
            return self.engine
        except LanguageNotSupported:
            if self.fallback is None:
                raise
            self.fallback.voice(lang)
            return self.fallback

    async def _once(self, engine: Engine, text: str, lang: str) -> Path:
        path = self.cache_path(text, lang, engine)
        if path.exists():
            self.cache_hits += 1
            return path
        pending = self._pending.get(path)
        if pending is None:
            pending = asyncio.ensure_future(self._make(engine, text, lang, path))
            self._pending[path] = pending
            pending.add_done_callback(lambda done: self._forget(path, done))
        # shield: one waiter giving up (its caller hung up) must not cancel the others'.
        return await asyncio.shield(pending)

    def _forget(self, path: Path, done: asyncio.Future[Path]) -> None:
        self._pending.pop(path, None)
        # Mark a failure as seen even if every waiter gave up, so asyncio does not log it.
        if not done.cancelled():
            done.exception()

    async def _make(self, engine: Engine, text: str, lang: str, path: Path) -> Path:
        async with self._slots:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=path.parent, prefix=".making-") as workdir:
                raw = Path(workdir) / f"engine{engine.suffix}"
                converted = Path(workdir) / "converted.wav"
                await engine.render(text, lang, raw)
                argv = [self.sox, str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16"]
                argv += ["-e", "signed-integer", str(converted), *_SOX_EFFECTS]
                await run_tool(argv, timeout_s=self.timeout_s, package="sox libsox-fmt-mp3")
                if wav_duration_s(converted) <= 0:
                    raise SpeechError(f"{engine.name} produced no sound for a {lang} text")
                # Asterisk runs as its own user: the file must be readable by others.
                os.chmod(converted, 0o644)
                # Readers never see a half-written file: the rename is atomic.
                os.replace(converted, path)
        self.synthesized += 1
        return path


async def write_silence(path: Path, seconds: float, sox: str = "sox") -> None:
    """A WAV of silence in the format Asterisk plays, written atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".making-") as workdir:
        made = Path(workdir) / "silence.wav"
        argv = [
            sox,
            "--no-dither",
            "-n",
            "-r",
            str(SAMPLE_RATE),
            "-c",
            "1",
            "-b",
            "16",
            "-e",
            "signed-integer",
        ]
        argv += [str(made), "trim", "0", f"{seconds:g}"]
        await run_tool(argv, timeout_s=30, package="sox")
        os.chmod(made, 0o644)
        os.replace(made, path)


def wav_duration_s(path: Path) -> float:
    """Length of a WAV file in seconds (0 when it has no frames)."""
    try:
        with wave.open(str(path), "rb") as audio:
            return audio.getnframes() / float(audio.getframerate())
    except (wave.Error, EOFError) as error:
        raise SpeechError(f"{path.name} is not a readable WAV file: {error}") from error


def _clean(text: str) -> str:
    return " ".join(text.split())
