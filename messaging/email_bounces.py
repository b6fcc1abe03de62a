"""Bounces of the emails Tamas sent: delivery status notifications (RFC 3464, a
multipart/report with a message/delivery-status part) read back to the outbox rows they are
about. Our letters' Message-IDs carry the row id (`<...outbox.42@insurer.example>`), and a
bounce quotes the original's headers, so a bounce names its row. Pure: the letter in, the
bounces found out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage, Message
from email.parser import HeaderParser

_ROW = re.compile(r"\.outbox\.(\d+)@")
# RFC 3464 actions: failed is final; delayed says nothing final yet; delivered, relayed and
# expanded mean the recipient's server took it.
_STATUS = {"failed": "undelivered", "delivered": "delivered", "relayed": "delivered"}


@dataclass(frozen=True)
class Bounce:
    outbox_id: int
    provider_id: str  # the original letter's Message-ID
    status: str  # undelivered or delivered (the outbox's delivery statuses)
    code: str  # the enhanced status code, 5.1.1 ..., no address in it


def read_bounce(letter: EmailMessage) -> list[Bounce]:
    """The outbox rows a delivery status notification is about; [] for any other letter."""
    if letter.get_content_type() != "multipart/report":
        return []
    message_id = ""
    actions: list[tuple[str, str]] = []
    for part in letter.walk():
        kind = part.get_content_type()
        if kind in {"text/rfc822-headers", "message/rfc822"}:
            message_id = message_id or _original_message_id(part)
        elif kind == "message/delivery-status":
            actions += _actions(part)
    found = _ROW.search(message_id)
    if found is None:
        return []
    bounces = []
    for action, code in actions:
        status = _STATUS.get(action)
        if status is not None:
            bounces.append(Bounce(int(found.group(1)), message_id, status, code))
    return bounces


def _original_message_id(part: Message) -> str:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:  # message/rfc822: the message itself
        original = payload[0]
        return str(original.get("Message-ID", "")) if isinstance(original, Message) else ""
    text = payload if isinstance(payload, str) else ""
    return str(HeaderParser().parsestr(text).get("Message-ID", ""))


def _actions(part: Message) -> list[tuple[str, str]]:
    """(action, status code) per recipient block of a message/delivery-status part."""
    blocks = part.get_payload()
    found = []
    for block in blocks if isinstance(blocks, list) else []:
        if not isinstance(block, Message):
            continue
        action = str(block.get("Action", "")).strip().lower()
        if action:
            code = str(block.get("Status", "")).strip().split(" ")[0][:16]
            found.append((action, code))
    return found
