"""The one settings object: defaults, overridden by a TOML file, overridden by environment.

Every key is documented in docs/configuration.md; a key nothing reads does not belong here.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from tamas.languages import LANGUAGES

log = logging.getLogger(__name__)

ENV_PREFIX = "TAMAS_"
CONFIG_ENV = "TAMAS_CONFIG"
DEFAULT_CONFIG_FILE = "tamas.toml"
# Where, inside the sandbox's root, Asterisk plays `tamas/<name>` from.
SANDBOX_SOUNDS = "usr/share/asterisk/sounds/tamas"


# Settings never shown by repr (and so never in a log line or a traceback's locals).
SECRET_SETTINGS = frozenset(
    {
        "ami_secret",
        "smtp_password",
        "sms_gateway_token",
        "smpp_password",
        "sms_webhook_secret",
        "fax_gateway_token",
        "cases_central_token",
        "cases_registry_token",
        "customer_file_token",
        "lockout_secret",
        "core_events_secret",
    }
)
# The password of a URL's user part: postgresql://tamas:<password>@db/tamas.
_URL_PASSWORD = re.compile(r"(://[^/@:]*:)[^/@]*@")


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names the key."""


@dataclass(frozen=True)
class Settings:
    # Where local state lives: the SQLite file, generated secrets, the prompt cache.
    data_dir: Path = Path(".tamas")
    # SQLAlchemy async URL; empty means SQLite in data_dir.
    database_url: str = ""
    # Redis URL for the bus and rate limits; empty means the in-process bus (one box).
    redis_url: str = ""
    log_level: str = "INFO"

    # Asterisk Manager Interface. The secret is generated into data_dir when not given.
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_username: str = "tamas"
    ami_secret: str = ""

    # FastAGI server; only hosts in the allow-list may connect.
    fastagi_host: str = "127.0.0.1"
    fastagi_port: int = 4573
    fastagi_allow: tuple[str, ...] = ("127.0.0.1", "::1")

    # The pages (agent desktop, dashboards).
    http_host: str = "127.0.0.1"
    http_port: int = 8080

    # The agent desktop (popup_server): how long a login lasts (one shift), how many failed
    # logins per agent number or address in 5 minutes, and the dialplan context that
    # transfers and click-to-call dial into.
    agent_session_ttl_s: int = 8 * 3600
    agent_login_limit: int = 5
    desktop_context: str = "tamas-desktop"
    # Addresses (or networks, "10.0.0.0/8") of the reverse proxies or load balancers in front
    # of the desktop: only from them is X-Forwarded-For believed, so login limits count the
    # real client, not the proxy every agent shares.
    http_trusted_proxies: tuple[str, ...] = ()
    # What agents may dial from the desktop (click-to-call and transfers), as dialplan
    # patterns matched against the number as dialled (+98... becomes 0...): other agents,
    # queues, domestic landlines and mobiles. Add "_00." to allow international calls.
    # Each agent may start at most agent_dials_per_hour calls and transfers, and make at
    # most agent_searches_per_hour customer searches and file reads by search.
    desktop_dial_patterns: tuple[str, ...] = ("_1XX", "_6XX", "_0[1-8]XXXXXXXXX", "_09XXXXXXXXX")
    agent_dials_per_hour: int = 60
    agent_searches_per_hour: int = 300

    # The Asterisk sandbox (a Debian sid root run under chroot).
    sandbox_dir: Path = Path(".sandbox")
    # Debian mirror for building the sandbox root; empty means the one in the host's apt sources.
    sandbox_mirror: str = ""

    # Speech.
    tts_engine: str = "espeak"
    default_language: str = "fa"
    # The folder Asterisk plays `tamas/<name>` from (its sounds directory's tamas/ folder):
    # `tamas prompts build` writes there, the IVR speaks names and joins sentences there.
    # Empty means the sandbox's when it is built, else data_dir/sounds.
    sounds_dir: str = ""

    # Country assumed for numbers dialled without a country code.
    default_region: str = "IR"

    # The insurer's own customer-file adapter, "package.module:factory"; empty = our tables.
    customer_file_adapter: str = ""
    # Base URL of the core system for the REST adapter (integrations.customer_file.rest:make).
    customer_file_url: str = ""
    # How the REST adapter proves itself to the core system: a bearer token (keep it in the
    # environment, TAMAS_CUSTOMER_FILE_TOKEN) and/or a client certificate (PEM file holding
    # the certificate and its key) for mutual TLS; a CA file to trust instead of the system's.
    # Plain http:// is refused unless customer_file_allow_http (a test server on loopback).
    customer_file_token: str = ""
    customer_file_client_cert: str = ""
    customer_file_ca_file: str = ""
    customer_file_allow_http: bool = False

    # The IVR: how long a menu waits for the customer file before apologising, the PIN
    # lockout (wrong PINs per caller number and per identity within the window), where
    # complaint recordings go (a path inside Asterisk's file system), and the survey offer.
    ivr_lookup_timeout_ms: int = 3000
    pin_max_failures: int = 3
    pin_lockout_window_s: int = 900
    # The key of the lockout and login-limit counts (an HMAC of numbers and identities, so a
    # copy of Redis does not list callers). Generated into data_dir when not given; servers on
    # several boxes sharing one Redis must all be given the same (TAMAS_LOCKOUT_SECRET).
    lockout_secret: str = ""
    # Greet a caller by the name on file when only their number matched (caller ID can be
    # spoofed: the greeting would tell a stranger whose phone they claim to be).
    ivr_greet_by_caller_id: bool = False
    ivr_recordings_dir: str = "/var/spool/asterisk/monitor"
    ivr_offer_survey: bool = True
    # Sentences of several fragments joined into one sound before they are played (one AGI
    # command, no gaps); needs Asterisk to read the sounds folder Tamas writes.
    ivr_join_sentences: bool = True

    # Campaign calls (dialer/, docs/campaigns.md "Placing calls"): the dial string of a
    # person's number ({digits}: the E.164 number without "+"; {number}: as dialled at home,
    # 0912...; a trunk in production, the sandbox's simulated customers by default), the
    # trunk name the limits count it on, the caller ID shown, how long it rings (the US rules
    # ask for at least 15 s), the agents' queue, how long an answered person waits for an
    # agent before the call is abandoned (progressive, predictive: 2 s by the rules) or after
    # pressing 1, each campaign's channel cap, and how often a worker looks for work.
    dialer_channel: str = "Local/{digits}@tamas-customers"
    dialer_trunk: str = "sandbox"
    dialer_caller_id: str = ""
    dialer_ring_timeout_s: int = 25
    dialer_queue: str = "campaigns"
    dialer_agent_wait_s: int = 2
    dialer_queue_wait_s: int = 60
    dialer_max_channels: int = 10
    dialer_poll_s: float = 1.0
    # The carrier's limits on `dialer_trunk`, across every worker and campaign: channels at
    # once and new calls per second (a worker sets them on the trunk when it starts).
    dialer_trunk_max_channels: int = 30
    dialer_trunk_calls_per_second: float = 4.0
    # Kinds whose message is left on an answering machine (after its greeting and beep);
    # other kinds hang up on a machine.
    dialer_machine_message_kinds: tuple[str, ...] = ()

    # The SMS gateway `tamas messages send` drains the outbox through (JSON over HTTP, see
    # integrations/messaging/gateway.py); empty means SMS requests wait in the outbox.
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    # SMS providers and the text service (docs/messaging.md): the profile the gateway URL
    # speaks (generic, iran_rest, or one defined in sms_profiles_file), the sender line, the
    # provider's rate (requests per second, held across processes through redis_url); SMPP
    # instead of HTTP when smpp_host is set (the rate then counts PDUs); the webhook's shared
    # secret for pushed texts and reports (empty: the webhook is off); answers per number
    # per hour; how often the pull inbox and delivery reports are read.
    sms_profile: str = "generic"
    sms_profiles_file: str = ""
    sms_sender: str = ""
    sms_rate_per_s: int = 10
    smpp_host: str = ""
    smpp_port: int = 2775
    smpp_system_id: str = ""
    smpp_password: str = ""
    sms_webhook_secret: str = ""
    text_service_per_hour: int = 10
    sms_poll_s: float = 10.0
    # The fax gateway, same protocol plus the subject line; empty means faxes wait.
    fax_gateway_url: str = ""
    fax_gateway_token: str = ""
    # The mail server emails are sent through (integrations/messaging/mail.py); an empty host
    # means emails wait. Login only when a username is set; keep the password (like the
    # gateway tokens) in the environment, TAMAS_SMTP_PASSWORD, not in a file in the repository.
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = True
    smtp_from: str = ""
    # Fax through Asterisk (integrations/messaging/fax_asterisk.py, docs/fax-and-email.md).
    # fax_via chooses the fax channel's sender: "gateway" (the HTTP fax gateway above) or
    # "asterisk" (SendFAX over AMI). fax_dial is the dial string, {number} the recipient as
    # dialled (+98... becomes 0...); the default loops back to our own receiving context, as
    # the sandbox has no trunk. The spool is where the TIFFs go: fax_spool_dir as this host
    # sees it (empty: the sandbox's, else data_dir/fax), fax_asterisk_spool_dir as Asterisk
    # does. Attempts step the rate down through fax_rates_bps, ECM off after the first.
    fax_via: str = "gateway"
    fax_dial: str = "Local/{number}@tamas-fax-receive"
    fax_spool_dir: str = ""
    fax_asterisk_spool_dir: str = "/var/spool/asterisk/fax"
    fax_station_id: str = ""
    fax_header: str = "Tamas"
    fax_rates_bps: tuple[int, ...] = (14400, 9600, 4800)
    fax_attempt_timeout_s: float = 300.0
    fax_retry_wait_s: float = 30.0
    # Where received faxes are kept as PDF (empty: data_dir/fax/received).
    fax_received_dir: str = ""
    # Email (integrations/messaging/mail.py): seconds per SMTP step, and the loopback SMTP
    # endpoint that takes claims reported by email (messaging/email_inbound.py; port 0 = off),
    # the address they are sent to, and the fonts documents are drawn with (Persian, Latin
    # and Cyrillic: DejaVu Sans, Debian's fonts-dejavu-core).
    smtp_timeout_s: float = 30.0
    inbound_smtp_host: str = "127.0.0.1"
    inbound_smtp_port: int = 0
    inbound_claims_address: str = ""
    # Where our own letters' bounces come (the smtp_from mailbox relayed to the endpoint):
    # each failed delivery marks its outbox row undelivered. Empty: bounces are not read.
    inbound_bounce_address: str = ""
    document_font: str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
    document_font_bold: str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"
    # Caps on what the outbox accepts, whoever asks (SMS and fax pumping is paid by the
    # insurer, and a spoofed caller number must not bomb a victim): messages per call, per
    # recipient in 24 hours, and per kind in 24 hours across the system. Numbers outside
    # default_region and outbound_regions are refused, and premium-rate, shared-cost and
    # satellite or other non-geographic numbers unless outbound_allow_premium.
    outbox_per_call: int = 3
    outbox_per_recipient_per_day: int = 5
    outbox_sms_per_day: int = 5000
    outbox_fax_per_day: int = 500
    outbox_email_per_day: int = 5000
    outbound_regions: tuple[str, ...] = ()
    outbound_allow_premium: bool = False
    # Notices (messaging/notifier.py, docs/notices.md): the insurer's name as texts write it;
    # the core system's webhook (POST /api/core/events): its HMAC secret (empty: the endpoint
    # is off) and the addresses it may come from; the core database the poller reads events
    # from (empty: no poller) and its table; the daily run's horizons; how long a notice may
    # wait for a delivery report before it counts as expired.
    insurer_name_fa: str = "بیمه تماس"
    insurer_name_en: str = "Tamas Insurance"
    insurer_name_ru: str = "Тамас Страхование"
    core_events_secret: str = ""
    core_events_allow: tuple[str, ...] = ("127.0.0.1", "::1")
    core_events_database_url: str = ""
    core_events_table: str = "tamas_events"
    notice_installment_days_before: int = 3
    notice_overdue_days_after: tuple[int, ...] = (7, 30)
    notice_cheque_days_before: int = 3
    notice_policy_days_before: int = 30
    notice_meeting_days_before: int = 10
    notice_expire_after_h: int = 48
    # Daily reminders handed to a dialer campaign instead of sent as messages:
    # ("installment_overdue=overdue-calls", ...).
    notice_campaigns: tuple[str, ...] = ()
    # Supervisors' reports and the figures the wallboard shares (supervisors/metrics.py,
    # docs/metrics.md): the queue_log `tamas report ingest` reads (empty: the sandbox's), the
    # service-level threshold (per queue as "queue=seconds" overrides), abandons under
    # report_short_abandon_s counted apart, wrap-up per answered call (the queues' wrapuptime),
    # and the zone whose hours, days, weeks and months the reports group by.
    report_queue_log: str = ""
    report_service_level_s: int = 20
    report_service_levels: tuple[str, ...] = ()
    report_short_abandon_s: int = 5
    report_wrap_up_s: int = 0
    report_time_zone: str = "Asia/Tehran"
    # Cases (cases/, docs/cases.md): the case types file (empty: cases/types.yaml) and the
    # partners of the B2B API with their token keys (empty: no partner, every token refused).
    cases_types_path: str = ""
    cases_partners_path: str = ""
    # The central insurance complaint system complaints are exported to (empty: not exported),
    # and its bearer token.
    cases_central_url: str = ""
    cases_central_token: str = ""
    # The civil registry national IDs are checked with before a case opens (empty: the check
    # digit only), and its bearer token.
    cases_registry_url: str = ""
    cases_registry_token: str = ""

    def __repr__(self) -> str:
        # Settings get logged and printed; their secrets must not be (nor a password inside
        # a database, Redis or gateway URL).
        shown = []
        for setting in fields(self):
            if not setting.repr:
                continue
            value = getattr(self, setting.name)
            if setting.name in SECRET_SETTINGS and value:
                text = "'***'"
            elif isinstance(value, str):
                text = repr(_URL_PASSWORD.sub(r"\1***@", value))
            else:
                text = repr(value)
            shown.append(f"{setting.name}={text}")
        return f"Settings({', '.join(shown)})"

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'tamas.sqlite3').resolve()}"

    @property
    def effective_sounds_dir(self) -> Path:
        if self.sounds_dir:
            return Path(self.sounds_dir)
        sandbox_root = self.sandbox_dir.resolve() / "root"
        if (sandbox_root / "usr/sbin/asterisk").exists():
            return sandbox_root / SANDBOX_SOUNDS
        return self.data_dir / "sounds"

    @property
    def effective_ami_secret(self) -> str:
        if self.ami_secret:
            return self.ami_secret
        return _generated_secret(self.data_dir / "ami.secret")

    @property
    def effective_lockout_secret(self) -> bytes:
        if self.lockout_secret:
            return self.lockout_secret.encode()
        return _generated_secret(self.data_dir / "lockout.secret").encode()


def _generated_secret(path: Path) -> str:
    """A random secret kept in a file only root can read, made once and reused."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def _coerce(name: str, raw: Any, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(raw)
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
        if isinstance(default, Path):
            return Path(str(raw))
        if isinstance(default, tuple):
            if isinstance(raw, list | tuple):
                return tuple(str(item) for item in raw)
            return tuple(part.strip() for part in str(raw).split(",") if part.strip())
        return str(raw)
    except ValueError as error:
        raise SettingsError(
            f"setting {name!r}: {raw!r} is not a valid {type(default).__name__}"
        ) from error


def load(config_file: Path | None = None, env: dict[str, str] | None = None) -> Settings:
    """Defaults, then the TOML file (TAMAS_CONFIG or ./tamas.toml if present), then TAMAS_* env."""
    env = dict(os.environ if env is None else env)
    base = Settings()
    known = {f.name: getattr(base, f.name) for f in fields(Settings)}
    values: dict[str, Any] = {}

    path = config_file or Path(env.get(CONFIG_ENV, DEFAULT_CONFIG_FILE))
    if config_file is not None or path.exists():
        try:
            document = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as error:
            raise SettingsError(f"config file {path} does not exist") from error
        except tomllib.TOMLDecodeError as error:
            raise SettingsError(f"config file {path}: {error}") from error
        for key, raw in document.items():
            if key not in known:
                raise SettingsError(f"config file {path}: unknown setting {key!r}")
            values[key] = _coerce(key, raw, known[key])

    for key, default in known.items():
        raw = env.get(ENV_PREFIX + key.upper())
        if raw is not None:
            values[key] = _coerce(key, raw, default)

    settings = replace(base, **values)
    if settings.default_language not in LANGUAGES:
        raise SettingsError(f"setting 'default_language' must be one of {', '.join(LANGUAGES)}")
    if settings.tts_engine not in {"espeak", "gtts"}:
        raise SettingsError("setting 'tts_engine' must be espeak or gtts")
    if settings.redis_url and not settings.lockout_secret:
        # Each box would generate its own: their lockout counts in the shared Redis would never
        # meet, and the limits would be multiplied by the number of boxes.
        log.warning(
            "lockout_secret is not set while redis_url is: servers on other boxes sharing this "
            "Redis must be given one and the same TAMAS_LOCKOUT_SECRET"
        )
    return settings
