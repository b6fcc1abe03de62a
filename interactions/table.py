"""One record per call or message. For calls the key is Asterisk's `linkedid`, which every
channel of the call shares, so the IVR, the queue and the agent's notes land on one row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base, UtcDateTime


class Interaction(Base):
    __tablename__ = "interactions"
    # "My recent calls" on the agent desktop and "last 10 calls" on a popup: read newest
    # first straight from the index, however many calls an agent or customer has had.
    __table_args__ = (
        Index("ix_interactions_agent_started_at", "agent", "started_at"),
        Index("ix_interactions_customer_id_started_at", "customer_id", "started_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    linkedid: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    channel: Mapped[str] = mapped_column(String(16), default="call")  # call, sms, email, fax
    direction: Mapped[str] = mapped_column(String(8), default="inbound")
    caller_number: Mapped[str | None] = mapped_column(String(32), index=True)
    called_number: Mapped[str | None] = mapped_column(String(32))
    # Plain integer, not a foreign key: an insurer's own adapter may keep customers elsewhere.
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    language: Mapped[str | None] = mapped_column(String(2))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    duration_s: Mapped[float | None] = mapped_column(Float)
    # self_served, queued, abandoned_in_menu, transferred, failed ...
    outcome: Mapped[str | None] = mapped_column(String(32))
    outcome_detail: Mapped[str | None] = mapped_column(String(128))
    # [{"menu": "claim_status", "at": iso}], [{"field": "pin", "value": "****"}], [{"text":..}]
    menu_path: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    transcript: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    looked_up: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    queue: Mapped[str | None] = mapped_column(String(64))
    agent: Mapped[str | None] = mapped_column(String(32), index=True)
    disposition: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)
    survey_score: Mapped[int | None] = mapped_column(Integer)
    survey_nps: Mapped[int | None] = mapped_column(Integer)

    def as_record(self) -> dict[str, Any]:
        """The JSON shape `tamas call` prints and the popup shows."""
        record: dict[str, Any] = {}
        for column in self.__table__.columns:
            value = getattr(self, column.name)
            record[column.name] = value.isoformat() if isinstance(value, datetime) else value
        return record
