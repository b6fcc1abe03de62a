"""Interaction records: one per call or message, and the outcomes they end with. This package
is the only writer of the `interactions` table; every other part of Tamas calls it."""
