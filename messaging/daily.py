"""The daily run: installments and cheques due in a few days, installments overdue, policies
ending soon, shareholders' meetings ahead, and Nowruz greetings on the first of Farvardin,
each becoming a notice by the customer's own channel. Run it by cron or with the built-in
scheduler (`tamas notices daily --every-day-at 09:00`).

Repeating a day's run sends nothing twice: a notice's key is its kind, what it is about and
the day (`daily:installment_due:installment:17:2026-12-01`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import jdatetime

from dialer.campaigns import Campaigns, UnknownCampaign
from dialer.imports import TargetRow
from integrations.customer_file.reminders import DueReminders, Reminder
from messaging.core_events import BadEvent
from messaging.notice_kinds import NoticeKind
from messaging.notifier import Notifier, Recipient, write_values


@dataclass(frozen=True)
class Horizons:
    """How far ahead (or behind) each reminder looks (settings `notice_*`)."""

    installment_days_before: int = 3
    overdue_days_after: tuple[int, ...] = (7, 30)
    cheque_days_before: int = 3
    policy_days_before: int = 30
    meeting_days_before: int = 10


@dataclass
class DailyReport:
    day: date
    found: Counter[str] = field(default_factory=Counter)  # per notice kind
    results: Counter[str] = field(default_factory=Counter)  # queued, duplicate, skipped...
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "day": self.day.isoformat(),
            "found": dict(self.found),
            "results": dict(self.results),
            "problems": self.problems,
        }


def is_nowruz(day: date) -> bool:
    jalali = jdatetime.date.fromgregorian(date=day)
    return (jalali.month, jalali.day) == (1, 1)


def sources(
    reminders: DueReminders, day: date, horizons: Horizons
) -> list[AsyncIterator[list[Reminder]]]:
    found = [
        reminders.installments_due(day + timedelta(days=horizons.installment_days_before)),
        reminders.cheques_due(day + timedelta(days=horizons.cheque_days_before)),
        reminders.policies_ending(day + timedelta(days=horizons.policy_days_before)),
        reminders.meeting_invitations(day + timedelta(days=horizons.meeting_days_before)),
    ]
    found += [
        reminders.installments_overdue(day - timedelta(days=days))
        for days in horizons.overdue_days_after
    ]
    if is_nowruz(day):
        found.append(reminders.everybody("nowruz"))
    return found


def campaigns_by_kind(entries: tuple[str, ...]) -> dict[str, str]:
    """Setting `notice_campaigns` ("installment_overdue=overdue-calls", ...) as a mapping."""
    found = {}
    for entry in entries:
        kind, _, campaign = entry.partition("=")
        if not kind.strip() or not campaign.strip():
            raise ValueError(f"notice_campaigns: {entry!r} is not KIND=CAMPAIGN")
        found[kind.strip()] = campaign.strip()
    return found


async def daily_run(
    notifier: Notifier,
    reminders: DueReminders,
    day: date,
    horizons: Horizons,
    now: datetime | None = None,
    campaigns: dict[str, str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> DailyReport:
    """Every reminder due on `day` as a notice, or, for the kinds in `campaigns`, as a target
    of that dialer campaign (an overdue installment is called about, not texted)."""
    report = DailyReport(day)
    campaigns = campaigns or {}
    for source in sources(reminders, day, horizons):
        async for page in source:
            keys = {f"daily:{r.kind}:{r.entity}:{day.isoformat()}": r for r in page}
            # A repeated run skips the notices it already made in one query per page.
            known = await notifier.store.known_keys(list(keys))
            to_call: list[tuple[str, Reminder]] = []
            to_send = []
            for key, reminder in keys.items():
                report.found[reminder.kind] += 1
                if key in known:
                    report.results["duplicate"] += 1
                elif reminder.kind in campaigns and reminder.mobile:
                    to_call.append((key, reminder))
                else:
                    prepared = prepare_notice(notifier, key, reminder, report)
                    if prepared is None:
                        report.results["skipped"] += 1
                    else:
                        to_send.append(prepared)
            if to_send:
                report.results.update(await notifier.send_many(to_send, now or datetime.now(UTC)))
            if to_call:
                await _hand_to_campaigns(notifier, to_call, campaigns, now, report)
            if progress is not None:
                progress(len(page))
    return report


async def _hand_to_campaigns(
    notifier: Notifier,
    reminders: list[tuple[str, Reminder]],
    campaigns: dict[str, str],
    now: datetime | None,
    report: DailyReport,
) -> None:
    store = Campaigns(notifier.database)
    moment = now or datetime.now(UTC)
    by_campaign: dict[str, list[TargetRow]] = {}
    for key, reminder in reminders:
        # The notice row first: the target is added once, however often the day is run.
        notice = await notifier.store.accept(key, reminder.kind, reminder.customer_id, moment)
        if notice is None:
            report.results["duplicate"] += 1
            continue
        await notifier.store.settle(notice.id, "queued", channel="call")
        by_campaign.setdefault(campaigns[reminder.kind], []).append(_target(reminder))
    for name, targets in by_campaign.items():
        try:
            campaign = await store.named(name)
        except UnknownCampaign:
            report.problems.append(f"notice_campaigns: no campaign {name!r}")
            continue
        added, _known = await store.add_targets(campaign.id, targets)
        report.results["to_campaign"] += added


def _target(reminder: Reminder) -> TargetRow:
    fields = {
        "amount_rials" if name == "amount" else name: (
            value.isoformat() if isinstance(value, date) else str(value)
        )
        for name, value in reminder.values.items()
    }
    assert reminder.mobile is not None
    return TargetRow(
        line=0,
        phone=reminder.mobile,
        name=reminder.name_fa if reminder.language == "fa" else reminder.name_latin,
        language=reminder.language,
        customer_id=reminder.customer_id,
        fields=fields,
    )


def prepare_notice(
    notifier: Notifier, key: str, reminder: Reminder, report: DailyReport
) -> tuple[str, NoticeKind, Recipient, dict[str, str]] | None:
    kind = notifier.kinds.get(reminder.kind)
    if kind is None:
        report.problems.append(f"{key}: no notice kind {reminder.kind!r} in the catalogue")
        return None
    language = reminder.language if reminder.language in kind.text else "fa"
    recipient = Recipient(
        customer_id=reminder.customer_id,
        name=reminder.name_fa if language == "fa" else reminder.name_latin or reminder.name_fa,
        language=language,
        phones=(reminder.mobile,) if reminder.mobile else (),
        emails=(reminder.email,) if reminder.email else (),
        faxes=(),
    )
    try:
        values = write_values(kind, reminder.values, language)
    except BadEvent as error:
        report.problems.append(f"{key}: {error}")
        return None
    return key, kind, recipient, values
