"""Answers to common questions as data (messaging/faq.yaml): each topic's words in Persian,
English and Russian, and its answer in each. Checked on load: a topic without an answer in
a language, or a word that is also a keyword of the text service, is an error naming it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from messaging.keywords import KEYWORDS, normalise
from tamas.languages import LANGUAGES

DEFAULT_PATH = Path(__file__).with_name("faq.yaml")


class FaqError(ValueError):
    """The FAQ file cannot be used; the message names the topic."""


@dataclass(frozen=True)
class Faq:
    words: dict[str, str]  # normalised word -> topic
    answers: dict[str, dict[str, str]]  # topic -> language -> answer

    def answer(self, topic: str, language: str) -> str:
        return self.answers[topic][language]


def load(path: Path = DEFAULT_PATH) -> Faq:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise FaqError(f"{path.name}: {error}") from error
    topics = document.get("topics") if isinstance(document, dict) else None
    if not isinstance(topics, dict):
        raise FaqError(f"{path.name}: expected a `topics:` mapping")
    keywords = {
        normalise(spelling).replace("\u200c", "")
        for by_language in KEYWORDS.values()
        for spellings in by_language.values()
        for spelling in spellings
    }
    words: dict[str, str] = {}
    answers: dict[str, dict[str, str]] = {}
    for topic, entry in topics.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("words"), list):
            raise FaqError(
                f"{path.name}: topic {topic!r} needs `words:` and an answer per language"
            )
        missing = [language for language in LANGUAGES if not isinstance(entry.get(language), str)]
        if missing:
            raise FaqError(f"{path.name}: topic {topic!r} has no answer in {missing[0]}")
        for word in entry["words"]:
            clean = normalise(str(word)).replace("\u200c", "")
            if clean in keywords:
                raise FaqError(f"{path.name}: topic {topic!r}: {word!r} is a keyword already")
            words[clean] = str(topic)
        answers[str(topic)] = {language: entry[language] for language in LANGUAGES}
    return Faq(words, answers)
