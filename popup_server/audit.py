"""What agents did with customers' data and the telephone, kept for the insurer's security
team: every whole customer file read from the desktop (for a ringing call or from a search),
every search, every click-to-call and transfer, refused ones included.

The same rows are the per-agent rate limits: an action is written first, then the agent's
actions of its kind in the last hour are counted, and past the limit the row is marked
refused. Writing before counting makes the limit hold across processes and concurrent
requests with no lock: of two racing requests, the later count sees both rows.

A row never holds what was typed into the search box (it is personal data, and the file
read that may follow names the customer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Boolean, Index, Integer, String, func, insert, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base, Database, UtcDateTime

# What supervisors did from the wallboard (supervisors/actions.py, supervisors/web.py).
SUPERVISOR_ACTIONS = (
    "sv_pause", "sv_unpause", "sv_logout", "sv_listen", "sv_whisper", "sv_barge", "sv_move",
    "sv_callback", "sv_report",
)  # fmt: skip
# What campaign operators did from the console (dialer/web.py); the target is the campaign.
CAMPAIGN_ACTIONS = (
    "campaign_create", "campaign_import", "campaign_select", "campaign_start", "campaign_pause",
    "campaign_resume", "campaign_stop", "campaign_export", "campaign_sms",
)  # fmt: skip
# What messaging operators did (messaging/operators.py): the target is the message or the
# notice kind and language; a preview reads a customer's file.
MESSAGING_ACTIONS = (
    "message_retry", "message_cancel", "template_edit", "template_reset", "notice_preview",
)  # fmt: skip
# Cases (cases/web.py): an agent reading, opening or moving a case (the target is its tracking
# number); every call of the partners' API, as agent "p:<partner>", refused ones included.
CASE_ACTIONS = ("case_read", "case_open", "case_update", "partner_call")
ACTIONS = (
    "file_read", "search", "originate", "transfer", *SUPERVISOR_ACTIONS, *CAMPAIGN_ACTIONS,
    *MESSAGING_ACTIONS, *CASE_ACTIONS,
)  # fmt: skip
REASONS = ("ringing_call", "search", "registration")
WINDOW = timedelta(hours=1)


class AuditRecord(Base):
    __tablename__ = "audit_records"
    __table_args__ = (Index("ix_audit_records_agent_action_at", "agent", "action", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    agent: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(16))  # one of ACTIONS
    # Why a file was read: for the call ringing the agent, picked from a search, or shown back
    # to the agent who just registered the customer.
    reason: Mapped[str | None] = mapped_column(String(16))
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    linkedid: Mapped[str | None] = mapped_column(String(64))
    # The number dialled or transferred to, as dialled.
    target: Mapped[str | None] = mapped_column(String(32))
    # False when refused (a number outside the allowed patterns, or past the rate limit).
    allowed: Mapped[bool] = mapped_column(Boolean)
    refusal: Mapped[str | None] = mapped_column(String(32))


@dataclass(frozen=True)
class RateLimit:
    """At most `per_hour` of these actions per agent in any hour."""

    actions: tuple[str, ...]
    per_hour: int
    # Only rows with one of these reasons count (file reads from a search, not for a call
    # ringing the agent); None counts every row of the actions.
    reasons: tuple[str, ...] | None = None


_INSERT = insert(AuditRecord).returning(AuditRecord.id)


class AuditLog:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def record(
        self,
        agent: str,
        action: str,
        *,
        reason: str | None = None,
        customer_id: int | None = None,
        linkedid: str | None = None,
        target: str | None = None,
        refusal: str | None = None,
        limit: RateLimit | None = None,
    ) -> bool:
        """Write the action; True if it may go ahead (not refused, within `limit`)."""
        if action not in ACTIONS:
            raise ValueError(f"audit action {action!r} is not one of {', '.join(ACTIONS)}")
        if reason is not None and reason not in REASONS:
            raise ValueError(f"audit reason {reason!r} is not one of {', '.join(REASONS)}")
        now = datetime.now(UTC)
        row = {
            "at": now,
            "agent": agent[:16],
            "action": action,
            "reason": reason,
            "customer_id": customer_id,
            "linkedid": linkedid[:64] if linkedid else None,
            "target": target[:32] if target else None,
            "allowed": refusal is None,
            "refusal": refusal,
        }
        async with self.database.autocommit() as connection:
            row_id = int((await connection.execute(_INSERT, row)).scalar_one())
            if refusal is not None or limit is None:
                return refusal is None
            used = await connection.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(
                    AuditRecord.agent == row["agent"],
                    AuditRecord.action.in_(limit.actions),
                    AuditRecord.at > now - WINDOW,
                    AuditRecord.allowed.is_(True),
                    *(
                        ()
                        if limit.reasons is None
                        else (
                            or_(
                                AuditRecord.reason.is_(None), AuditRecord.reason.in_(limit.reasons)
                            ),
                        )
                    ),
                )
            )
            if int(used or 0) <= limit.per_hour:
                return True
            await connection.execute(
                update(AuditRecord)
                .where(AuditRecord.id == row_id)
                .values(allowed=False, refusal="rate_limited")
            )
            return False

    async def for_agent(self, agent: str, limit: int = 100) -> list[AuditRecord]:
        """The agent's latest actions, newest first."""
        async with self.database.session() as session:
            rows = await session.scalars(
                select(AuditRecord)
                .where(AuditRecord.agent == agent)
                .order_by(AuditRecord.id.desc())
                .limit(limit)
            )
            return list(rows)
