"""The desktop speaks the agent's language, in a real headless Chromium: in the Persian
desktop no call outcome, task kind or IVR note shows as a raw code or English text, and the
overdue installments are listed apart from the upcoming ones."""

from __future__ import annotations

import ast
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from ivr_support import ScriptedCaller, make_engine, session_for
from playwright.async_api import Browser, expect
from popup_support import (
    RunningServer,
    customer_on_file,
    feed,
    ivr_record,
    log_in,
    queue_call_events,
)
from sqlalchemy import select

from integrations.customer_file.payments import Installment
from integrations.customer_file.policies import Policy
from integrations.database import Database
from integrations.messaging.outbox import KINDS as MESSAGE_KINDS
from interactions.outcomes import Outcome
from interactions.records import CallPart, InteractionRecords
from ivr import definitions
from ivr.services import SERVICES

pytestmark = pytest.mark.browser

PHONE = "09121119988"
E164 = "+989121119988"
I18N = "popup_server/static/i18n.js"


def _translated_codes(language: str, prefix: str) -> set[str]:
    """The codes i18n.js gives a `prefix_` label in `language`."""
    text = open(I18N, encoding="utf-8").read()
    block = text.split(f"  {language}: {{", 1)[1].split("\n  },", 1)[0]
    return set(re.findall(rf"\b{prefix}_([a-z_]+):", block))


@pytest.mark.parametrize("language", ["fa", "en", "ru"])
def test_every_outcome_has_a_label_in_every_language(language: str) -> None:
    assert {outcome.value for outcome in Outcome} <= _translated_codes(language, "outcome")


IVR = Path(__file__).resolve().parent.parent / "ivr"


def _ivr_source() -> list[tuple[Path, ast.AST]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"))) for path in IVR.rglob("*.py")]


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _menus_in_ivr() -> set[str]:
    """Every name the IVR can write in a call's menu path: the menus of ivr/menus.yaml, the
    services (entered by name), and the names entered literally (welcome, survey...)."""
    names = set(definitions.load(services=SERVICES).menus) | set(SERVICES)
    for _, tree in _ivr_source():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                if node.func.attr == "enter" and node.args and _literal(node.args[0]):
                    names.add(_literal(node.args[0]) or "")
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if key is not None and _literal(key) == "menu" and _literal(value):
                        names.add(_literal(value) or "")
    return names


def _looked_up_kinds() -> tuple[set[str], list[str]]:
    """The kinds `session.looked(kind, ...)` is called with under ivr/, and the calls whose
    kind is not a literal (which this test could not check)."""
    kinds: set[str] = set()
    unreadable: list[str] = []
    for path, tree in _ivr_source():
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "looked"
            ):
                kind = _literal(node.args[0]) if node.args else None
                if kind is None:
                    unreadable.append(f"{path.name}:{node.lineno}")
                else:
                    kinds.add(kind)
    return kinds, unreadable


def _secret_identities() -> set[str]:
    """What a secret is asked for (the `claim` of f"claim:{code}"): the reference a
    wrong_secret or lockout lookup names."""
    identities: list[ast.AST] = []
    for _, tree in _ivr_source():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check_secret":
                identities.append(node.args[1])
            elif isinstance(node, ast.Assign) and any(
                getattr(target, "id", None) == "identity" for target in node.targets
            ):
                identities.append(node.value)
    kinds = set()
    for identity in identities:
        if isinstance(identity, ast.JoinedStr) and identity.values:
            head = _literal(identity.values[0]) or ""
            if re.fullmatch(r"[a-z_]+:", head):
                kinds.add(head[:-1])
    return kinds


@pytest.mark.parametrize("language", ["fa", "en", "ru"])
def test_every_ivr_menu_and_service_has_a_label_in_every_language(language: str) -> None:
    names = _menus_in_ivr()
    assert {"main", "claim_status", "welcome", "agent", "survey"} <= names  # the scan works
    assert names - _translated_codes(language, "ivr_menu") == set()


@pytest.mark.parametrize("language", ["fa", "en", "ru"])
def test_every_kind_the_ivr_looks_up_has_a_label_in_every_language(language: str) -> None:
    kinds, unreadable = _looked_up_kinds()
    assert unreadable == [], "session.looked() takes its kind as a literal, so it is checked here"
    assert {"claim", "customer", "branch"} <= kinds  # the scan works
    assert kinds - _translated_codes(language, "ivr_looked") == set()


@pytest.mark.parametrize("language", ["fa", "en", "ru"])
def test_every_coded_lookup_reference_has_a_label_in_every_language(language: str) -> None:
    # A message's medium (centres, message, message_refused) and the identity a secret was
    # asked for (wrong_secret, lockout) are codes too.
    identities = _secret_identities()
    assert {"claim", "shareholder", "national_id", "policy"} <= identities  # the scan works
    references = set(MESSAGE_KINDS) | identities
    assert references - _translated_codes(language, "ivr_ref") == set()


async def test_the_persian_desktop_shows_outcomes_tasks_and_overdue_installments_in_persian(
    browser: Browser,
    server: RunningServer,
    database: Database,
) -> None:
    customer = await customer_on_file(database, "کاظمی", PHONE, "004455667", given_name="نرگس")
    today = date.today()
    async with database.session() as session:
        policy = await session.scalar(select(Policy).where(Policy.customer_id == customer.id))
        assert policy is not None
        session.add_all(
            [
                Installment(policy_id=policy.id, sequence=1, due_date=today - timedelta(days=12),
                            amount_rials=7_000_000, status="due"),
                Installment(policy_id=policy.id, sequence=2, due_date=today + timedelta(days=18),
                            amount_rials=7_000_000, status="due"),
            ]
        )  # fmt: skip
        await session.commit()
    records = InteractionRecords(database)
    for n, outcome in enumerate((Outcome.SELF_SERVED, Outcome.ABANDONED_IN_MENU)):
        await records.save_call(
            CallPart(linkedid=f"past-{n}", caller_number=E164, customer_id=customer.id,
                     outcome=outcome, language="fa")
        )  # fmt: skip
    # A callback request left in the IVR, as a caller pressing 9 leaves it.
    await make_engine(database).run(
        ScriptedCaller.keys("~"), session_for(E164, linkedid="past-cb"), direct="callback"
    )
    linkedid = "1732200000.77"
    await ivr_record(database, linkedid, E164, customer.id)

    page = await browser.new_page()
    await log_in(page, server)
    feed(server, queue_call_events(linkedid, PHONE, "نرگس کاظمی", "101")["ring"])
    card = page.get_by_test_id("call-card")
    await expect(card.get_by_test_id("customer-name")).to_have_text("نرگس کاظمی")
    await expect(card.get_by_test_id("outcome").first).to_be_visible()

    outcomes = await card.get_by_test_id("outcome").all_text_contents()
    assert "پاسخ را در منوی تلفنی گرفت" in outcomes
    assert "در منوی تلفنی قطع کرد" in outcomes
    overdue = card.get_by_test_id("installments-overdue")
    upcoming = card.get_by_test_id("installments-due")
    await expect(overdue).to_contain_text("اقساط معوق")
    await expect(overdue).to_contain_text("/1")
    await expect(overdue).not_to_contain_text("/2")
    await expect(upcoming).to_contain_text("/2")
    await expect(upcoming).not_to_contain_text("/1")

    tasks = page.get_by_test_id("callback-task")
    await expect(tasks.first).to_contain_text("تماس برگشتی")
    # The IVR's menu path and what it looked up, by their Persian labels.
    await expect(card.get_by_test_id("ivr")).to_contain_text("منوی اصلی › وضعیت خسارت")
    await expect(card.get_by_test_id("ivr")).to_contain_text("پرونده خسارت 7123")
    page_text = await page.locator("body").inner_text()
    for raw in ("self_served", "abandoned_in_menu", "requested in the IVR", "callback ·",
                "claim_status", "main ›", "claim 7123"):  # fmt: skip
        assert raw not in page_text


async def test_a_refused_search_is_explained_in_persian_not_in_the_servers_english(
    browser: Browser,
    server: RunningServer,
) -> None:
    page = await browser.new_page()
    await log_in(page, server)
    feed(server, queue_call_events("1732200000.78", "02188776600", "", "101")["ring"])
    card = page.get_by_test_id("call-card")
    await card.get_by_test_id("search-input").fill("ab")  # under the 3 characters a search needs
    await card.get_by_test_id("search-input").press("Enter")
    results = card.get_by_test_id("search-results")
    await expect(results).to_have_text("ورودی درست نیست: جستجو")
    await expect(results).not_to_contain_text("at least")


async def test_the_card_shows_a_messages_medium_by_its_label_and_an_unlabelled_menu_as_its_code(
    browser: Browser,
    server: RunningServer,
    database: Database,
) -> None:
    linkedid = "1732200000.79"
    await InteractionRecords(database).save_call(
        CallPart(
            linkedid=linkedid,
            caller_number="+982188776611",
            outcome=Outcome.QUEUED,
            language="fa",
            menu_path=[{"menu": "main"}, {"menu": "centres"}, {"menu": "a_menu_of_tomorrow"}],
            looked_up=[{"kind": "message", "ref": "sms", "subject": "centres"}],
        )
    )
    page = await browser.new_page()
    await log_in(page, server)
    feed(server, queue_call_events(linkedid, "02188776611", "", "101")["ring"])
    ivr = page.get_by_test_id("call-card").get_by_test_id("ivr")
    await expect(ivr).to_contain_text("منوی اصلی › مراکز درمانی و پرداخت › a_menu_of_tomorrow")
    await expect(ivr).to_contain_text("پیام فرستاده شد پیامک")
