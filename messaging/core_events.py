"""Events the core insurance system tells Tamas about (a policy issued, a premium received, a
claim settled...), read from a webhook's body or a row of the core database, and the webhook's
signature check. Pure: no I/O.

Each event carries its own id from the core system; that id is the notice's idempotency key,
so an event delivered twice (a webhook retried, a poller restarted) is sent once."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

# How far a signed request's timestamp may be from our clock: a captured request replayed
# later is refused even before its event id is looked up.
REPLAY_WINDOW_S = 300
SIGNATURE_PREFIX = "sha256="
_WHO = ("customer_id", "national_id", "company_id", "policy_number")


class BadEvent(ValueError):
    """The event cannot be used; the message names the field."""


class BadSignature(ValueError):
    """The request is not signed by the core system, or not now."""


@dataclass(frozen=True)
class CoreEvent:
    id: str  # the core system's own id for the event: the idempotency key
    type: str  # policy.issued, premium.received, claim.settled ...
    occurred_at: datetime
    # Who it is about: one of customer_id, national_id, company_id, policy_number.
    customer: dict[str, str] = field(default_factory=dict)
    # A recipient outside the customer file (an insurance agent's own mobile or email).
    to: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"core:{self.id}"


def read_event(raw: Any) -> CoreEvent:
    if not isinstance(raw, Mapping):
        raise BadEvent("an event must be a JSON object")
    event_id = raw.get("id")
    if not isinstance(event_id, str | int) or not str(event_id).strip() or len(str(event_id)) > 100:
        raise BadEvent("id: the core system's event id (text, at most 100 characters)")
    event_type = raw.get("type")
    if not isinstance(event_type, str) or not event_type or len(event_type) > 64:
        raise BadEvent("type: an event type such as claim.settled")
    occurred_at = _instant(raw.get("occurred_at"))
    customer = _strings(raw.get("customer", {}), "customer")
    unknown = set(customer) - set(_WHO)
    if unknown:
        raise BadEvent(f"customer: unknown key {sorted(unknown)[0]!r} (known: {', '.join(_WHO)})")
    to = _strings(raw.get("to", {}), "to")
    if set(to) - {"phone", "email", "name", "language"}:
        raise BadEvent("to: only phone, email, name and language")
    if not customer and not (to.get("phone") or to.get("email")):
        raise BadEvent("customer or to: say who the notice is for")
    data = raw.get("data", {})
    if not isinstance(data, Mapping):
        raise BadEvent("data: must be an object")
    return CoreEvent(str(event_id).strip(), event_type, occurred_at, customer, to, dict(data))


def _instant(value: Any) -> datetime:
    if not isinstance(value, str):
        raise BadEvent("occurred_at: an ISO 8601 time with its offset")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise BadEvent(f"occurred_at: {value[:40]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise BadEvent("occurred_at: give the offset (…+03:30 or …Z)")
    return moment.astimezone(UTC)


def _strings(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(
        isinstance(v, str | int) and not isinstance(v, bool) for v in value.values()
    ):
        raise BadEvent(f"{where}: an object of texts")
    return {str(k): str(v).strip() for k, v in value.items()}


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """What the core system sends in X-Tamas-Signature: HMAC-SHA256 over "timestamp.body"."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


def check_signature(
    secret: str,
    timestamp: str,
    sent: str,
    body: bytes,
    now: datetime,
    window_s: int = REPLAY_WINDOW_S,
) -> None:
    """Raises BadSignature unless `sent` signs this body at a time within the window."""
    try:
        stamped = int(timestamp)
    except ValueError:
        raise BadSignature("X-Tamas-Timestamp: seconds since 1970") from None
    if abs(now.timestamp() - stamped) > window_s:
        raise BadSignature("the request's timestamp is outside the replay window")
    if not hmac.compare_digest(signature(secret, timestamp, body), sent):
        raise BadSignature("the signature does not match")
