"""Garbage-collector settings for the long-running servers (FastAGI, popup server).

Everything alive once a server has started (modules, ORM mappers, menus, the app) lives as
long as the process. Left in the cyclic collector's reach, its full passes over those objects
stall the event loop now and then (tens to hundreds of ms, seen in bench/agi_server_load and
bench/popup_latency): a caller hears a gap, a popup arrives late. So: freeze what start-up
made, and collect the young generation less often under the burst of short-lived objects
hundreds of concurrent calls make.
"""

from __future__ import annotations

import gc

# Allocations between young-generation collections (CPython's default is 700).
YOUNG_THRESHOLD = 50_000


def settle_after_startup() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 20, 100)
