"""How an interaction ended for the person, as one code. Supervisors' self-service rate,
campaign results and reports are computed from these codes, so each says what happened to the
caller, not what the software did: a caller who keyed an unknown claim code heard an answer,
but did not self-serve. docs/outcomes.md gives the exact meaning of each and how the figures
use them; the agent desktop shows each through its translated label, never the raw code.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    # The caller heard what they came for (a claim's stage, their debts, a branch...), from
    # the menus alone. `outcome_detail` names the last service that delivered.
    SELF_SERVED = "self_served"
    # Put in an agent queue; a passing state, settled by the queue's end into one of the two
    # below (or `no_agent` / `callback_requested` when the queue gave up).
    QUEUED = "queued"
    ANSWERED_BY_AGENT = "answered_by_agent"
    ABANDONED_IN_QUEUE = "abandoned_in_queue"
    # The queue gave up (no agent in time, or none logged in) and the caller left without a
    # callback: the contact centre failed them, they did not abandon.
    NO_AGENT = "no_agent"
    # The caller left a callback request (after hours, or when no agent came).
    CALLBACK_REQUESTED = "callback_requested"
    # Wanted an agent outside opening hours and declined the callback.
    AFTER_HOURS = "after_hours"
    # Hung up in the menus before anything was delivered, with nothing gone wrong.
    ABANDONED_IN_MENU = "abandoned_in_menu"
    # What the caller keyed (a claim code, policy number, national ID) matched nothing.
    NOT_FOUND = "not_found"
    # Too many wrong secrets: locked out of a private answer.
    LOCKED_OUT = "locked_out"
    # Keyed a wrong secret (PIN, national-ID digits) and left before getting it right or
    # being locked out.
    NOT_VERIFIED = "not_verified"
    # Invalid or no input until the menu gave up, and no agent took the call over.
    GAVE_UP = "gave_up"
    # An outside system (the customer file, the core system) failed or timed out; the caller
    # was told we cannot look it up now.
    SYSTEM_ERROR = "system_error"
    # Tamas itself failed (a bug, see the log); the call ended without a proper answer.
    FAILED = "failed"

    # Outbound campaign attempts (dialer/): how the call the dialer placed ended for the person.
    # Nobody picked up before the ring timeout (Originate reason 3).
    NO_ANSWER = "no_answer"
    # The line was busy (Originate reason 5).
    BUSY = "busy"
    # The network had no route or circuit (Originate reason 8): not the person's doing.
    CONGESTION = "congestion"
    # The channel could not be placed at all (Originate reason 0, a bad number or trunk).
    DIAL_FAILED = "dial_failed"
    # Asterisk's AMD() heard a machine, not a person; nothing was left on it.
    ANSWERING_MACHINE = "answering_machine"
    # A person answered and heard the whole message, and asked for nothing more.
    MESSAGE_PLAYED = "message_played"
    # A person answered and was bridged to an agent within 2 s (or pressed 1 and got one).
    TO_AGENT = "to_agent"
    # A person answered and no agent came within 2 s: the regulators' abandoned call. They heard
    # the recorded message naming the insurer, and no predictive campaign calls them for 72 h.
    ABANDONED = "abandoned"
    # The person pressed 9 (or texted STOP): on the do-not-call list for every campaign.
    OPTED_OUT = "opted_out"
    # A person answered and hung up before the message ended.
    HUNG_UP = "hung_up"

    # Messages (SMS, email, fax) to and from the person: where the message got to.
    # Accepted and waiting to be sent (a passing state, like `queued`).
    MESSAGE_QUEUED = "message_queued"
    # Handed to the gateway, the SMTP server or the fax line; no delivery report yet.
    SENT = "sent"
    # The operator's delivery report, the receiving fax or the mail server confirmed it.
    DELIVERED = "delivered"
    # The gateway or the fax line said it could not be delivered.
    UNDELIVERED = "undelivered"
    # No final word within the set time: the person cannot be assumed to have it.
    EXPIRED = "expired"
    # The outbox refused it (a cap, a destination not allowed): never sent.
    REFUSED = "refused"
    # A messaging operator cancelled it before it was sent.
    CANCELLED = "cancelled"
    # An inbound message was answered (the text service told them what they asked).
    ANSWERED = "answered"

    @property
    def served(self) -> bool:
        """True when the person got what they came for, from the menus or an agent."""
        return self in _SERVED

    @property
    def settled(self) -> bool:
        """False only for the passing `queued`: the record's end is still to come."""
        return self not in _PASSING


_SERVED = frozenset({Outcome.SELF_SERVED, Outcome.ANSWERED_BY_AGENT})
_PASSING = frozenset({Outcome.QUEUED, Outcome.MESSAGE_QUEUED, Outcome.SENT})
