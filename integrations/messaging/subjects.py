"""Human subjects for the outbox's subject keys, in the message's language: the email
subject line and the fax cover line. The keys are what ivr/services/*.py pass to
`call.send(...)`; a key added there without a title here still gets the generic one."""

from __future__ import annotations

TITLES: dict[str, dict[str, str]] = {
    "claim_status": {
        "fa": "وضعیت پرونده خسارت",
        "en": "Your claim status",
        "ru": "Статус вашего страхового случая",
    },
    "branches": {
        "fa": "نزدیک‌ترین شعبه‌ها و نمایندگی‌ها",
        "en": "The nearest branches and agencies",
        "ru": "Ближайшие филиалы и агентства",
    },
    "centres": {
        "fa": "مراکز درمانی طرف قرارداد و مراکز پرداخت خسارت",
        "en": "Contracted medical centres and claim-payment centres",
        "ru": "Медицинские центры-партнёры и центры выплат",
    },
    "debts": {
        "fa": "مانده بدهی و سررسیدها",
        "en": "Your balance and due dates",
        "ru": "Ваша задолженность и сроки платежей",
    },
    # Email and fax (docs/fax-and-email.md).
    "claim_received": {
        "fa": "گزارش خسارت شما دریافت شد",
        "en": "We have received your claim",
        "ru": "Ваше заявление об убытке получено",
    },
    "debt_statement": {
        "fa": "صورت‌حساب بدهی",
        "en": "Your statement of account",
        "ru": "Выписка о задолженности",
    },
    "policy_schedule": {
        "fa": "مشخصات بیمه‌نامه شما",
        "en": "Your policy schedule",
        "ru": "Сведения о вашем полисе",
    },
    "general_meeting_invitation": {
        "fa": "دعوت‌نامه مجمع عمومی",
        "en": "Invitation to the general meeting",
        "ru": "Приглашение на общее собрание акционеров",
    },
}

GENERIC = {
    "fa": "پیامی از بیمه",
    "en": "A message from your insurer",
    "ru": "Сообщение от вашей страховой компании",
}

# Persian is the menus' default language, and the one every customer's file can be read in.
FALLBACK_LANGUAGE = "fa"


def title(subject: str, language: str) -> str:
    titles = TITLES.get(subject, GENERIC)
    return titles.get(language) or titles[FALLBACK_LANGUAGE]
