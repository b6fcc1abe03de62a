#!/usr/bin/env python3
"""Process AGI entry of the speed benchmark: the trivial handler (bench/trivial_agi.py) run
by pyst2, one process per call, inside the sandbox.

`bench/ivr_calls.py` copies this file and the handler to /opt/tamas/bench in the sandbox root,
beside the process-AGI modules the sandbox already has; the dialplan (dialplans/bench.conf)
runs `AGI(/opt/tamas/bench/process_trivial_agi.py,bench-trivial)`.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __package__ in (None, ""):
    # Run as a file by Asterisk: make `agi_scripts` and `bench` (beside each other) importable.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agi_scripts.process_agi import main
from bench.trivial_agi import ROUTE, trivial_route

if __name__ == "__main__":
    sys.exit(main({ROUTE: trivial_route}))
