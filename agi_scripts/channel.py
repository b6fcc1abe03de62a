"""One call as the AGI protocol sees it: `AgiCommands`, the commands every route uses, carried by
FastAGI's `AgiChannel` (here) or process AGI's `ProcessAgiChannel` (agi_scripts/process_agi.py);
and `Route`, what both transports run.

The protocol is line based: we write a command, Asterisk answers `200 result=R (data) k=v`, or
`510`/`520` for a bad command, or `511` once the channel is dead. With AGISIGHUP (Asterisk's
default) it also writes a bare `HANGUP` line when the caller hangs up, at any moment, possibly
just before the answer to the command in flight. Every command therefore reads lines until
its own numbered answer, noting a `HANGUP` on the way; no answer is ever left unread, so later
commands cannot go off by one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

# Headers and answers are short; a longer line is not AGI.
MAX_LINE_BYTES = 64 * 1024
# Longest silence from Asterisk while a command is in flight: longer than any prompt, wait for
# keys or recording we ask for. A half-open connection (Asterisk's host gone without closing
# the socket) otherwise holds the session, and the call's unsaved record, for ever.
ANSWER_TIMEOUT_S = 300.0


class CallerHungUp(Exception):
    """The caller hung up (or Asterisk closed the AGI session); the route should finish."""


class AgiError(Exception):
    """Asterisk rejected a command (unknown command, bad syntax) or answered with nonsense."""


@dataclass(frozen=True)
class AgiResult:
    """One answer: `200 result=1 (value) endpos=1234` → code 200, result "1", data "value"."""

    code: int
    result: str = ""
    data: str = ""
    extra: Mapping[str, str] = field(default_factory=dict)
    line: str = ""

    @property
    def result_int(self) -> int:
        try:
            return int(self.result)
        except ValueError:
            return 0


def parse_result(line: str) -> AgiResult:
    code_text, _, rest = line.partition(" ")
    if not code_text[:3].isdigit():
        raise AgiError(f"unexpected AGI answer {line!r}")
    code = int(code_text[:3])
    result = data = ""
    extra: dict[str, str] = {}
    if code == 200 and rest.startswith("result="):
        result, _, rest = rest[len("result=") :].partition(" ")
        if rest.startswith("("):
            # The value of GET VARIABLE may itself hold parentheses: take up to the last one.
            close = rest.rfind(")")
            data, rest = rest[1:close], rest[close + 1 :]
        for token in rest.split():
            key, sep, value = token.partition("=")
            if sep:
                extra[key] = value
    return AgiResult(code, result, data, extra, line)


def quote(value: str) -> str:
    """An AGI argument: Asterisk splits on spaces unless quoted, and unescapes \\ and \"."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{escaped}"'


def _digit(result: AgiResult) -> str | None:
    """STREAM FILE / WAIT FOR DIGIT answer the ASCII code of the key, 0 for none."""
    code = result.result_int
    return chr(code) if code > 0 else None


class AgiCommands:
    """The AGI commands a route uses, over whatever carries the lines: a FastAGI socket
    (`AgiChannel`) or a process AGI's stdin/stdout (`ProcessAgiChannel`). Subclasses supply
    `command()` and say where the route's name and arguments are in the headers.
    Methods raise `CallerHungUp` once the caller is gone."""

    headers: dict[str, str]
    hung_up: bool
    # FastAGI names the route in the URL, so its arguments start at agi_arg_1; process AGI
    # names it in the first argument.
    first_argument = 1

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.headers = dict(headers)
        self._linkedid: str | None = None

    async def command(self, text: str) -> AgiResult:
        raise NotImplementedError

    @property
    def is_open(self) -> bool:
        return True

    # ------------------------------------------------------------ what Asterisk told us

    @property
    def script(self) -> str:
        raise NotImplementedError

    @property
    def args(self) -> list[str]:
        """AGI arguments (`AGI(agi://host/route,a,b)` → ["a", "b"])."""
        found = []
        index = self.first_argument
        while f"agi_arg_{index}" in self.headers:
            found.append(self.headers[f"agi_arg_{index}"])
            index += 1
        return found

    @property
    def caller_number(self) -> str | None:
        value = self.headers.get("agi_callerid", "")
        return None if value in {"", "unknown"} else value

    @property
    def uniqueid(self) -> str:
        return self.headers.get("agi_uniqueid", "")

    @property
    def name(self) -> str:
        return self.headers.get("agi_channel", "")

    async def linkedid(self) -> str:
        """Asterisk's linkedid, shared by every channel of the call (not an AGI header)."""
        if self._linkedid is None:
            self._linkedid = await self.get_variable("CHANNEL(linkedid)") or self.uniqueid
        return self._linkedid

    async def _media(self, text: str) -> AgiResult:
        """A command that plays or listens: result -1 means hang-up (or a failure, e.g. a
        missing sound file, which must not be mistaken for one)."""
        result = await self.command(text)
        if result.result == "-1":
            if self.hung_up:
                raise CallerHungUp(f"{text.split()[0]}: caller hung up")
            status = await self.command("CHANNEL STATUS")  # 511 → CallerHungUp
            if status.result == "-1":
                raise CallerHungUp(f"{text.split()[0]}: caller hung up")
            raise AgiError(f"{text!r} failed: {result.line}")
        return result

    # ------------------------------------------------------------ commands routes use

    async def answer(self) -> None:
        result = await self.command("ANSWER")
        if result.result == "-1":
            raise CallerHungUp("ANSWER failed: the channel is gone")

    async def hangup(self) -> None:
        if self.hung_up or not self.is_open:
            return
        try:
            await self.command("HANGUP")
        except CallerHungUp:
            pass
        self.hung_up = True

    async def get_variable(self, name: str) -> str | None:
        """A channel variable or a function such as `CHANNEL(linkedid)`; None when unset."""
        result = await self.command(f"GET VARIABLE {name}")
        return result.data if result.result == "1" else None

    async def set_variable(self, name: str, value: str) -> None:
        await self.command(f"SET VARIABLE {name} {quote(value)}")

    async def stream_file(self, name: str, escape_digits: str = "") -> str | None:
        """Play `name` (no extension); the key that interrupted it, or None."""
        return _digit(await self._media(f"STREAM FILE {name} {quote(escape_digits)}"))

    async def get_data(self, prompt: str, timeout_ms: int = 5000, max_digits: int = 20) -> str:
        """Play `prompt` and collect up to `max_digits` keys (`#` ends early). '' if none.
        An empty `prompt` plays nothing: the keys of a number after its first one."""
        played = prompt or quote("")
        result = await self._media(f"GET DATA {played} {int(timeout_ms)} {int(max_digits)}")
        # "200 result=123 (timeout)" still carries the keys pressed before the timeout.
        return result.result

    async def wait_for_digit(self, timeout_ms: int) -> str | None:
        return _digit(await self._media(f"WAIT FOR DIGIT {int(timeout_ms)}"))

    async def record_file(
        self,
        name: str,
        fmt: str = "wav",
        escape_digits: str = "#",
        timeout_ms: int = 60_000,
        silence_s: int | None = None,
        beep: bool = True,
    ) -> AgiResult:
        """Record the caller to `name.fmt`; `result` is the ending key's code (0: timeout or
        silence), `extra["endpos"]` the length in samples."""
        text = f"RECORD FILE {name} {fmt} {quote(escape_digits)} {int(timeout_ms)}"
        if beep:
            text += " BEEP"
        if silence_s is not None:
            text += f" s={int(silence_s)}"
        return await self._media(text)


# A route: what the dialplan's AGI(...) names; it gets the call's channel, over either transport.
Route = Callable[[AgiCommands], Awaitable[None]]


class AgiChannel(AgiCommands):
    """The AGI side of one call over a FastAGI socket."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        headers: Mapping[str, str],
        *,
        answer_timeout_s: float | None = None,
    ) -> None:
        super().__init__(headers)
        self._reader = reader
        self._writer = writer
        self.answer_timeout_s = ANSWER_TIMEOUT_S if answer_timeout_s is None else answer_timeout_s
        self.hung_up = False
        self._closed = False

    @property
    def script(self) -> str:
        """The route: `agi://host:port/<script>`."""
        return self.headers.get("agi_network_script", "").strip("/")

    @property
    def is_open(self) -> bool:
        return not self._closed

    async def command(self, text: str) -> AgiResult:
        """Send one command, return its answer. 511 (dead channel) raises CallerHungUp."""
        if self._closed:
            raise CallerHungUp("AGI session closed")
        self._writer.write(text.encode("utf-8") + b"\n")
        try:
            await self._writer.drain()
        except (ConnectionError, OSError) as error:
            self._closed = True
            raise CallerHungUp(f"AGI connection lost: {error}") from error
        while True:
            line = await self._read_line()
            if line == "HANGUP":
                self.hung_up = True
                continue
            if line.startswith("520-"):  # usage text follows, up to "520 End of ..."
                usage = [line]
                while not line.startswith("520 "):
                    line = await self._read_line()
                    usage.append(line)
                raise AgiError(f"{text!r}: {' '.join(usage)}")
            result = parse_result(line)
            if result.code == 511:
                self.hung_up = True
                raise CallerHungUp(f"{text.split()[0]} on a dead channel")
            if result.code != 200:
                raise AgiError(f"{text!r}: {line}")
            return result

    async def _read_line(self) -> str:
        try:
            async with asyncio.timeout(self.answer_timeout_s):
                raw = await self._reader.readuntil(b"\n")
        except TimeoutError as error:
            self._closed = True
            self._writer.close()
            raise CallerHungUp(
                f"no answer from Asterisk in {self.answer_timeout_s:.0f} s (connection lost?)"
            ) from error
        except asyncio.IncompleteReadError as error:
            self._closed = True
            raise CallerHungUp("Asterisk closed the AGI session") from error
        except asyncio.LimitOverrunError as error:
            self._closed = True
            raise AgiError("AGI answer line too long") from error
        except (ConnectionError, OSError) as error:
            self._closed = True
            raise CallerHungUp(f"AGI connection lost: {error}") from error
        return raw.decode("utf-8", errors="replace").rstrip("\r\n")

    async def close(self) -> None:
        # `_closed` also means "Asterisk went away" (set by a failed read): the socket is
        # still ours to close, or each half-closed session would keep its descriptor.
        self._closed = True
        if self._writer.is_closing():
            return
        self._writer.close()
        try:
            await self._writer.wait_closed()
        except (ConnectionError, OSError):
            pass
