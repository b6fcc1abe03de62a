"""The messaging operators' page and API: the outbound queue, failures and delivery rates per
provider and kind, volume per hour, retrying or cancelling a message, and editing the notices'
texts per language with a live preview on a real customer's file.

Every route needs the messaging-operator role; retries, cancels, edits and previews (which
read a customer's file) are audit-logged with who and what."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from customer_file.identifiers import InvalidIdentifier, ascii_digits, normalize_phone
from customer_file.port import CustomerFile
from customer_file.views import CustomerFileView, CustomerSummary
from integrations.messaging.operations import OutboxOperations
from messaging import notice_kinds, sms_text
from messaging.notice_kinds import NoticeKind
from messaging.notice_templates import NoticeTemplates, TemplateRefused
from messaging.notifier import recipient_from_file, write_values
from popup_server.audit import AuditLog
from popup_server.auth import read_json, require_role
from popup_server.roles import Role
from tamas.languages import LANGUAGES

if TYPE_CHECKING:
    from popup_server.app import AppParts

STATIC = Path(__file__).with_name("static")
PAGE = STATIC / "operators.html"


class OperatorRoutes:
    def __init__(self, parts: AppParts) -> None:
        self.operations = OutboxOperations(parts.database)
        self.templates = NoticeTemplates(parts.database)
        self.kinds = notice_kinds.load()
        self.customer_file: CustomerFile = parts.customer_file
        self.audit: AuditLog = parts.audit
        self.insurer = {
            "fa": parts.settings.insurer_name_fa,
            "en": parts.settings.insurer_name_en,
            "ru": parts.settings.insurer_name_ru,
        }
        self.region = parts.settings.default_region

    def add_to(self, app: web.Application) -> None:
        app.router.add_get("/messages", self.page)
        app.router.add_get("/api/messages/summary", self.summary)
        app.router.add_get("/api/messages/failures", self.failures)
        app.router.add_post("/api/messages/{message_id:\\d+}/retry", self.retry)
        app.router.add_post("/api/messages/{message_id:\\d+}/cancel", self.cancel)
        app.router.add_get("/api/notices/templates", self.template_list)
        app.router.add_put("/api/notices/templates/{kind}/{language}", self.template_save)
        app.router.add_delete("/api/notices/templates/{kind}/{language}", self.template_reset)
        app.router.add_post("/api/notices/preview", self.preview)
        app.router.add_static("/static/messaging/", STATIC, append_version=True)

    async def page(self, request: web.Request) -> web.StreamResponse:
        # The page itself holds nothing private; its API checks the role on every call.
        return web.FileResponse(PAGE)

    async def summary(self, request: web.Request) -> web.Response:
        await require_role(request, Role.MESSAGING_OPERATOR)
        days = _bounded_int(request.query.get("days", "7"), 1, 90)
        now = datetime.now(UTC)
        since = now - timedelta(days=days)
        rates = await self.operations.rates(since)
        return web.json_response(
            {
                "queue": await self.operations.queue(),
                "rates": [rate.as_dict() for rate in rates],
                "volume": await self.operations.volume(now - timedelta(hours=48), now),
                "since": since.isoformat(),
            }
        )

    async def failures(self, request: web.Request) -> web.Response:
        await require_role(request, Role.MESSAGING_OPERATOR)
        limit = _bounded_int(request.query.get("limit", "50"), 1, 500)
        return web.json_response({"failures": await self.operations.failures(limit)})

    async def retry(self, request: web.Request) -> web.Response:
        return await self._act(request, "message_retry", self.operations.retry)

    async def cancel(self, request: web.Request) -> web.Response:
        return await self._act(request, "message_cancel", self.operations.cancel)

    async def _act(self, request: web.Request, action: str, change: Any) -> web.Response:
        operator = await require_role(request, Role.MESSAGING_OPERATOR)
        message_id = int(request.match_info["message_id"])
        done = await change(message_id)
        await self.audit.record(
            operator.number,
            action,
            target=f"message:{message_id}",
            refusal=None if done else "not_allowed",
        )
        if not done:
            what = "retried" if action == "message_retry" else "cancelled"
            return web.json_response(
                {"error": f"message {message_id} cannot be {what} in its state"}, status=409
            )
        return web.json_response({"ok": True})

    # --- templates -------------------------------------------------------------------------
    async def template_list(self, request: web.Request) -> web.Response:
        await require_role(request, Role.MESSAGING_OPERATOR)
        edits = await self.templates.edits()
        kinds = []
        for kind in self.kinds.values():
            texts = {}
            for language in LANGUAGES:
                edit = edits.get((kind.name, language))
                texts[language] = {
                    "catalogue": kind.text[language],
                    "edited": None if edit is None else edit.text,
                    "edited_by": None if edit is None else edit.updated_by,
                    "edited_at": None if edit is None else edit.updated_at.isoformat(),
                }
            kinds.append(
                {
                    "kind": kind.name,
                    "event": kind.event,
                    "values": ["name", "insurer", *kind.needs],
                    "channels": list(kind.channels),
                    "texts": texts,
                }
            )
        return web.json_response({"kinds": kinds})

    def _kind(self, request: web.Request) -> tuple[NoticeKind, str]:
        name, language = request.match_info["kind"], request.match_info["language"]
        kind = self.kinds.get(name)
        if kind is None or language not in LANGUAGES:
            raise web.HTTPNotFound(
                text='{"error": "no such notice kind or language"}',
                content_type="application/json",
            )
        return kind, language

    async def template_save(self, request: web.Request) -> web.Response:
        operator = await require_role(request, Role.MESSAGING_OPERATOR)
        kind, language = self._kind(request)
        body = await read_json(request)
        text = body.get("text")
        if not isinstance(text, str):
            return web.json_response({"error": "text: the notice's text"}, status=400)
        try:
            await self.templates.save(kind, language, text, operator.number, datetime.now(UTC))
        except TemplateRefused as error:
            return web.json_response({"error": str(error)}, status=400)
        await self.audit.record(operator.number, "template_edit", target=f"{kind.name}:{language}")
        return web.json_response({"ok": True})

    async def template_reset(self, request: web.Request) -> web.Response:
        operator = await require_role(request, Role.MESSAGING_OPERATOR)
        kind, language = self._kind(request)
        await self.templates.reset(kind.name, language)
        await self.audit.record(operator.number, "template_reset", target=f"{kind.name}:{language}")
        return web.json_response({"ok": True})

    # --- preview ---------------------------------------------------------------------------
    async def preview(self, request: web.Request) -> web.Response:
        """The notice as this customer would read it: their name and language, and values from
        their own file where it has them (their policy, next installment, claim)."""
        operator = await require_role(request, Role.MESSAGING_OPERATOR)
        body = await read_json(request)
        kind = self.kinds.get(str(body.get("kind", "")))
        if kind is None:
            return web.json_response({"error": "kind: a notice kind"}, status=400)
        summary = await self._customer(str(body.get("customer", "")))
        if summary is None:
            return web.json_response({"error": "customer: no customer with that number or ID"},
                                     status=404)  # fmt: skip
        view = await self.customer_file.customer_file(summary.id)
        if view is None:
            return web.json_response({"error": "customer: not found"}, status=404)
        await self.audit.record(
            operator.number, "notice_preview", customer_id=summary.id, target=kind.name
        )
        recipient = recipient_from_file(view)
        language = str(body.get("language") or recipient.language)
        if language not in LANGUAGES:
            return web.json_response({"error": "language: fa, en or ru"}, status=400)
        text = body.get("text")
        if text is not None and (not isinstance(text, str) or kind.problem_with(text)):
            problem = kind.problem_with(text) if isinstance(text, str) else "text: a text"
            return web.json_response({"error": problem}, status=400)
        values = write_values(kind, sample_values(view), language)
        edited = await self.templates.text(kind.name, language)
        rendered = kind.render(
            language,
            {"name": recipient.name, "insurer": self.insurer[language], **values},
            text or edited,
        )
        count = sms_text.count(rendered)
        return web.json_response(
            {
                "text": rendered,
                "language": language,
                "customer_id": summary.id,
                "sms": {"parts": count.parts, "encoding": str(count.encoding)},
                "channel": route[0] if (route := recipient.route(kind)) else None,
            }
        )

    async def _customer(self, key: str) -> CustomerSummary | None:
        key = ascii_digits(key.strip())[:32]
        if not key:
            return None
        if key.startswith(("+", "0")) and len(key) >= 10:
            try:
                phone = normalize_phone(key, self.region)
            except InvalidIdentifier:
                return None
            found = await self.customer_file.customer_by_phone(phone)
            if found is not None:
                return found
        if key.isdigit() and len(key) == 10:
            found = await self.customer_file.customer_by_national_id(key)
            if found is not None:
                return found
        if key.isdigit() and len(key) < 10:
            return await self.customer_file.customer(int(key))
        return None


def sample_values(view: CustomerFileView) -> dict[str, Any]:
    """Every value a notice may need, from the customer's own file where it has it."""
    today = datetime.now(UTC).date()
    policy = view.policies[0] if view.policies else None
    installment = view.debt.next_installments[0] if view.debt.next_installments else None
    cheque = view.debt.cheques_due[0] if view.debt.cheques_due else None
    claim = view.claims[0] if view.claims else None
    return {
        "policy_number": policy.number if policy else "P-0000",
        "premium": policy.premium_rials if policy else 0,
        "end_date": policy.end_date if policy else today,
        "payment_status": "paid",
        "amount": installment.amount_rials if installment else view.debt.balance_rials,
        "due_date": installment.due_date if installment else today,
        "tracking_code": claim.tracking_code if claim else "0000",
        "bank": "—",
        "cheque_number": cheque.number if cheque else "000000",
        "period": today.strftime("%Y-%m"),
        "at": datetime.now(UTC),
        "agency": "—",
        "other_branch": "—",
        "meeting_date": today + timedelta(days=10),
        "place": "—",
    }


def _bounded_int(text: str, low: int, high: int) -> int:
    try:
        return max(low, min(high, int(text)))
    except ValueError:
        raise web.HTTPBadRequest(
            text='{"error": "a whole number"}', content_type="application/json"
        ) from None


def add_routes(app: web.Application, parts: AppParts) -> None:
    OperatorRoutes(parts).add_to(app)
