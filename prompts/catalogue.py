"""The fixed prompts (welcome, menus, errors...) in fa, en and ru, read from YAML data.

The file is validated on load; every error names the file, the line and the key, so whoever
edits `catalogue.yaml` (or an insurer's own copy) sees what to fix.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

from prompts.utterance import Utterance
from prompts.vocabulary import check_language
from tamas.languages import LANGUAGES

DEFAULT_PATH = Path(__file__).with_name("catalogue.yaml")
_KEY = re.compile(r"[a-z][a-z0-9_]*")
_STR_TAG = "tag:yaml.org,2002:str"


class CatalogueError(ValueError):
    """The catalogue file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Catalogue:
    """Prompt key → language → text. The fragment of a prompt is `<lang>/prompt/<key>`."""

    texts: Mapping[str, Mapping[str, str]]

    def __contains__(self, key: object) -> bool:
        return key in self.texts

    def __iter__(self) -> Iterator[str]:
        return iter(self.texts)

    def __len__(self) -> int:
        return len(self.texts)

    def text(self, key: str, lang: str) -> str:
        check_language(lang)
        try:
            return self.texts[key][lang]
        except KeyError:
            raise KeyError(
                f"no prompt {key!r} in the catalogue; add it to catalogue.yaml"
            ) from None

    def say(self, key: str, lang: str) -> Utterance:
        """The prompt as an utterance of one fragment."""
        return Utterance(text=self.text(key, lang), fragments=(fragment_name(key, lang),))

    def fragments(self, lang: str) -> dict[str, str]:
        """Fragment name → text for every prompt in `lang`."""
        check_language(lang)
        return {fragment_name(key, lang): texts[lang] for key, texts in self.texts.items()}


def fragment_name(key: str, lang: str) -> str:
    return f"{lang}/prompt/{key}"


@functools.cache
def default_catalogue() -> Catalogue:
    """The catalogue shipped with Tamas, loaded once per process."""
    return load_catalogue(DEFAULT_PATH)


def load_catalogue(path: Path) -> Catalogue:
    try:
        document = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CatalogueError(f"{path}: cannot read the prompt catalogue ({error})") from error
    return parse_catalogue(document, source=str(path))


def parse_catalogue(document: str, source: str = "<catalogue>") -> Catalogue:
    """Parse and check a catalogue: a mapping of keys, each with a non-empty text per language."""
    try:
        # compose() keeps line numbers, and shows duplicate keys that safe_load would merge.
        root = yaml.compose(document, Loader=yaml.SafeLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(error, "problem", None) or str(error)
        raise CatalogueError(f"{where}: not valid YAML: {problem}") from error
    if root is None:
        raise CatalogueError(f"{source}: the catalogue is empty")
    if not isinstance(root, yaml.MappingNode):
        raise CatalogueError(f"{_at(source, root)}: expected prompt keys at the top level")

    texts: dict[str, Mapping[str, str]] = {}
    first_seen: dict[str, int] = {}
    for key_node, value_node in root.value:
        key = _key(source, key_node)
        if key in first_seen:
            raise CatalogueError(
                f"{_at(source, key_node)}: prompt {key!r} is defined twice "
                f"(first on line {first_seen[key]})"
            )
        first_seen[key] = key_node.start_mark.line + 1
        texts[key] = MappingProxyType(_languages(source, key_node, value_node))
    return Catalogue(texts=MappingProxyType(texts))


def _at(source: str, node: yaml.Node) -> str:
    return f"{source}:{node.start_mark.line + 1}"


def _key(source: str, node: yaml.Node) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.tag != _STR_TAG:
        raise CatalogueError(f"{_at(source, node)}: a prompt key must be a plain name")
    if not _KEY.fullmatch(node.value):
        raise CatalogueError(
            f"{_at(source, node)}: prompt key {node.value!r} must be lower_snake_case "
            "(letters, digits, underscores), as it becomes a sound file name"
        )
    return str(node.value)


def _languages(source: str, key_node: yaml.Node, node: yaml.Node) -> dict[str, str]:
    key = key_node.value
    if not isinstance(node, yaml.MappingNode):
        raise CatalogueError(
            f"{_at(source, key_node)}: prompt {key!r} needs a text per language "
            f"({', '.join(LANGUAGES)})"
        )
    found: dict[str, str] = {}
    for lang_node, text_node in node.value:
        lang = lang_node.value if isinstance(lang_node, yaml.ScalarNode) else None
        if lang not in LANGUAGES:
            raise CatalogueError(
                f"{_at(source, lang_node)}: prompt {key!r} has an unknown language {lang!r}; "
                f"expected {', '.join(LANGUAGES)}"
            )
        if lang in found:
            raise CatalogueError(f"{_at(source, lang_node)}: prompt {key!r} has {lang} twice")
        if not isinstance(text_node, yaml.ScalarNode) or text_node.tag != _STR_TAG:
            raise CatalogueError(
                f"{_at(source, text_node)}: prompt {key!r} in {lang} must be text (quote it)"
            )
        text = " ".join(str(text_node.value).split())
        if not text:
            raise CatalogueError(f"{_at(source, text_node)}: prompt {key!r} in {lang} is empty")
        if "{" in text or "}" in text:
            raise CatalogueError(
                f"{_at(source, text_node)}: prompt {key!r} in {lang} has a placeholder; prompts "
                "are fixed words: say names and numbers as separate utterances after it"
            )
        found[lang] = text
    missing = [lang for lang in LANGUAGES if lang not in found]
    if missing:
        raise CatalogueError(
            f"{_at(source, key_node)}: prompt {key!r} has no text in {', '.join(missing)}"
        )
    return found
