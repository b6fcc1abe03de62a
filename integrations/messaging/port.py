"""What every sending adapter (SMS, fax, email) looks like to the outbox sender: it takes one
`Outgoing` message, hands it over, and returns the provider's id for it, or raises
`GatewayError` saying whether trying again later can help and whether the provider may have
taken it all the same. An adapter whose provider answers status queries also has `find`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class GatewayError(Exception):
    """The message could not be handed over; `permanent` when retrying cannot help;
    `uncertain` when the provider may have taken it anyway (the request went out and no clear
    answer came back): resending blindly could send it twice.

    The text ends up in the log, so it never names the recipient (numbers and addresses are
    personal data): the sender logs the outbox row id next to it instead."""

    def __init__(self, message: str, *, permanent: bool, uncertain: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.uncertain = uncertain


@dataclass(frozen=True)
class Outgoing:
    """One outbox row as an adapter sees it: plain values, no database session."""

    to: str  # E.164 number for SMS and fax, an address for email
    subject: str  # the key the IVR wrote: claim_status, centres... (see subjects.py)
    body: str
    language: str  # fa, en or ru
    reference: str  # the outbox row id, echoed back by providers in their reports
    # The customer the row is about, when known: an email attaches their statement from it.
    customer_id: int | None = None


class StatusQuery(Protocol):
    async def find(self, reference: str) -> str | None:
        """The provider's id of the message sent with `reference` (the outbox row id), or
        None when the provider never got it. Raises GatewayError when it cannot tell."""
        ...


class Adapter(Protocol):
    async def send(self, message: Outgoing) -> str:
        """Hand one message over; return the provider's id for it. Raises GatewayError."""
        ...

    async def close(self) -> None:
        """Release connections; called once when the sender stops."""
        ...
