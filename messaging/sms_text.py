"""How an SMS text is encoded and how many parts it takes (pure: no I/O).

A text goes as GSM-7 (GSM 03.38: 160 septets in one part, 153 per part when split, the
extension table's characters such as `{` or `€` taking two) when every character is in the GSM
alphabet, else as UCS-2 (UTF-16: 70 characters in one part, 67 per part when split): one
Persian or Russian letter anywhere makes the whole message UCS-2. The 7 and 3 lost per part
when split are the User Data Header (UDH) that tells the phone how to join the parts; a part
never ends between an escape and its character, nor between the two halves of a surrogate
pair (an emoji counts two in UCS-2).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

Encoding = Literal["gsm7", "ucs2"]

# GSM 03.38 basic alphabet, in code order (0x00-0x7F); 0x1B is the escape to the extension.
GSM7_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs the escape septet plus its own.
GSM7_EXTENSION = "\f^{}\\[~]|€"
_GSM7_BASIC = frozenset(GSM7_BASIC) - {"\x1b"}
_GSM7_EXTENSION = frozenset(GSM7_EXTENSION)

# Units per message (septets for GSM-7, UTF-16 code units for UCS-2): one part, each part of
# a concatenated message (the 6-byte UDH takes 7 septets, or 3 UCS-2 characters).
SINGLE = {"gsm7": 160, "ucs2": 70}
PER_PART = {"gsm7": 153, "ucs2": 67}
# SMPP data_coding for each: the SMSC default alphabet, and UCS-2.
DATA_CODING = {"gsm7": 0x00, "ucs2": 0x08}
MAX_PARTS = 255  # the UDH's part counter is one byte


class TextTooLong(ValueError):
    """The text needs more parts than a concatenated SMS can carry."""


def encoding(text: str) -> Encoding:
    """GSM-7 when every character is in the GSM alphabet (basic or extension), else UCS-2."""
    if all(char in _GSM7_BASIC or char in _GSM7_EXTENSION for char in text):
        return "gsm7"
    return "ucs2"


def _units(char: str, coding: Encoding) -> int:
    if coding == "gsm7":
        return 2 if char in _GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1  # outside the BMP: a surrogate pair


def length(text: str) -> int:
    """The text's length in its encoding's units (septets, or UTF-16 code units)."""
    coding = encoding(text)
    return sum(_units(char, coding) for char in text)


@dataclass(frozen=True)
class SmsCount:
    encoding: Encoding
    units: int  # septets or UTF-16 code units
    parts: int
    # Units still free in the last part before another part is needed.
    remaining: int


def count(text: str) -> SmsCount:
    """How `text` goes: its encoding, length, parts and what is left in the last part."""
    coding = encoding(text)
    pieces = list(_pieces(text, coding))
    units = sum(_units(char, coding) for char in text)
    limit = SINGLE[coding] if len(pieces) <= 1 else PER_PART[coding]
    used = sum(_units(char, coding) for char in pieces[-1]) if pieces else 0
    return SmsCount(coding, units, max(1, len(pieces)), limit - used)


def _pieces(text: str, coding: Encoding) -> Iterator[str]:
    """The text cut into parts' texts, never inside a character's units."""
    total = sum(_units(char, coding) for char in text)
    if total <= SINGLE[coding]:
        if text:
            yield text
        return
    limit = PER_PART[coding]
    piece: list[str] = []
    used = 0
    for char in text:
        size = _units(char, coding)
        if used + size > limit:
            yield "".join(piece)
            piece, used = [], 0
        piece.append(char)
        used += size
    if piece:
        yield "".join(piece)


def parts(text: str) -> list[str]:
    """The texts of the parts, in order (one part: the text itself)."""
    pieces = list(_pieces(text, encoding(text))) or [""]
    if len(pieces) > MAX_PARTS:
        raise TextTooLong(f"the text needs {len(pieces)} parts; at most {MAX_PARTS} can be joined")
    return pieces


def udh(reference: int, total: int, sequence: int) -> bytes:
    """The 6-byte concatenation header (IEI 0x00, 8-bit reference) of part `sequence` of
    `total` (from 1)."""
    if not 1 <= sequence <= total <= MAX_PARTS:
        raise ValueError(f"part {sequence} of {total} is not a part of a concatenated SMS")
    return bytes((0x05, 0x00, 0x03, reference & 0xFF, total, sequence))


def encode_gsm7(text: str) -> bytes:
    """GSM-7 unpacked, one septet per byte (what SMPP carries with data_coding 0)."""
    out = bytearray()
    for char in text:
        if char in _GSM7_EXTENSION:
            out += bytes((0x1B, GSM7_EXTENSION_CODES[char]))
        else:
            out.append(GSM7_BASIC.index(char))
    return bytes(out)


GSM7_EXTENSION_CODES = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}


def encode(text: str, coding: Encoding) -> bytes:
    if coding == "gsm7":
        return encode_gsm7(text)
    return text.encode("utf-16-be")


def short_messages(text: str, reference: int) -> list[tuple[bytes, int]]:
    """The SMPP `short_message` bytes of each part (its UDH first when split; set the UDHI
    bit, esm_class 0x40, on those), and the data_coding they all go with."""
    coding = encoding(text)
    pieces = parts(text)
    data_coding = DATA_CODING[coding]
    if len(pieces) == 1:
        return [(encode(pieces[0], coding), data_coding)]
    return [
        (udh(reference, len(pieces), number) + encode(piece, coding), data_coding)
        for number, piece in enumerate(pieces, start=1)
    ]


def join(messages: list[bytes], data_coding: int) -> str:
    """The text back from parts carrying a UDH each, ordered by their sequence byte."""
    ordered = sorted(
        messages, key=lambda message: message[5] if message[:3] == b"\x05\x00\x03" else 0
    )
    text = []
    for message in ordered:
        body = message[6:] if message[:3] == b"\x05\x00\x03" else message
        text.append(decode(body, data_coding))
    return "".join(text)


def decode(body: bytes, data_coding: int) -> str:
    if data_coding == DATA_CODING["ucs2"]:
        return body.decode("utf-16-be")
    escaped = {code: char for char, code in GSM7_EXTENSION_CODES.items()}
    out: list[str] = []
    escape = False
    for byte in body:
        if escape:
            out.append(escaped.get(byte, " "))
            escape = False
        elif byte == 0x1B:
            escape = True
        else:
            out.append(GSM7_BASIC[byte] if byte < len(GSM7_BASIC) else "?")
    return "".join(out)
