"""How a fax is tried again: each attempt one step slower, and error correction (ECM) off
after the first, as a noisy audio line (G.711 through a trunk's jitter buffer) more often
carries a slow fax without ECM than a fast one with it. Pure rules, no I/O.

res_fax reports each attempt through dialplans/fax.conf's TamasFax event; `FaxReport` reads
it, and `retry_helps` says whether another attempt can change anything."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# The status of a received fax whose report never came (FaxInbox.sweep): its pages are all
# that is known.
UNREPORTED = "UNREPORTED"
# V.17 14400, V.29 9600, V.27ter 4800 and 2400: the rates res_fax's FAXOPT(maxrate) takes.
RATES_BPS = (14400, 12000, 9600, 7200, 4800, 2400)


@dataclass(frozen=True)
class Attempt:
    number: int  # 1, 2, ...
    max_rate_bps: int
    ecm: bool

    @property
    def modems(self) -> str:
        """FAXOPT(modem) for this rate: over G.711 spandsp trains at the fastest modem it is
        allowed (V.17 up to 14400, V.29 9600/7200, V.27ter 4800/2400), whatever maxrate says."""
        if self.max_rate_bps > 9600:
            return "v17,v27,v29"
        if self.max_rate_bps > 4800:
            return "v27,v29"
        return "v27"


def plan(rates_bps: Sequence[int | str]) -> list[Attempt]:
    """One attempt per rate, fastest first; ECM on the first attempt only."""
    rates = [int(rate) for rate in rates_bps]
    if not rates:
        raise ValueError("fax_rates_bps is empty: give at least one rate, e.g. 14400,9600,4800")
    for rate in rates:
        if rate not in RATES_BPS:
            raise ValueError(
                f"fax rate {rate} is not one res_fax knows ({', '.join(map(str, RATES_BPS))})"
            )
    rates = sorted(set(rates), reverse=True)
    return [Attempt(n, rate, ecm=n == 1) for n, rate in enumerate(rates, start=1)]


@dataclass(frozen=True)
class FaxReport:
    """res_fax's figures for one fax, as the TamasFax UserEvent carries them."""

    direction: str  # send or receive
    reference: str  # TAMAS_FAX_ID: our own id of the fax (the outbox row for one we send)
    status: str  # SUCCESS, FAILED, or empty when no fax session started
    status_text: str
    error: str  # res_fax's error code: NO_CARRIER, TRAINING_FAILED, HANGUP, ...
    pages: int
    rate_bps: int | None
    ecm: bool
    remote_station: str
    caller_number: str
    uniqueid: str
    file: str

    @classmethod
    def from_event(cls, event: Mapping[str, object]) -> FaxReport:
        def text(key: str) -> str:
            value = event.get(key, "")
            return str(value[-1] if isinstance(value, list) else value).strip()

        rate = text("Rate")
        pages = text("Pages")
        return cls(
            direction=text("Direction"),
            reference=text("Id"),
            status=text("Status").upper(),
            status_text=text("StatusText"),
            error=text("Error").upper(),
            pages=int(pages) if pages.isdigit() else 0,
            rate_bps=int(rate) if rate.isdigit() else None,
            ecm=text("Ecm").lower() in {"yes", "1", "on"},
            remote_station=text("RemoteStation"),
            caller_number=text("CallerNum"),
            uniqueid=text("Uniqueid"),
            file=text("File"),
        )

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCESS" and self.pages > 0

    @property
    def has_pages(self) -> bool:
        """Pages to keep: a fax that succeeded, or one whose report was lost."""
        return self.pages > 0 and self.status in {"SUCCESS", UNREPORTED}

    @property
    def summary(self) -> str:
        """One line for the log and the outbox's answer; no number in it."""
        if self.succeeded:
            rate = f" at {self.rate_bps} bps" if self.rate_bps else ""
            return f"{self.pages} pages{rate}, ECM {'on' if self.ecm else 'off'}"
        if self.status == UNREPORTED:
            return f"{self.pages} pages, no report from Asterisk"
        why = self.error or self.status_text or "no fax session"
        return f"failed ({why}) after {self.pages} pages"


# res_fax's FAXOPT(error) is either its own code (INVALID_ARGUMENTS, HANGUP, ...) or spandsp's
# T.30 completion text ("The call dropped prematurely", "Far end cannot receive at the
# resolution of the image"). Most failures are the line's (noise, training, a dropped call),
# and a slower attempt without ECM stands a chance; these are not: our settings or document
# are at fault, or the far end cannot take this fax at all.
_NOT_THE_LINE_CODES = frozenset({"INVALID_ARGUMENTS", "FILE_ERROR", "MEMORY_ERROR"})
_NOT_THE_LINE_TEXTS = (
    "CANNOT RECEIVE",
    "NOT ABLE TO RECEIVE",
    "NOT RECEIVE CAPABLE",
    "TIFF",
    "DOCUMENT",
)


def retry_helps(report: FaxReport) -> bool:
    """False when the far end cannot take this fax, or our document or settings are at
    fault: the same fax would fail the same way."""
    if report.succeeded:
        return False
    if report.error in _NOT_THE_LINE_CODES:
        return False
    return not any(text in report.error for text in _NOT_THE_LINE_TEXTS)
