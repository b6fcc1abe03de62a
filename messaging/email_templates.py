"""An email's two parts, plain text and HTML, written from the per-language templates in
email_templates.yaml: Persian right to left (`dir="rtl"` on the HTML, which mail clients
honour), English and Russian left to right. The message's own text is escaped in the HTML
part, so a body can never carry markup or a link of its own."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from string import Template

import yaml

TEMPLATES = Path(__file__).with_name("email_templates.yaml")
FALLBACK_LANGUAGE = "fa"
_PARTS = ("direction", "plain", "html", "attached")


class TemplateError(ValueError):
    """The templates file is wrong; the message names the language and the part."""


@dataclass(frozen=True)
class Letter:
    plain: str
    html: str
    language: str
    direction: str  # rtl or ltr


@cache
def load(path: Path = TEMPLATES) -> Mapping[str, Mapping[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or FALLBACK_LANGUAGE not in data:
        raise TemplateError(f"{path}: needs a '{FALLBACK_LANGUAGE}' template at least")
    for language, parts in data.items():
        missing = [part for part in _PARTS if not isinstance(parts, dict) or part not in parts]
        if missing:
            raise TemplateError(f"{path}: language {language!r} lacks {', '.join(missing)}")
        if parts["direction"] not in {"rtl", "ltr"}:
            raise TemplateError(f"{path}: language {language!r} direction must be rtl or ltr")
    return data


def write(
    title: str,
    body: str,
    language: str,
    *,
    insurer: str,
    attachments: Sequence[str] = (),
    templates: Mapping[str, Mapping[str, str]] | None = None,
) -> Letter:
    chosen = templates or load()
    language = language if language in chosen else FALLBACK_LANGUAGE
    parts = chosen[language]
    names = "، ".join(attachments) if language == "fa" else ", ".join(attachments)
    attached = Template(parts["attached"]).safe_substitute(names=names) if attachments else ""
    plain = Template(parts["plain"]).safe_substitute(
        title=title, body=body.strip(), insurer=insurer, attachments=attached
    )
    paragraphs = "\n".join(
        f"<p>{html.escape(line)}</p>" for line in body.strip().splitlines() if line.strip()
    )
    inner = Template(parts["html"]).safe_substitute(
        title=html.escape(title),
        body=paragraphs,
        insurer=html.escape(insurer),
        attachments=f"<p>{html.escape(attached)}</p>" if attached else "",
    )
    direction = parts["direction"]
    align = "right" if direction == "rtl" else "left"
    page = (
        f'<!DOCTYPE html>\n<html lang="{language}" dir="{direction}">\n'
        f'<head><meta charset="utf-8"><title>{html.escape(title)}</title></head>\n'
        f'<body dir="{direction}" style="font-family:Tahoma,Vazirmatn,Arial,sans-serif;'
        f'text-align:{align}">\n{inner}</body>\n</html>\n'
    )
    return Letter(_tidy(plain), page, language, direction)


def _tidy(text: str) -> str:
    """No run of blank lines where an empty placeholder stood."""
    lines: list[str] = []
    for line in text.splitlines():
        if not line.strip() and lines and not lines[-1].strip():
            continue
        lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"
