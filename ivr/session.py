"""What one call has done so far: language, who the caller is, the menus visited, what was
keyed (masked when sensitive), what the IVR said, what was looked up, and how it ended.

Pure state with no I/O; `part()` hands it to the interaction records' owner
(`interactions.records`) as the call's part of its record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from interactions.outcomes import Outcome
from interactions.records import CallPart

MASK = "****"


def utc_now() -> datetime:
    return datetime.now(UTC)


# How the caller was identified. A number match is only "caller_id": caller ID can be spoofed,
# so it recognises a number, it never verifies who speaks. "pin": the caller keyed a secret
# that was checked (a PIN, or the national ID's last digits for a claim).
BY_CALLER_ID = "caller_id"
BY_PIN = "pin"


@dataclass(frozen=True)
class KnownCaller:
    """The customer recognised for this call (by number, or after a PIN)."""

    customer_id: int
    name: str
    tier: str = "regular"
    language: str | None = None
    identified_by: str = BY_CALLER_ID

    @property
    def verified(self) -> bool:
        return self.identified_by == BY_PIN


@dataclass
class CallSession:
    linkedid: str
    caller_number: str | None
    called_number: str | None = None
    language: str = "fa"
    clock: Callable[[], datetime] = utc_now
    started_at: datetime = field(default_factory=utc_now)
    customer: KnownCaller | None = None
    menu_path: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[dict[str, Any]] = field(default_factory=list)
    transcript: list[dict[str, Any]] = field(default_factory=list)
    looked_up: list[dict[str, Any]] = field(default_factory=list)
    outcome: Outcome | None = None
    outcome_detail: str | None = None
    queue: str | None = None
    ended_at: datetime | None = None

    @property
    def current_menu(self) -> str | None:
        return self.menu_path[-1]["menu"] if self.menu_path else None

    def enter(self, menu: str) -> None:
        self.menu_path.append({"menu": menu, "at": self.clock().isoformat()})

    def said(self, text: str) -> None:
        if text:
            self.transcript.append(
                {"text": text, "language": self.language, "at": self.clock().isoformat()}
            )

    def keyed(self, name: str, value: str, *, sensitive: bool = False) -> None:
        # PINs and national IDs never reach the record in clear; the length is kept because
        # it helps an agent see that the caller keyed something of the right shape.
        shown = MASK if sensitive and value else value
        self.inputs.append({"field": name, "value": shown, "at": self.clock().isoformat()})

    def looked(self, kind: str, reference: str, **details: Any) -> None:
        self.looked_up.append({"kind": kind, "ref": reference, **details})

    def identify(self, caller: KnownCaller) -> None:
        self.customer = caller

    def finish(
        self, outcome: Outcome, detail: str | None = None, *, queue: str | None = None
    ) -> None:
        """How the call left the menus (see `interactions.outcomes.Outcome`)."""
        self.outcome = outcome
        self.outcome_detail = detail
        if queue is not None:
            self.queue = queue
        self.ended_at = self.clock()

    @property
    def duration_s(self) -> float | None:
        if self.ended_at is None:
            return None
        return round((self.ended_at - self.started_at).total_seconds(), 3)

    def part(self) -> CallPart:
        """This session's part of the call's interaction record."""
        return CallPart(
            linkedid=self.linkedid,
            caller_number=self.caller_number,
            called_number=self.called_number,
            started_at=self.started_at,
            ended_at=self.ended_at or self.clock(),
            customer_id=self.customer.customer_id if self.customer is not None else None,
            language=self.language,
            outcome=self.outcome,
            outcome_detail=self.outcome_detail,
            menu_path=self.menu_path,
            inputs=self.inputs,
            transcript=self.transcript,
            looked_up=self.looked_up,
            queue=self.queue,
        )
