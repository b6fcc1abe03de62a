"""`tamas prompts`: build the prompt sounds, show how a value is said, speak a text."""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

import jdatetime

from prompts.catalogue import CatalogueError, default_catalogue, load_catalogue
from prompts.dates import say_date, say_time
from prompts.numbers import say_amount, say_digits, say_number
from prompts.sounds import all_sounds, build_sounds, sound_names
from prompts.speech import SpeechError, synthesizer_from_settings
from prompts.utterance import Utterance
from tamas.errors import CommandError
from tamas.languages import LANGUAGES
from tamas.settings import Settings

KINDS = ("number", "amount", "date", "time", "digits", "prompt")


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    build = sub.add_parser("build", help="make every fixed sound (numbers, dates, prompts)")
    build.add_argument("--lang", default=",".join(LANGUAGES), help="languages, e.g. fa,en,ru")
    build.add_argument(
        "--target", type=Path, help="folder played as tamas/ (default: setting sounds_dir)"
    )
    build.add_argument("--catalogue", type=Path, help="prompt catalogue YAML (default: built in)")
    build.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 2, help="speech processes at once"
    )

    say = sub.add_parser("say", help="show the words and sound names for a value")
    say.add_argument("kind", choices=KINDS)
    say.add_argument("value", help="1250000, 2024-10-06 (1403-07-15 with --jalali), 14:30, a key")
    say.add_argument("--lang", default=None, help="fa, en or ru (default: default_language)")
    say.add_argument("--jalali", action="store_true", help="the date is a Jalali date")

    speak = sub.add_parser("speak", help="synthesise a text into the cache and print the file")
    speak.add_argument("text")
    speak.add_argument("--lang", default=None, help="fa, en or ru (default: default_language)")


async def run(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "build":
        return await _build(args, settings)
    if args.action == "say":
        return _say(args, settings)
    return await _speak(args, settings)


async def _build(args: argparse.Namespace, settings: Settings) -> int:
    languages = [lang.strip() for lang in args.lang.split(",") if lang.strip()]
    unknown = [lang for lang in languages if lang not in LANGUAGES]
    if unknown or not languages:
        raise CommandError(f"--lang {args.lang!r}: choose among {', '.join(LANGUAGES)}")
    if args.jobs < 1:
        raise CommandError("--jobs must be at least 1")
    try:
        catalogue = load_catalogue(args.catalogue) if args.catalogue else default_catalogue()
    except CatalogueError as error:
        raise CommandError(str(error)) from error
    target = args.target or settings.effective_sounds_dir
    synthesizer = synthesizer_from_settings(settings, settings.data_dir / "prompts", args.jobs)
    try:
        report = await build_sounds(target, all_sounds(catalogue, languages), synthesizer)
    except SpeechError as error:
        raise CommandError(f"{error}") from error
    except PermissionError as error:
        raise CommandError(f"cannot write the sounds into {target}: {error}") from error
    per_language = ", ".join(
        f"{lang} {count}" for lang, count in sorted(report.by_language.items())
    )
    print(
        f"{report.sounds} sounds ({per_language}) in {target}: "
        f"{report.synthesized} synthesised, {report.from_cache} from the cache, "
        f"{report.installed} written; {report.elapsed_s:.1f} s"
    )
    return 0


def _say(args: argparse.Namespace, settings: Settings) -> int:
    lang = args.lang or settings.default_language
    if lang not in LANGUAGES:
        raise CommandError(f"--lang {lang!r}: choose among {', '.join(LANGUAGES)}")
    try:
        utterance = _utterance(args.kind, args.value, lang, args.jalali)
    except (ValueError, KeyError) as error:
        raise CommandError(f"cannot say {args.value!r} as a {args.kind}: {error}") from error
    print(utterance.text)
    print(" ".join(sound_names(utterance)))
    return 0


def _utterance(kind: str, value: str, lang: str, jalali: bool) -> Utterance:
    if kind == "number":
        return say_number(int(value.replace(",", "")), lang)
    if kind == "amount":
        return say_amount(int(value.replace(",", "")), lang)
    if kind == "date":
        if jalali:
            year, month, day = (int(part) for part in value.split("-"))
            return say_date(jdatetime.date(year, month, day), lang)
        return say_date(dt.date.fromisoformat(value), lang)
    if kind == "time":
        return say_time(dt.time.fromisoformat(value), lang)
    if kind == "digits":
        return say_digits(value, lang)
    return default_catalogue().say(value, lang)


async def _speak(args: argparse.Namespace, settings: Settings) -> int:
    lang = args.lang or settings.default_language
    if lang not in LANGUAGES:
        raise CommandError(f"--lang {lang!r}: choose among {', '.join(LANGUAGES)}")
    synthesizer = synthesizer_from_settings(settings, settings.data_dir / "prompts")
    try:
        path = await synthesizer.synthesize(args.text, lang)
    except SpeechError as error:
        raise CommandError(str(error)) from error
    print(path)
    return 0
