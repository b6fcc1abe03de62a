"""The one logging setup. Every record passes a filter that masks national IDs and PINs, so a
log line can never carry a customer's identity number in clear."""

from __future__ import annotations

import logging
import re

# Ten digits standing alone (Iranian national ID) or a labelled PIN. Phone numbers are E.164
# with a leading + and 12+ digits, so they are not caught by the ten-digit rule.
_NATIONAL_ID = re.compile(r"(?<![\d+])(\d{3})\d{4}(\d{3})(?!\d)")
_PIN = re.compile(r"(?i)(pin\W{0,3})\d+")


def mask_sensitive(text: str) -> str:
    text = _NATIONAL_ID.sub(r"\1****\2", text)
    return _PIN.sub(r"\1****", text)


class MaskingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_sensitive(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic narrates every migration step at INFO; the services' own lines matter more.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
