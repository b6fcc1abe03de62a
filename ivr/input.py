"""How a caller's keys become an answer: barge-in, `#` ends, `*` goes back, `0` asks for an
agent, and timeouts or wrong answers re-prompt a limited number of times.

The rules run over the `Channel` port and a `play` callback (which speaks and logs the
prompt), so they are tested with a scripted channel and no Asterisk.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from ivr.channel import Channel
from ivr.definitions import Behaviour, InputRule

# Speaks the prompt for one attempt (attempt 0 is the first) and returns a key pressed during
# it, if any. The engine passes a callback that also says "sorry, that was not right" on retries.
PlayPrompt = Callable[[int, str | None], Awaitable[str | None]]


class GoBack(Exception):
    """The caller pressed the back key."""


class AgentRequested(Exception):
    """The caller wants an agent, or could not be understood after every attempt."""

    def __init__(self, reason: str = "caller_asked") -> None:
        super().__init__(reason)
        self.reason = reason


# Why the previous attempt failed, for the re-prompt: no key at all, or a wrong answer.
NO_INPUT = "no_input"
INVALID = "invalid"


@dataclass(frozen=True)
class Answer:
    digits: str
    attempts: int


async def _keys_after(
    channel: Channel, first: str | None, behaviour: Behaviour, max_digits: int
) -> str | None:
    """Read one number: `first` is the barge-in key (or None). None means back was pressed.

    The first key is awaited on its own (a stray `#` left from the previous answer is
    skipped, `*` goes back at once); the rest are read with one command, so no key of a code
    falls between two commands (Asterisk drops those)."""
    key = (
        first if first is not None else await channel.wait_for_digit(behaviour.first_key_timeout_ms)
    )
    while key is not None and not key.isdigit():
        if key == behaviour.back_key:
            return None
        # A stray # (left from the previous answer) or another key before any digit.
        key = await channel.wait_for_digit(behaviour.first_key_timeout_ms)
    if key is None:
        return ""
    if max_digits <= 1:
        return key
    rest = await channel.read_digits(behaviour.next_key_timeout_ms, max_digits - 1)
    if behaviour.back_key in rest:
        return None
    return key + "".join(ch for ch in rest if ch.isdigit())


async def collect_number(
    channel: Channel,
    rule: InputRule,
    behaviour: Behaviour,
    play: PlayPrompt,
    accept: Callable[[str], bool] = lambda _digits: True,
    *,
    allow_agent: bool = True,
) -> Answer:
    """Ask for a number until it has the right length and `accept` agrees.

    The agent key alone ("0", then # or a pause) asks for an agent: no code, PIN or postal code
    the IVR asks for is a single 0, so the key keeps its meaning everywhere. A question whose
    answer may be 0 (the survey's 0-10) passes `allow_agent=False`.
    """
    failure: str | None = None
    for attempt in range(behaviour.attempts):
        first = await play(attempt, failure)
        digits = await _keys_after(channel, first, behaviour, rule.max_digits)
        if digits is None:
            raise GoBack
        if allow_agent and digits == behaviour.agent_key:
            raise AgentRequested
        if not digits:
            failure = NO_INPUT
        elif not rule.min_digits <= len(digits) <= rule.max_digits or not accept(digits):
            failure = INVALID
        else:
            return Answer(digits, attempt + 1)
    raise AgentRequested("input_failed")


async def collect_choice(
    channel: Channel,
    keys: Collection[str],
    behaviour: Behaviour,
    play: PlayPrompt,
) -> str:
    """One key out of `keys` (a menu). Back and agent keys keep their meaning unless listed."""
    failure: str | None = None
    for attempt in range(behaviour.attempts):
        key = await play(attempt, failure)
        if key is None:
            key = await channel.wait_for_digit(behaviour.first_key_timeout_ms)
        if key == behaviour.end_key and behaviour.end_key not in keys:
            # A stray # (left from the previous answer): not a choice, keep listening.
            key = await channel.wait_for_digit(behaviour.first_key_timeout_ms)
        if key is not None and key in keys:
            return key
        if key == behaviour.back_key:
            raise GoBack
        if key == behaviour.agent_key:
            raise AgentRequested
        failure = NO_INPUT if key is None else INVALID
    raise AgentRequested("input_failed")
