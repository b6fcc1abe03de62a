"""A campaign's figures, computed from its stored attempts' outcomes and nothing else: what
`tamas campaign status` prints and the console will show. The abandon rate is measured over
the campaign's rolling window (30 days by default, as the US rules; 24 h as Ofcom's), never
per calendar day. docs/campaigns.md explains each key."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from dialer.attempts import ANSWERED, Attempts
from dialer.campaigns import Campaign, Campaigns
from interactions.outcomes import Outcome


def summarise(
    campaign: Campaign,
    targets: Mapping[str, int],
    outcomes: Mapping[str, int],
    in_window: Mapping[str, int],
    now: datetime,
) -> dict[str, Any]:
    """The status from counts: targets by state, settled attempts by outcome (all, and those
    ended within the abandon-rate window), and `in_flight` among `outcomes`."""
    settled = {outcome: count for outcome, count in outcomes.items() if outcome != "in_flight"}
    answered_in_window = sum(in_window.get(outcome, 0) for outcome in ANSWERED)
    abandoned_in_window = in_window.get(Outcome.ABANDONED, 0)
    since = now - timedelta(seconds=campaign.abandon_window_s)
    return {
        "name": campaign.name,
        "kind": campaign.kind,
        "mode": campaign.mode,
        "state": campaign.state,
        "targets": sum(targets.values()),
        "pending": targets.get("pending", 0) + targets.get("dialing", 0),
        "done": targets.get("done", 0),
        "skipped": targets.get("skipped", 0),
        "attempts": sum(settled.values()) + outcomes.get("in_flight", 0),
        "in_flight": outcomes.get("in_flight", 0),
        "answered": sum(settled.get(outcome, 0) for outcome in ANSWERED),
        "to_agent": settled.get(Outcome.TO_AGENT, 0),
        "abandoned": settled.get(Outcome.ABANDONED, 0),
        "opted_out": settled.get(Outcome.OPTED_OUT, 0),
        # None until someone answers within the window: no rate can be measured yet.
        "abandon_rate": (
            round(abandoned_in_window / answered_in_window, 4) if answered_in_window else None
        ),
        "abandon_target": campaign.abandon_target,
        "outcomes": dict(sorted(settled.items())),
        "window": {
            "seconds": campaign.abandon_window_s,
            "since": since.isoformat(),
            "answered": answered_in_window,
            "abandoned": abandoned_in_window,
        },
    }


async def campaign_status(
    campaigns: Campaigns, attempts: Attempts, name: str, now: datetime
) -> dict[str, Any]:
    campaign = await campaigns.named(name)
    since = now - timedelta(seconds=campaign.abandon_window_s)
    return summarise(
        campaign,
        await campaigns.target_counts(campaign.id),
        await attempts.outcome_counts(campaign.id),
        await attempts.outcome_counts(campaign.id, since=since),
        now,
    )
