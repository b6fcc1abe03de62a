"""Agent accounts and their sessions: who may log in to the desktop, which device is their
phone, and which session tokens are still valid.

Passwords are hashed by `tamas.passwords` (in a worker thread: ~30 ms on purpose); session
tokens are random, stored only as sha256, and expire.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select

from integrations.database import Database
from popup_server.models import Agent, AgentSession
from popup_server.roles import parse_roles
from tamas.languages import LANGUAGES
from tamas.passwords import DEFAULT_N, hash_secret, verify_secret


class AgentError(ValueError):
    """An agent account cannot be made as asked; the message names the field."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def session_key(token: str) -> str:
    """What names a session outside this module (a websocket's, a bus message's): the
    stored hash, never the token itself."""
    return _token_hash(token)


@dataclass(frozen=True)
class AgentIdentity:
    """A logged-in agent, as the desktop and the websocket know them."""

    id: int
    number: str
    name: str
    interface: str
    language: str
    roles: frozenset[str]
    session_expires_at: datetime


@dataclass(frozen=True)
class NewSession:
    token: str
    agent: AgentIdentity


class AgentDirectory:
    """The agents table and the sessions table, through the one database session factory."""

    def __init__(self, database: Database, session_ttl_s: int) -> None:
        self.database = database
        self.session_ttl = timedelta(seconds=session_ttl_s)

    async def create_agent(
        self,
        number: str,
        password: str,
        interface: str,
        *,
        name: str = "",
        language: str = "fa",
        roles: str = "agent",
        password_cost: int = DEFAULT_N,
    ) -> None:
        if not number.isascii() or not number.isdigit() or len(number) > 16:
            raise AgentError("agent number: digits only, at most 16")
        if len(password) < 8:
            raise AgentError("password: at least 8 characters")
        if "/" not in interface:
            raise AgentError("interface: a device such as PJSIP/101 or Local/101@tamas-agents")
        if language not in LANGUAGES:
            raise AgentError("language: fa, en or ru")
        try:
            roles = ",".join(sorted(parse_roles(roles))) or "agent"
        except ValueError as error:
            raise AgentError(f"roles: {error}") from None
        password_hash = await asyncio.to_thread(hash_secret, password, n=password_cost)
        async with self.database.session() as session:
            existing = await session.scalar(select(Agent).where(Agent.number == number))
            if existing is None:
                existing = Agent(number=number)
                session.add(existing)
            else:
                # A new password ends every session of the old one (and their websockets,
                # at the hub's next check): whoever knew the old one is out.
                await session.execute(
                    delete(AgentSession).where(AgentSession.agent_id == existing.id)
                )
            existing.name = name
            existing.password_hash = password_hash
            existing.interface = interface
            existing.language = language
            existing.roles = roles
            existing.active = True
            await session.commit()

    async def interfaces(self) -> dict[str, str]:
        """{interface: agent number} of active agents, for the call tracker."""
        async with self.database.session() as session:
            rows = await session.execute(
                select(Agent.interface, Agent.number).where(Agent.active.is_(True))
            )
            return {interface: number for interface, number in rows}

    async def log_in(self, number: str, password: str) -> NewSession | None:
        """A new session for the right password; None otherwise (never says which was wrong).

        The database connection goes back to the pool before the password is hashed: a
        flood of logins waits on the hashing threads, not on every other request's
        connections."""
        async with self.database.session() as session:
            agent = await session.scalar(
                select(Agent).where(Agent.number == number, Agent.active.is_(True))
            )
        stored = agent.password_hash if agent else _DUMMY_HASH
        # Check even for unknown agents so timing does not tell which numbers exist.
        if not await asyncio.to_thread(verify_secret, password, stored) or agent is None:
            return None
        async with self.database.session() as session:
            # Still the same account: not deactivated nor given a new password meanwhile.
            current = await session.scalar(
                select(Agent).where(
                    Agent.id == agent.id,
                    Agent.active.is_(True),
                    Agent.password_hash == stored,
                )
            )
            if current is None:
                return None
            token = secrets.token_urlsafe(32)
            now = datetime.now(UTC)
            record = AgentSession(
                token_hash=_token_hash(token),
                agent_id=current.id,
                created_at=now,
                expires_at=now + self.session_ttl,
            )
            session.add(record)
            # Expired sessions are cleared on login, so the table never grows without bound.
            await session.execute(delete(AgentSession).where(AgentSession.expires_at < now))
            await session.commit()
            return NewSession(token, _identity(current, record.expires_at))

    async def agent_for_token(self, token: str) -> AgentIdentity | None:
        if not token or len(token) > 200:
            return None
        async with self.database.session() as session:
            row = (
                await session.execute(
                    select(Agent, AgentSession.expires_at)
                    .join(AgentSession, AgentSession.agent_id == Agent.id)
                    .where(AgentSession.token_hash == _token_hash(token))
                )
            ).first()
            if row is None:
                return None
            agent, expires_at = row
            if not agent.active or expires_at <= datetime.now(UTC):
                return None
            return _identity(agent, expires_at)

    async def deactivate(self, number: str) -> bool:
        """The agent can no longer log in, and every session of theirs ends; False if there
        is no such agent."""
        async with self.database.session() as session:
            agent = await session.scalar(select(Agent).where(Agent.number == number))
            if agent is None:
                return False
            agent.active = False
            await session.execute(delete(AgentSession).where(AgentSession.agent_id == agent.id))
            await session.commit()
            return True

    async def live_sessions(self, keys: Iterable[str]) -> set[str]:
        """Those of these session keys whose session is still valid (not logged out, not
        expired, the agent still active): one query for every websocket of a process."""
        wanted = set(keys)
        if not wanted:
            return set()
        async with self.database.session() as session:
            rows = await session.scalars(
                select(AgentSession.token_hash)
                .join(Agent, AgentSession.agent_id == Agent.id)
                .where(
                    AgentSession.token_hash.in_(wanted),
                    AgentSession.expires_at > datetime.now(UTC),
                    Agent.active.is_(True),
                )
            )
            return set(rows)

    async def log_out(self, token: str) -> None:
        async with self.database.session() as session:
            await session.execute(
                delete(AgentSession).where(AgentSession.token_hash == _token_hash(token))
            )
            await session.commit()


def _identity(agent: Agent, expires_at: datetime) -> AgentIdentity:
    return AgentIdentity(
        id=agent.id,
        number=agent.number,
        name=agent.name,
        interface=agent.interface,
        language=agent.language,
        roles=frozenset(role.strip() for role in agent.roles.split(",") if role.strip()),
        session_expires_at=expires_at,
    )


_DUMMY_HASH = hash_secret("not-a-password")
