"""Notice texts edited by messaging operators (the page's template editor), per kind and
language, over the catalogue's own (messaging/notices.yaml). Kept in the database so every
process sends the edited text, each edit with who and when; an edit that uses a value the
notice lacks is refused before it is stored.

Senders read the edits through a short cache (`CACHE_S`): a daily run of a million notices
reads the table a handful of times, and an edit reaches every process within seconds."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, Text, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from integrations.database import Base, Database, UtcDateTime
from messaging.notice_kinds import NoticeKind
from tamas.languages import LANGUAGES

CACHE_S = 10.0


class NoticeTemplateRow(Base):
    __tablename__ = "notice_templates"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    language: Mapped[str] = mapped_column(String(2), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TemplateRefused(ValueError):
    """The edited text cannot be used; the message says why."""


@dataclass(frozen=True)
class EditedText:
    text: str
    updated_by: str
    updated_at: datetime


class NoticeTemplates:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._cache: dict[tuple[str, str], EditedText] = {}
        self._read_at = float("-inf")

    async def edits(self) -> dict[tuple[str, str], EditedText]:
        """{(kind, language): the edit}, at most CACHE_S old."""
        if time.monotonic() - self._read_at > CACHE_S:
            async with self.database.autocommit() as connection:
                rows = await connection.execute(select(NoticeTemplateRow.__table__))
                self._cache = {
                    (row.kind, row.language): EditedText(row.text, row.updated_by, row.updated_at)
                    for row in rows
                }
            self._read_at = time.monotonic()
        return self._cache

    async def text(self, kind: str, language: str) -> str | None:
        edit = (await self.edits()).get((kind, language))
        return None if edit is None else edit.text

    async def save(
        self, kind: NoticeKind, language: str, text: str, by: str, now: datetime
    ) -> None:
        if language not in LANGUAGES:
            raise TemplateRefused(f"language: one of {', '.join(LANGUAGES)}")
        if len(text) > 2000:
            raise TemplateRefused("the text is longer than 2000 characters")
        problem = kind.problem_with(text)
        if problem is not None:
            raise TemplateRefused(problem)
        values = {
            "kind": kind.name,
            "language": language,
            "text": text,
            "updated_by": by,
            "updated_at": now,
        }
        dialect = postgresql if self.database.engine.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(NoticeTemplateRow).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=["kind", "language"],
            set_={"text": text, "updated_by": by, "updated_at": now},
        )
        async with self.database.session() as session:
            await session.execute(statement)
            await session.commit()
        self._read_at = float("-inf")

    async def reset(self, kind: str, language: str) -> bool:
        """Back to the catalogue's text; False when it was not edited."""
        changed = await self.database.write(
            delete(NoticeTemplateRow).where(
                NoticeTemplateRow.kind == kind, NoticeTemplateRow.language == language
            )
        )
        self._read_at = float("-inf")
        return changed > 0
