"""The text service's answers, worded in the customer's language (pure: no I/O). Short: an
answer aims at two SMS parts (134 Persian characters), values written by messaging/written.py
(Persian digits and Jalali dates in Persian, codes kept left to right)."""

from __future__ import annotations

from datetime import date

from customer_file.views import (
    BranchView,
    ClaimStatus,
    DebtView,
    GeneralMeetingView,
    PolicyAuthenticity,
    ShareholderView,
)
from messaging import written

Words = dict[str, str]

FIXED: dict[str, Words] = {
    "help": {
        "fa": "راهنما: بدهی | قسط | چک | خسارت <کد> | بیمه‌نامه <شماره> | تمدید | "
        "شعبه <کدپستی> | سود | مجمع | لغو",
        "en": "Text: DEBT | DUE | CHEQUE | CLAIM <code> | POLICY <number> | RENEW | "
        "BRANCH <postal code> | DIVIDEND | MEETING | STOP",
        "ru": "Отправьте: ДОЛГ | ВЗНОС | ЧЕК | УБЫТОК <код> | ПОЛИС <номер> | ПРОДЛЕНИЕ | "
        "ФИЛИАЛ <индекс> | ДИВИДЕНД | СОБРАНИЕ | СТОП",
    },
    "unknown_number": {
        "fa": "این شماره در پرونده هیچ بیمه‌گذاری نیست؛ از شماره ثبت‌شده پیام دهید.",
        "en": "This number is not on any customer's file; text us from your registered number.",
        "ru": "Этот номер не указан в деле клиента; напишите с зарегистрированного номера.",
    },
    "not_yours": {
        "fa": "این پرونده به شماره شما تعلق ندارد؛ وضعیتش فقط به شماره صاحب پرونده گفته می‌شود.",
        "en": "This file is not on your number; its status is told only to its holder's numbers.",
        "ru": "Это дело не связано с вашим номером; статус сообщается только номерам владельца.",
    },
    "need_code": {
        "fa": "لطفاً کد را هم بفرستید، مثلاً: خسارت ۷۷۰۰۱۲۳۴",
        "en": "Please add the code, e.g. CLAIM 77001234",
        "ru": "Добавьте код, например: УБЫТОК 77001234",
    },
    "claim_not_found": {
        "fa": "پرونده خسارتی با این کد پیدا نشد.",
        "en": "No claim has this tracking code.",
        "ru": "Страховой случай с таким кодом не найден.",
    },
    "no_debt": {
        "fa": "بدهی معوقی ندارید و قسط پرداخت‌نشده‌ای در پرونده نیست.",
        "en": "You owe nothing and have no unpaid installments.",
        "ru": "У вас нет задолженности и неоплаченных взносов.",
    },
    "no_cheques": {
        "fa": "چک سررسیدنشده‌ای در پرونده شما نیست.",
        "en": "You have no cheques due.",
        "ru": "У вас нет чеков к оплате.",
    },
    "not_shareholder": {
        "fa": "سهامداری با شماره شما در پرونده نیست.",
        "en": "No shareholder record is on your number.",
        "ru": "На ваш номер не записан акционер.",
    },
    "no_dividend": {
        "fa": "سودی برای سهام شما اعلام نشده است.",
        "en": "No dividend has been declared on your shares.",
        "ru": "Дивиденды по вашим акциям не объявлены.",
    },
    "no_meeting": {
        "fa": "مصوبه‌ای از مجمع عمومی منتشر نشده است.",
        "en": "No general-meeting resolutions have been published.",
        "ru": "Решения общего собрания не опубликованы.",
    },
    "no_branch": {
        "fa": "برای این کد پستی شعبه‌ای پیدا نشد؛ کد پستی ده‌رقمی را بفرستید.",
        "en": "No branch found for this postal code; send your 10-digit postal code.",
        "ru": "Для этого индекса филиал не найден; отправьте 10-значный индекс.",
    },
    "stopped": {
        "fa": "دیگر پیام و تماس تبلیغاتی و یادآوری از ما دریافت نمی‌کنید.",
        "en": "You will get no more reminders or campaign calls from us.",
        "ru": "Вы больше не будете получать от нас напоминания и звонки.",
    },
    "unavailable": {
        "fa": "پاسخ اکنون در دسترس نیست؛ لطفاً کمی بعد دوباره پیام دهید.",
        "en": "We cannot look this up right now; please text again a little later.",
        "ru": "Сейчас мы не можем это проверить; напишите чуть позже.",
    },
}

STAGES: dict[str, Words] = {
    "registered": {"fa": "ثبت شده", "en": "registered", "ru": "зарегистрирован"},
    "inspection": {"fa": "در انتظار بازدید", "en": "awaiting inspection", "ru": "осмотр"},
    "assessment": {"fa": "در حال ارزیابی", "en": "being assessed", "ru": "оценка"},
    "approved": {"fa": "تأیید شده", "en": "approved", "ru": "одобрен"},
    "paid": {"fa": "پرداخت شده", "en": "paid", "ru": "выплачен"},
    "rejected": {"fa": "رد شده", "en": "rejected", "ru": "отклонён"},
}
POLICY_STATUS: dict[str, Words] = {
    "active": {"fa": "معتبر", "en": "in force", "ru": "действует"},
    "expired": {"fa": "منقضی", "en": "expired", "ru": "истёк"},
    "cancelled": {"fa": "ابطال‌شده", "en": "cancelled", "ru": "аннулирован"},
    "suspended": {"fa": "معلق", "en": "suspended", "ru": "приостановлен"},
}


def fixed(key: str, language: str) -> str:
    return FIXED[key][language]


def _pick(words: Words, language: str) -> str:
    return words.get(language) or words["en"]


def debt(view: DebtView, language: str) -> str:
    if view.balance_rials == 0 and not view.next_installments:
        return fixed("no_debt", language)
    balance = written.amount(view.balance_rials, language)
    overdue = written.amount(view.overdue_rials, language)
    head = {
        "fa": f"مانده بدهی: {balance}؛ معوق: {overdue}.",
        "en": f"Balance: {balance}; overdue: {overdue}.",
        "ru": f"Задолженность: {balance}; просрочено: {overdue}.",
    }[language]
    if not view.next_installments:
        return head
    nxt = view.next_installments[0]
    amount, due = written.amount(nxt.amount_rials, language), written.date(nxt.due_date, language)
    return (
        head
        + {
            "fa": f" قسط بعدی: {amount} در {due}.",
            "en": f" Next: {amount} on {due}.",
            "ru": f" Следующий: {amount} до {due}.",
        }[language]
    )


def installments(view: DebtView, language: str, today: date, limit: int = 3) -> str:
    if not view.next_installments:
        return fixed("no_debt", language)
    lines = []
    for item in view.next_installments[:limit]:
        late = {"fa": " (معوق)", "en": " (overdue)", "ru": " (просрочен)"}
        mark = late[language] if item.status == "overdue" or item.due_date < today else ""
        lines.append(
            f"{written.date(item.due_date, language)}: "
            f"{written.amount(item.amount_rials, language)}{mark}"
        )
    head = {"fa": "اقساط:", "en": "Installments:", "ru": "Взносы:"}[language]
    return head + " " + "؛ ".join(lines) if language == "fa" else head + " " + "; ".join(lines)


def cheques(view: DebtView, language: str, limit: int = 3) -> str:
    if not view.cheques_due and not view.cheques_bounced:
        return fixed("no_cheques", language)
    parts = []
    for cheque in view.cheques_due[:limit]:
        due = written.date(cheque.due_date, language)
        amount = written.amount(cheque.amount_rials, language)
        parts.append(f"{written.code(cheque.number, language)} {due} {amount}")
    head = {"fa": "چک‌های سررسید:", "en": "Cheques due:", "ru": "Чеки к оплате:"}[language]
    text = head + " " + ("؛ ".join(parts) if language == "fa" else "; ".join(parts))
    if view.cheques_bounced:
        bounced = sum(cheque.amount_rials for cheque in view.cheques_bounced)
        note = {
            "fa": f"؛ برگشتی: {written.amount(bounced, language)}",
            "en": f". Bounced: {written.amount(bounced, language)}",
            "ru": f". Возвращено: {written.amount(bounced, language)}",
        }
        text += note[language]
    return text


def claim(status: ClaimStatus, language: str) -> str:
    view = status.claim
    stage = _pick(STAGES.get(view.stage, {"en": view.stage}), language)
    code = written.code(view.tracking_code, language)
    text = {
        "fa": f"خسارت {code}: {stage}",
        "en": f"Claim {code}: {stage}",
        "ru": f"Случай {code}: {stage}",
    }[language]
    paid_or_approved = view.amount_paid_rials or view.amount_approved_rials
    if paid_or_approved:
        label = {"fa": "، مبلغ ", "en": ", amount ", "ru": ", сумма "}[language]
        text += label + written.amount(paid_or_approved, language)
    return text + "."


def policy(answer: PolicyAuthenticity, asked: str, language: str) -> str:
    if not answer.genuine:
        return {
            "fa": f"بیمه‌نامه‌ای با شماره {written.code(asked, language)} صادر نکرده‌ایم؛ "
            "اصالت آن تأیید نمی‌شود.",
            "en": f"We issued no policy numbered {asked}: it is not genuine.",
            "ru": f"Полис № {asked} нами не выдавался: он не подлинный.",
        }[language]
    holder = answer.holder_name_masked_fa if language == "fa" else answer.holder_name_masked_latin
    status = _pick(POLICY_STATUS.get(answer.status or "", {"en": answer.status or ""}), language)
    until = written.date(answer.end_date, language) if answer.end_date else ""
    number = written.code(answer.number or asked, language)
    return {
        "fa": f"بیمه‌نامه {number} اصیل است؛ {status}، بیمه‌گذار {holder}، تا {until}.",
        "en": f"Policy {number} is genuine: {status}, holder {holder}, until {until}.",
        "ru": f"Полис {number} подлинный: {status}, владелец {holder}, до {until}.",
    }[language]


def renewal(tracking_number: str, language: str) -> str:
    code = written.code(tracking_number, language)
    return {
        "fa": f"درخواست تمدید شما با کد پیگیری {code} ثبت شد؛ کارشناس ما تماس می‌گیرد.",
        "en": f"Your renewal request {code} is registered; an expert will call you.",
        "ru": f"Заявка на продление {code} принята; специалист вам позвонит.",
    }[language]


def branch(found: BranchView, language: str) -> str:
    name = found.name_fa if language == "fa" else found.name_en
    address = found.address_fa if language == "fa" else found.address_en
    phone = written.code(found.phone, language)
    return f"{name}: {address}، {phone}" if language == "fa" else f"{name}: {address}, {phone}"


def dividend(holder: ShareholderView, language: str) -> str:
    latest = holder.latest_dividend
    if latest is None:
        return fixed("no_dividend", language)
    year = written.digits(str(latest.fiscal_year), language)
    amount = written.amount(latest.amount_due_rials, language)
    if latest.paid_on is not None:
        when = written.date(latest.paid_on, language)
        return {
            "fa": f"سود سال {year}: {amount}، پرداخت‌شده در {when}.",
            "en": f"Dividend {year}: {amount}, paid on {when}.",
            "ru": f"Дивиденд {year}: {amount}, выплачен {when}.",
        }[language]
    when = written.date(latest.payment_date, language) if latest.payment_date else "—"
    return {
        "fa": f"سود سال {year}: {amount}، زمان پرداخت {when}.",
        "en": f"Dividend {year}: {amount}, payable on {when}.",
        "ru": f"Дивиденд {year}: {amount}, к выплате {when}.",
    }[language]


def meeting(found: GeneralMeetingView, language: str) -> str:
    when = written.date(found.held_at.date(), language)
    head = {"fa": f"مصوبات مجمع {when}: ", "en": f"Meeting of {when}: ", "ru": f"Собрание {when}: "}
    return head[language] + (found.resolutions or "")
