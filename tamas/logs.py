"""The one logging setup. Every line is masked as a whole after formatting — message,
arguments, traceback and stack — so a log line can never carry a customer's national ID or a
PIN in clear, whichever library wrote it or whatever exception text it quotes."""

from __future__ import annotations

import logging
import re

# Ten digits standing alone (Iranian national ID) or a labelled PIN. Phone numbers are E.164
# with a leading + and 12+ digits, so they are not caught by the ten-digit rule.
_NATIONAL_ID = re.compile(r"(?<![\d+])(\d{3})\d{4}(\d{3})(?!\d)")
_PIN = re.compile(r"(?i)(pin\W{0,3})\d+")

LINE_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def mask_sensitive(text: str) -> str:
    text = _NATIONAL_ID.sub(r"\1****\2", text)
    return _PIN.sub(r"\1****", text)


class MaskingFormatter(logging.Formatter):
    """Masks the finished text. Masking the message alone left tracebacks in clear: an
    exception's text (a driver error quoting its parameters) is only added by `format`."""

    def format(self, record: logging.LogRecord) -> str:
        return mask_sensitive(super().format(record))


def formatter() -> logging.Formatter:
    return MaskingFormatter(LINE_FORMAT)


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic narrates every migration step at INFO; the services' own lines matter more.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
