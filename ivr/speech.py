"""What the IVR says, built from the prompt catalogue and the number, amount, date and digit
words of `prompts`, in the caller's language.

The engine and the services only name catalogue keys and values; this module turns them into
`Utterance`s (transcript text + sound fragments). It is the one place that knows the shape of
the `prompts` package, so `Voice` is the port and `PromptVoice` its adapter.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, time
from typing import Protocol

from prompts.catalogue import Catalogue, default_catalogue
from prompts.dates import say_date, say_time
from prompts.numbers import say_amount, say_digits, say_number
from prompts.utterance import Utterance

log = logging.getLogger(__name__)


class Voice(Protocol):
    def phrase(self, key: str, language: str) -> Utterance: ...

    def number(self, n: int, language: str) -> Utterance: ...

    def amount(self, rials: int, language: str) -> Utterance: ...

    def date(self, day: date, language: str) -> Utterance: ...

    def time(self, at: time, language: str) -> Utterance: ...

    def digits(self, text: str, language: str) -> Utterance: ...

    def free_text(self, text: str, language: str) -> Utterance: ...

    async def spoken(self, text: str, language: str) -> Utterance: ...


# Speaks any text (a name, an address) into a sound, e.g. `prompts.sounds.Voice.speak`.
Speaker = Callable[[str, str], Awaitable[Utterance]]


class PromptVoice:
    """The default voice: fixed prompts from the catalogue, numbers and dates from fragments."""

    def __init__(
        self,
        catalogue: Catalogue | None = None,
        speaker: Speaker | None = None,
        speak_timeout_s: float = 1.5,
    ) -> None:
        self.catalogue = catalogue if catalogue is not None else default_catalogue()
        self.speaker = speaker
        self.speak_timeout_s = speak_timeout_s

    def phrase(self, key: str, language: str) -> Utterance:
        try:
            return self.catalogue.say(key, language)
        except KeyError:
            # A missing prompt must not end the call: the caller hears nothing for it and the
            # log names the key to add to the catalogue.
            log.error("prompt %r is not in the catalogue", key)
            return Utterance(text="", fragments=())

    def number(self, n: int, language: str) -> Utterance:
        return say_number(n, language)

    def amount(self, rials: int, language: str) -> Utterance:
        return say_amount(rials, language)

    def date(self, day: date, language: str) -> Utterance:
        return say_date(day, language)

    def time(self, at: time, language: str) -> Utterance:
        return say_time(at, language)

    def digits(self, text: str, language: str) -> Utterance:
        return say_digits(text, language)

    def free_text(self, text: str, language: str) -> Utterance:
        # Names and addresses are not pre-generated: the transcript keeps them, the caller
        # hears the prompts around them.
        return Utterance(text=text, fragments=())

    async def spoken(self, text: str, language: str) -> Utterance:
        """`text` said by the speech engine (cached after the first time), or, when there is
        no engine or it is slow or fails, only written in the transcript: a caller would
        rather miss a name than wait for it."""
        if self.speaker is None or not text.strip():
            return self.free_text(text, language)
        try:
            async with asyncio.timeout(self.speak_timeout_s):
                return await self.speaker(text, language)
        except Exception as error:  # a speech failure must never end the call
            log.warning("could not speak a %d-character text: %s", len(text), type(error).__name__)
            return self.free_text(text, language)
