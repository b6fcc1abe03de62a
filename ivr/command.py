"""`tamas ivr check`: load the menu file, check it and every prompt it names, and print the
menus as a caller meets them, so whoever edits `ivr/menus.yaml` sees a mistake before a caller
does."""

from __future__ import annotations

import argparse
from pathlib import Path

from ivr import definitions
from ivr.definitions import DefinitionError, MenuBook
from ivr.services import SERVICES
from prompts.catalogue import CatalogueError, default_catalogue
from tamas.settings import Settings


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    check = sub.add_parser("check", help="check the menu file and print its menus")
    check.add_argument("--menus", type=Path, default=definitions.DEFAULT_PATH, help="menu file")


def missing_prompts(book: MenuBook) -> list[str]:
    catalogue = default_catalogue()
    keys = [book.languages.prompt]
    keys += [menu.prompt for menu in book.menus.values()]
    keys += [rule.prompt for rule in book.inputs.values()]
    return sorted({key for key in keys if key not in catalogue})


def describe(book: MenuBook) -> list[str]:
    lines = [f"languages: {', '.join(f'{k}={v}' for k, v in book.languages.keys.items())}"]
    for menu in book.menus.values():
        marker = " (entry)" if menu.name == book.entry else ""
        lines.append(f"menu {menu.name}{marker}: prompt {menu.prompt}")
        for option in menu.options:
            target = f"menu {option.menu}" if option.menu else f"service {option.service}"
            lines.append(f"  {option.key} -> {target}")
    for rule in book.inputs.values():
        length = (
            f"{rule.min_digits}"
            if rule.min_digits == rule.max_digits
            else f"{rule.min_digits}-{rule.max_digits}"
        )
        secret = ", masked" if rule.sensitive else ""
        lines.append(f"input {rule.name}: {length} digits{secret}, prompt {rule.prompt}")
    return lines


def run(args: argparse.Namespace, settings: Settings) -> int:
    from tamas.errors import CommandError

    try:
        book = definitions.load(args.menus, services=SERVICES)
        missing = missing_prompts(book)
    except (DefinitionError, CatalogueError) as error:
        raise CommandError(str(error)) from error
    if missing:
        raise CommandError(
            f"{args.menus}: prompts not in the catalogue: {', '.join(missing)}; add them to "
            "prompts/catalogue.yaml (fa, en and ru) and run `tamas prompts build`"
        )
    print("\n".join(describe(book)))
    print(f"{args.menus}: OK ({len(book.menus)} menus, {len(book.inputs)} inputs)")
    return 0
