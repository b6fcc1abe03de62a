"""The SMS a campaign sends, once, to each target its calls never reached (retries spent on
busy, no answer, congestion, answering machines...), when its kind opts in (`sms_fallback:`
in dialer/kinds.yaml, a text per language with the target's {fields}).

Through the outbox like every outbound message, so its caps and allowed destinations hold.
Never twice: a target's row in `campaign_sms_fallbacks` is written (the target id is its key)
before the message is queued, so a second run, or a second process at the same time, finds
it and sends nothing; a crash between the two loses that one SMS rather than sending it twice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from string import Formatter
from typing import Any

import jdatetime
from sqlalchemy import exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dialer.campaigns import Campaign
from dialer.kinds import CampaignKind
from dialer.retries import RETRIED
from dialer.tables import AttemptRow, DoNotCallRow, SmsFallbackRow, TargetRow
from integrations.database import Database
from integrations.messaging.outbox import MessageRefused, Outbox, OutboxLimits
from tamas.errors import CommandError
from tamas.settings import Settings

# Targets looked at per query.
CHUNK = 500


class FallbackNotOffered(CommandError):
    def __init__(self, kind: str) -> None:
        super().__init__(f"kind {kind!r} has no sms_fallback text in the kinds file")


@dataclass(frozen=True)
class FallbackReport:
    queued: int = 0
    refused: int = 0
    # Unreached targets whose SMS was written by an earlier run (never sent again).
    already: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _said(value: Any, language: str) -> str:
    """A field as the SMS says it: amounts grouped, ISO dates in the Jalali calendar in
    Persian (the order the person reads them: 1405/09/19)."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return value
        if language == "fa":
            return jdatetime.date.fromgregorian(date=day).strftime("%Y/%m/%d")
        return day.strftime("%d.%m.%Y") if language == "ru" else day.strftime("%d %b %Y")
    return str(value)


def message_text(
    kind: CampaignKind, language: str | None, name: str | None, fields: dict[str, Any]
) -> tuple[str, str]:
    """(language, text) of the kind's fallback SMS for a target: its language's text, or the
    first the kind gives when it has none in that language."""
    texts = kind.sms_fallback
    if not texts:
        raise FallbackNotOffered(kind.name)
    chosen = language if language in texts else next(iter(texts))
    values = {**fields, "name": name or ""}
    said = {
        key: _said(values.get(key), chosen)
        for _, key, _, _ in Formatter().parse(texts[chosen])
        if key is not None
    }
    return chosen, texts[chosen].format_map(said)


def _unreached(campaign_id: int, after: int) -> Any:
    last_call = (
        select(func.max(AttemptRow.channel_id))
        .where(AttemptRow.target_id == TargetRow.id)
        .scalar_subquery()
    )
    return (
        select(
            TargetRow.id,
            TargetRow.phone,
            TargetRow.name,
            TargetRow.language,
            TargetRow.customer_id,
            TargetRow.fields,
            last_call.label("linkedid"),
        )
        .where(
            TargetRow.campaign_id == campaign_id,
            TargetRow.id > after,
            TargetRow.state == "done",
            TargetRow.last_outcome.in_(sorted(RETRIED)),
            ~exists().where(DoNotCallRow.phone == TargetRow.phone),
        )
        .order_by(TargetRow.id)
        .limit(CHUNK)
    )


async def send_fallbacks(
    database: Database, outbox: Outbox, campaign: Campaign, kind: CampaignKind, now: datetime
) -> FallbackReport:
    """Queue the fallback SMS for every target of `campaign` its calls never reached and that
    has none yet (numbers on the do-not-call list get none)."""
    if not kind.sms_fallback:
        raise FallbackNotOffered(kind.name)
    dialect = postgresql if database.engine.dialect.name == "postgresql" else sqlite
    queued = refused = already = 0
    after = 0
    while True:
        async with database.session() as session:
            targets = (await session.execute(_unreached(campaign.id, after))).all()
        if not targets:
            break
        after = targets[-1].id
        for target in targets:
            claim = (
                dialect.insert(SmsFallbackRow)
                .values(
                    target_id=target.id, campaign_id=campaign.id, phone=target.phone, created_at=now
                )
                .on_conflict_do_nothing(index_elements=["target_id"])
                .returning(SmsFallbackRow.target_id)
            )
            async with database.session() as session:
                claimed = (await session.execute(claim)).first()
                await session.commit()
            if claimed is None:
                already += 1
                continue
            language, body = message_text(kind, target.language, target.name, target.fields or {})
            values: dict[str, Any]
            try:
                message_id = await outbox.put(
                    "sms",
                    to=target.phone,
                    subject=f"campaign_{kind.name}"[:64],
                    body=body,
                    language=language,
                    linkedid=target.linkedid,
                    customer_id=target.customer_id,
                )
            except MessageRefused as refusal:
                refused += 1
                values = {"message_id": refusal.message_id, "refusal": refusal.reason[:32]}
            else:
                queued += 1
                values = {"message_id": message_id}
            await database.write(
                update(SmsFallbackRow).where(SmsFallbackRow.target_id == target.id).values(**values)
            )
    return FallbackReport(queued=queued, refused=refused, already=already)


async def when_finished(
    database: Database, settings: Settings, campaign: Campaign, kind: CampaignKind, now: datetime
) -> FallbackReport | None:
    """What a dialer worker does as it finishes a campaign: the fallback SMS when its kind
    opts in (None when it does not)."""
    if not kind.sms_fallback:
        return None
    outbox = Outbox(database, OutboxLimits.from_settings(settings))
    return await send_fallbacks(database, outbox, campaign, kind, now)
