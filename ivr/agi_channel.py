"""The engine's `Channel` port over an AGI channel (FastAGI or process AGI).

Prompts are played with STREAM FILE and every key as an escape digit, so barge-in works: a
sentence of several fragments as one joined sound when `SentenceSounds` is given (one command,
no gaps, no moment deaf to keys), else fragment by fragment. A missing sound file is logged and
skipped, never fatal. AGI's hang-up becomes the engine's `CallerHungUp`.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from agi_scripts.channel import AgiCommands, AgiError
from agi_scripts.channel import CallerHungUp as AgiHungUp
from ivr.channel import PROMPT_KEYS, CallerHungUp, Recording, Spoken
from prompts.sentences import SentenceSounds
from prompts.sounds import sound_name

log = logging.getLogger(__name__)
T = TypeVar("T")

SAMPLES_PER_MS = 8  # Asterisk reports recording positions in 8 kHz samples


async def _guard(action: Callable[[], Awaitable[T]]) -> T:
    try:
        return await action()
    except AgiHungUp as error:
        raise CallerHungUp(str(error)) from error


class AgiPort:
    def __init__(self, agi: AgiCommands, sentences: SentenceSounds | None = None) -> None:
        self.agi = agi
        self.sentences = sentences
        self.missing_sounds: set[str] = set()

    async def play(self, spoken: Spoken, escape_digits: str = PROMPT_KEYS) -> str | None:
        fragments = spoken.fragments
        if self.sentences is not None and len(fragments) > 1:
            joined = self.sentences.join(fragments)
            if joined is not None:
                try:
                    return await self.agi.stream_file(sound_name(joined), escape_digits)
                except AgiHungUp as error:
                    raise CallerHungUp(str(error)) from error
                except AgiError as error:
                    # Removed meanwhile (another server's sweep): say it word by word.
                    self.sentences.forget(joined)
                    log.warning("cannot play the joined sentence %s: %s", joined, error)
        return await self._play_fragments(fragments, escape_digits)

    async def _play_fragments(self, fragments: Sequence[str], escape_digits: str) -> str | None:
        for fragment in fragments:
            name = sound_name(fragment)
            if name in self.missing_sounds:
                continue
            try:
                key = await self.agi.stream_file(name, escape_digits)
            except AgiHungUp as error:
                raise CallerHungUp(str(error)) from error
            except AgiError as error:
                # Most often a sound not built yet (`tamas prompts build`): skip it, keep going.
                self.missing_sounds.add(name)
                log.warning("cannot play %s: %s", name, error)
                continue
            if key is not None:
                return key
        return None

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        return await _guard(lambda: self.agi.wait_for_digit(timeout_ms))

    async def read_digits(self, timeout_ms: int, max_digits: int) -> str:
        # One GET DATA with no prompt for the whole rest: between two commands Asterisk drops
        # keys.
        return await _guard(lambda: self.agi.get_data("", timeout_ms, max_digits))

    async def record(self, path: str, max_s: int, end_keys: str = "#") -> Recording:
        try:
            result = await self.agi.record_file(path, "wav", end_keys, max_s * 1000, silence_s=5)
        except AgiHungUp:
            # Hanging up is how many callers end a message: Asterisk keeps what was said.
            return Recording(path=f"{path}.wav", duration_ms=0, ended_by="hangup")
        except AgiError as error:
            log.warning("cannot record %s: %s", path, error)
            return Recording(path=f"{path}.wav", duration_ms=0, ended_by="error")
        samples = int(result.extra.get("endpos", "0") or 0)
        ended_by = "dtmf" if result.result_int > 0 else "timeout"
        return Recording(
            path=f"{path}.wav", duration_ms=samples // SAMPLES_PER_MS, ended_by=ended_by
        )

    async def get_variable(self, name: str) -> str | None:
        return await _guard(lambda: self.agi.get_variable(name))

    async def set_variable(self, name: str, value: str) -> None:
        await _guard(lambda: self.agi.set_variable(name, value))
