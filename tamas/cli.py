"""The `tamas` command. Each subcommand lives in the module that owns the feature; this file
only lists them, so `tamas --help` stays fast (modules are imported when their command runs)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import sys
from collections.abc import Sequence
from pathlib import Path

from tamas import logs, settings
from tamas.errors import CommandError

# name -> (module, one-line help). The module defines `configure(parser)` and
# `run(args, settings) -> int` (or an async `run`).
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("tamas.demo", "run the whole engine on demo data: Asterisk, menus, agent desktop"),
    "migrate": ("integrations.migrations.command", "create or upgrade the database schema"),
    "demo-data": ("integrations.demo_data.command", "load a deterministic demo customer file"),
    "sandbox": ("tamas.asterisk.sandbox", "build, start, stop or query the Asterisk sandbox"),
    "call": ("tamas.asterisk.test_call", "place a test call with DTMF and print its record"),
    "agi": ("tamas.agi", "run the FastAGI server Asterisk sends calls to"),
    "ivr": ("ivr.command", "check the voice menus (ivr/menus.yaml) and print them"),
    "messages": ("integrations.messaging.command", "send the outbox's SMS, fax and email"),
    "outbox": ("messaging.outbox_command", "the outbound queue, delivery rates, retry, cancel"),
    "notices": ("messaging.command", "send notices: the daily reminders, the core system's events"),
    "prompts": ("prompts.command", "build the prompt sounds; show how a value is said"),
    "campaign": ("dialer.command", "create outbound campaigns, import targets, show status"),
    "report": ("supervisors.command", "queue, agent and IVR reports from the stored events"),
    "cases": ("cases.command", "open, list and show cases; scan their SLA deadlines"),
    "popup-server": (
        "popup_server.command",
        "serve the agent desktop with call popups; add agents",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tamas", description="Tamas: telephony IVR and contact-center engine for insurers."
    )
    parser.add_argument("--config", help="TOML settings file (default: ./tamas.toml if present)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_module, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    known, rest = parser.parse_known_args(argv)
    if not known.command:
        parser.print_help()
        return 2
    module_name, help_text = COMMANDS[known.command]
    module = importlib.import_module(module_name)
    command_parser = argparse.ArgumentParser(prog=f"tamas {known.command}", description=help_text)
    module.configure(command_parser)
    args = command_parser.parse_args(rest)
    try:
        config = settings.load(None if known.config is None else Path(known.config))
    except settings.SettingsError as error:
        print(f"tamas: {error}", file=sys.stderr)
        return 2
    logs.setup(config.log_level)
    try:
        result = module.run(args, config)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
    except CommandError as error:
        print(f"tamas {known.command}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
