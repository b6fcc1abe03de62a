"""Queue scenarios for the supervisors' tests: queue_log lines turned into events, and (for
the wallboard's and the reports' tests alike) real calls into the sandbox's queues."""

from __future__ import annotations

from supervisors.events import QueueEvent, parse_queue_log_line


def queue_log_events(*text: str) -> list[QueueEvent]:
    """Events of queue_log lines, identical lines in a row numbered as the ingester does."""
    events = []
    previous, repeat = "", 0
    for line in text:
        repeat = repeat + 1 if line == previous else 0
        previous = line
        events.append(parse_queue_log_line(line, repeat))
    return events
