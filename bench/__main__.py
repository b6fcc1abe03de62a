"""`python -m bench [NAME [options]]`: run every benchmark, or the one named."""

from __future__ import annotations

import importlib
import sys

# name -> module; each module defines `main(argv: list[str]) -> int`.
BENCHMARKS: dict[str, str] = {
    "customer_lookup": "bench.customer_lookup",
    "agi_server_load": "bench.agi_server_load",
    "ivr_calls": "bench.ivr_calls",
    "popup_latency": "bench.popup_latency",
    "customer_file_popup": "bench.customer_file_popup",
    "sms_throughput": "bench.sms_throughput",
    "case_scan": "bench.case_scan",
    "dialer_pacing_simulation": "bench.dialer_pacing_simulation",
    "campaign_selection": "bench.campaign_selection",
    "wallboard_live": "bench.wallboard_live",
    "queue_report": "bench.queue_report",
    "notices_daily": "bench.notices_daily",
    "dialer_answer_to_agent": "bench.dialer_answer_to_agent",
    "dialer_pacing_sandbox": "bench.dialer_pacing_sandbox",
}


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print("usage: python -m bench [NAME [options]]\n\nbenchmarks:")
        for name, module in BENCHMARKS.items():
            summary = (importlib.import_module(module).__doc__ or "").strip().splitlines()[0]
            print(f"  {name:20} {summary}")
        return 0
    if argv:
        name, rest = argv[0], argv[1:]
        if name not in BENCHMARKS:
            print(f"bench: no benchmark {name!r}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
            return 2
        return int(importlib.import_module(BENCHMARKS[name]).main(rest))
    status = 0
    for name, module in BENCHMARKS.items():
        print(f"== {name}", flush=True)
        status = max(status, int(importlib.import_module(module).main([])))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
