"""The fixed prompt catalogue: complete in fa, en and ru, and clear about mistakes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cases import caller_requests
from integrations.customer_file import claims, places, policies, shareholders
from prompts.catalogue import CatalogueError, default_catalogue, load_catalogue, parse_catalogue

REQUIRED = [
    "welcome",
    "choose_language",
    "main_menu",
    "enter_claim_code",
    "enter_nid_last4",
    "enter_pin",
    "enter_postal_code",
    "invalid_input",
    "no_input",
    "pin_locked",
    "transfer_to_agent",
    "goodbye",
]


def test_shipped_catalogue_has_the_menus_prompts_in_three_languages() -> None:
    catalogue = default_catalogue()
    for key in REQUIRED:
        for lang in ("fa", "en", "ru"):
            assert catalogue.text(key, lang)


@pytest.mark.parametrize(
    ("prefix", "codes"),
    [
        ("claim_stage_", claims.STAGES),
        ("claim_next_step_", claims.NEXT_STEPS),
        ("policy_line_", policies.LINES),
        ("policy_status_", policies.STATUSES),
        ("complaint_category_", caller_requests.COMPLAINT_CATEGORIES),
        ("complaint_status_", caller_requests.COMPLAINT_STATUSES),
        ("document_", shareholders.DOCUMENTS),
        ("branch_kind_", places.BRANCH_KINDS),
    ],
)
def test_every_code_the_customer_file_holds_has_a_prompt(
    prefix: str, codes: tuple[str, ...]
) -> None:
    missing = [prefix + code for code in codes if prefix + code not in default_catalogue()]
    assert missing == []


def test_a_prompt_is_one_fragment_named_by_language_and_key() -> None:
    said = default_catalogue().say("claim_stage_paid", "fa")
    assert said.fragments == ("fa/prompt/claim_stage_paid",)
    assert said.text == "خسارت شما پرداخت شده است."


def test_folded_lines_become_one_line_of_text() -> None:
    assert "\n" not in default_catalogue().text("main_menu", "en")


def test_unknown_prompt_says_where_to_add_it() -> None:
    with pytest.raises(KeyError, match=r"catalogue\.yaml"):
        default_catalogue().text("no_such_prompt", "fa")


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ("welcome:\n  fa: سلام\n  en: Hi\n", "catalogue:1: prompt 'welcome' has no text in ru"),
        (
            "welcome:\n  fa: a\n  en: b\n  ru: c\nwelcome:\n  fa: a\n  en: b\n  ru: c\n",
            "catalogue:5: prompt 'welcome' is defined twice (first on line 1)",
        ),
        (
            "hello:\n  fa: a\n  en: Hello {name}\n  ru: c\n",
            "catalogue:3: prompt 'hello' in en has a placeholder",
        ),
        ("Main-Menu:\n  fa: a\n  en: b\n  ru: c\n", "catalogue:1: prompt key 'Main-Menu'"),
        (
            "welcome:\n  fa: a\n  de: b\n",
            "catalogue:3: prompt 'welcome' has an unknown language 'de'",
        ),
        ("welcome:\n  fa: a\n  en: ''\n  ru: c\n", "catalogue:3: prompt 'welcome' in en is empty"),
        ("press:\n  fa: a\n  en: 5\n  ru: c\n", "catalogue:3: prompt 'press' in en must be text"),
        ("welcome: Hello\n", "catalogue:1: prompt 'welcome' needs a text per language"),
        ("welcome:\n  fa: [a\n", "not valid YAML"),
        ("- a\n- b\n", "expected prompt keys at the top level"),
        ("", "the catalogue is empty"),
    ],
)
def test_mistakes_in_the_catalogue_name_the_line_and_key(document: str, message: str) -> None:
    with pytest.raises(CatalogueError, match=re.escape(message)):
        parse_catalogue(document, source="catalogue")


def test_an_insurers_own_catalogue_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "prompts.yaml"
    path.write_text("welcome:\n  fa: خوش آمدید\n  en: Welcome\n  ru: Добро пожаловать\n")
    assert load_catalogue(path).text("welcome", "ru") == "Добро пожаловать"
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "missing.yaml")
