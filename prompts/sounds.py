"""The sound files Asterisk plays for prompts, and building the whole set.

Asterisk plays `tamas/<fragment>` from its sounds folder: the fragment "fa/num/200" is the
file `<sounds>/tamas/fa/num/200.wav`, played as `tamas/fa/num/200`. `sounds_dir` below is
that `tamas` folder (the sandbox exposes it as `tamas.asterisk.sandbox.sounds_dir`).
"""

from __future__ import annotations

import asyncio
import filecmp
import os
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from prompts.catalogue import Catalogue
from prompts.speech import (
    Synthesizer,
    synthesizer_from_settings,
    wav_duration_s,
    write_silence,
)
from prompts.utterance import Utterance
from prompts.vocabulary import check_language, words
from tamas.languages import LANGUAGES
from tamas.settings import Settings

SOUND_PREFIX = "tamas"


def sound_name(fragment: str) -> str:
    """What Asterisk's Playback / STREAM FILE is given: "tamas/fa/num/200"."""
    return f"{SOUND_PREFIX}/{fragment}"


def sound_names(utterance: Utterance) -> list[str]:
    return [sound_name(fragment) for fragment in utterance.fragments]


def sound_file(sounds_dir: Path, fragment: str) -> Path:
    return sounds_dir / f"{fragment}.wav"


@dataclass(frozen=True)
class Sound:
    """One pre-generated sound: its fragment name and the text the engine speaks."""

    fragment: str
    lang: str
    speak: str
    silence_s: float = 0.0  # a pause made with sox instead of speech


def all_sounds(catalogue: Catalogue, languages: Iterable[str] = LANGUAGES) -> list[Sound]:
    """Every fixed sound: number, date and unit words, then the catalogue's prompts."""
    sounds = []
    for lang in languages:
        check_language(lang)
        sounds += [Sound(name, lang, w.spoken, w.silence_s) for name, w in words(lang).items()]
        sounds += [Sound(name, lang, text) for name, text in catalogue.fragments(lang).items()]
    return sounds


@dataclass
class BuildReport:
    sounds: int = 0
    synthesized: int = 0  # made by a speech engine in this run
    from_cache: int = 0  # already in the synthesizer's cache (pauses are not cached)
    installed: int = 0  # written into the sounds folder (new or changed)
    by_language: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0


async def build_sounds(
    sounds_dir: Path, sounds: Sequence[Sound], synthesizer: Synthesizer
) -> BuildReport:
    """Make every sound (engine processes bounded by the synthesizer) and put it in place."""
    started = time.perf_counter()
    report = BuildReport(sounds=len(sounds))
    made_before, hits_before = synthesizer.synthesized, synthesizer.cache_hits

    async def one(sound: Sound) -> None:
        target = sound_file(sounds_dir, sound.fragment)
        if sound.silence_s:
            if not target.exists() or wav_duration_s(target) != sound.silence_s:
                await write_silence(target, sound.silence_s)
                report.installed += 1
        else:
            cached = await synthesizer.synthesize(sound.speak, sound.lang)
            if await asyncio.to_thread(_install, cached, target):
                report.installed += 1
        report.by_language[sound.lang] += 1

    await asyncio.gather(*(one(sound) for sound in sounds))
    report.synthesized = synthesizer.synthesized - made_before
    report.from_cache = synthesizer.cache_hits - hits_before
    report.elapsed_s = time.perf_counter() - started
    return report


def _install(source: Path, target: Path) -> bool:
    """Copy `source` to `target` unless it is already there; True when written."""
    if target.exists() and filecmp.cmp(source, target, shallow=False):
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(target.parent, 0o755)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".installing-", suffix=".wav")
    os.close(fd)
    try:
        shutil.copyfile(source, temporary)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


class OnDemandSpeech:
    """What the IVR speaks with: fixed fragments by name, any other text (a caller's name, an
    address) synthesised on demand into the sounds folder and cached there."""

    def __init__(self, sounds_dir: Path, synthesizer: Synthesizer) -> None:
        if synthesizer.cache_dir.resolve() != sounds_dir.resolve():
            raise ValueError("the synthesizer must cache into the sounds folder Asterisk plays")
        self.sounds_dir = sounds_dir
        self.synthesizer = synthesizer

    @classmethod
    def from_settings(cls, settings: Settings, sounds_dir: Path) -> OnDemandSpeech:
        return cls(sounds_dir, synthesizer_from_settings(settings, sounds_dir))

    async def speak(self, text: str, lang: str) -> Utterance:
        """`text` as an utterance of one fragment `<lang>/tts/<hash>`, made if not cached."""
        path = await self.synthesizer.synthesize(text, lang)
        fragment = path.relative_to(self.sounds_dir).with_suffix("").as_posix()
        return Utterance(text=" ".join(text.split()), fragments=(fragment,))

    def missing(self, utterance: Utterance) -> list[str]:
        """Fragments of `utterance` with no file yet (run `tamas prompts build`)."""
        return [f for f in utterance.fragments if not sound_file(self.sounds_dir, f).exists()]
