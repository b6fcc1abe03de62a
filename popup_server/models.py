"""The agent desktop's own tables: agent accounts and their login sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base, UtcDateTime


class Agent(Base):
    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # What the agent types to log in, and what queue_log and interactions record.
    number: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    # Salted scrypt, the same self-describing format as customers' PINs.
    password_hash: Mapped[str] = mapped_column(String(160))
    # The device whose ringing means "this agent's phone rings": a queue member's state
    # interface such as `Local/101@tamas-agents` or `PJSIP/101`.
    interface: Mapped[str] = mapped_column(String(128), unique=True)
    language: Mapped[str] = mapped_column(String(2), default="fa")
    # Comma-separated names of popup_server.roles.Role: "agent", "agent,supervisor".
    # Event audiences may name roles.
    roles: Mapped[str] = mapped_column(String(200), default="agent")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, server_default=func.now())


class AgentSession(Base):
    __tablename__ = "agent_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # sha256 of the token: a leaked table does not let anyone log in.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
