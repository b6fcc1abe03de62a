"""The port the IVR engine talks to: what it needs from a phone channel, and nothing more.

The engine never sees AGI. `ivr.agi_channel` implements this over FastAGI (or process AGI);
tests use a scripted channel. Keeping the port this small is what lets the menus be tested
without Asterisk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

# Every key a caller can press.
ALL_KEYS = "0123456789*#"
# The keys that interrupt a prompt (barge-in), so a caller who knows the menus keys ahead.
# Not #: callers press it after a code of fixed length too, and that stray # must not cut
# the answer they are about to hear.
PROMPT_KEYS = "0123456789*"


class CallerHungUp(Exception):
    """The caller is gone; the engine stops and writes the record."""


class Spoken(Protocol):
    """Something the IVR says: its text (for the transcript) and the sound files that say it."""

    @property
    def text(self) -> str: ...

    @property
    def fragments(self) -> Sequence[str]: ...


@dataclass(frozen=True)
class Recording:
    """A voice message the caller left."""

    path: str
    duration_ms: int  # 0 when unknown (the caller hung up to end it)
    ended_by: str  # "dtmf", "timeout", "hangup", "error"

    @property
    def kept(self) -> bool:
        """Whether there is a message to keep."""
        return self.duration_ms > 0 or self.ended_by == "hangup"


class Channel(Protocol):
    """One caller's call as the engine sees it."""

    async def play(self, spoken: Spoken, escape_digits: str = PROMPT_KEYS) -> str | None:
        """Play every fragment in turn; stop at the first key pressed and return it."""
        ...

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        """The next key pressed within the timeout, or None."""
        ...

    async def read_digits(self, timeout_ms: int, max_digits: int) -> str:
        """The keys of the rest of a number, read as one: until `#` (not included),
        `max_digits` keys, or `timeout_ms` with no key. '' when none came."""
        ...

    async def record(self, path: str, max_s: int, end_keys: str = "#") -> Recording:
        """Record the caller's voice to `path` (no extension; Asterisk adds `.wav`). A caller
        hanging up ends the recording (ended_by "hangup"); the next command then raises
        CallerHungUp."""
        ...

    async def get_variable(self, name: str) -> str | None: ...

    async def set_variable(self, name: str, value: str) -> None: ...
