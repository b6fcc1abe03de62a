"""The Asterisk configuration Tamas runs with, rendered from settings and the menus' queues
and direct lines (pure text, no I/O).

The sandbox writes these files into the sid root's /etc/asterisk; a real deployment can render
them the same way (`tamas sandbox` is only one user of this module). Secrets come from
settings at render time and are never part of the repository. The dialplans themselves are
files (dialplans/); what in them would otherwise repeat a setting or the menus by hand comes
from here: the FastAGI address and the queue names as globals, the direct lines and the
desktop's context as `generated.conf`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tamas.asterisk import variables
from tamas.settings import Settings

# Only what Tamas uses is loaded (`autoload=no`): the stock Debian config autoloads everything
# and fills the log with voicemail/LDAP/DUNDi/stir-shaken errors, and starts slower.
MODULES: tuple[str, ...] = (
    # dialplan, channels and bridging
    "pbx_config.so",
    "chan_bridge_media.so",
    "bridge_simple.so",
    "bridge_builtin_features.so",
    "bridge_holding.so",
    "bridge_softmix.so",
    "res_timing_timerfd.so",
    # applications
    "res_agi.so",
    "res_speech.so",
    "app_queue.so",
    "app_originate.so",
    "app_amd.so",
    "app_senddtmf.so",
    "app_playback.so",
    "app_read.so",
    "app_record.so",
    "app_dial.so",
    "app_verbose.so",
    "app_echo.so",
    "app_stack.so",
    "app_exec.so",
    "app_playtones.so",
    "app_mixmonitor.so",
    "app_userevent.so",
    "app_waituntil.so",
    "app_waitforsilence.so",  # a campaign's message left after a machine's greeting and beep
    "app_chanspy.so",
    "res_musiconhold.so",
    # dialplan functions
    "func_callerid.so",
    "func_channel.so",
    "func_logic.so",
    "func_strings.so",
    "func_math.so",
    "func_cut.so",
    "func_global.so",
    "func_db.so",
    "func_env.so",
    "func_uri.so",
    "func_timeout.so",
    "func_hangupcause.so",
    "func_volume.so",
    "func_dialplan.so",
    "res_stasis.so",
    # codecs and file formats Tamas's prompts use: wav (8 kHz slin), sln, gsm, ulaw/alaw
    "codec_ulaw.so",
    "codec_alaw.so",
    "codec_gsm.so",
    "codec_resample.so",
    "codec_a_mu.so",
    "format_wav.so",
    "format_wav_gsm.so",
    "format_gsm.so",
    "format_pcm.so",
    "format_sln.so",
    # the manager, and call records published over it
    "res_manager_devicestate.so",
    "res_manager_presencestate.so",
    "cdr_manager.so",
    "cel_manager.so",
    "res_clioriginate.so",
    "res_convert.so",
    # fax (dialplans/fax.conf): SendFAX/ReceiveFAX and FAXOPT(), G.711 audio through spandsp
    "res_fax.so",
    "res_fax_spandsp.so",
)


# Asterisk writing CEL and CDR straight into Tamas's PostgreSQL (asterisk_cel, asterisk_cdr),
# loaded only when the database is PostgreSQL (see records_to_postgresql).
POSTGRESQL_RECORD_MODULES = ("cdr_pgsql.so", "cel_pgsql.so")


def modules_conf(available: set[str] | None = None, settings: Settings | None = None) -> str:
    """`available` filters out modules this Asterisk build does not ship (sid moves)."""
    lines = [
        "; Written by tamas (tamas/asterisk/config.py); edits are overwritten.",
        "[modules]",
        "autoload=no",
    ]
    extra = POSTGRESQL_RECORD_MODULES if settings and records_to_postgresql(settings) else ()
    for module in (*MODULES, *extra):
        if available is None or module in available:
            lines.append(f"load => {module}")
    return "\n".join(lines) + "\n"


def manager_conf(settings: Settings) -> str:
    # Loopback only, one user. A real deployment narrows read/write to what it uses.
    return (
        "; Written by tamas from its settings; edits are overwritten.\n"
        "[general]\n"
        "enabled = yes\n"
        f"port = {settings.ami_port}\n"
        f"bindaddr = {settings.ami_host}\n"
        "displayconnects = no\n"
        "timestampevents = yes\n"
        "\n"
        f"[{settings.ami_username}]\n"
        f"secret = {settings.effective_ami_secret}\n"
        "deny = 0.0.0.0/0.0.0.0\n"
        "permit = 127.0.0.1/255.255.255.255\n"
        "read = all\n"
        "write = all\n"
        "writetimeout = 5000\n"
    )


def agi_url(settings: Settings) -> str:
    """Where Asterisk finds our FastAGI server (a wildcard listen address means loopback)."""
    host = settings.fastagi_host
    if host in {"0.0.0.0", "::", ""}:
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"agi://{host}:{settings.fastagi_port}"


@dataclass(frozen=True)
class Lines:
    """What the dialplan needs from the menus (ivr/menus.yaml): the queues, and a direct line
    (extension -> service) for each service of the main menu."""

    default_queue: str = "support"
    priority_queue: str = "priority"
    direct: Mapping[str, str] = field(default_factory=dict)


# The file of generated contexts, beside the copies of dialplans/*.conf.
GENERATED_DIALPLAN = "generated.conf"
# dialplans/desktop.conf's context, which the one named by the desktop_context setting includes.
DESKTOP_DIAL_CONTEXT = "tamas-desktop-dial"


def direct_lines(main_menu: Mapping[str, str | None], first: int = 201) -> dict[str, str]:
    """A direct line per service of the main menu: key 1 is extension 201, key 9 is 209
    (keys that are not 1-9, and options that open a sub-menu, get none)."""
    return {
        str(first + int(key) - 1): service
        for key, service in sorted(main_menu.items())
        if service and key.isdigit() and 1 <= int(key) <= 9
    }


def generated_conf(settings: Settings, lines: Lines) -> str:
    """The contexts whose names or extensions come from settings and the menus."""
    text = [
        "; Written by tamas from its settings and ivr/menus.yaml; edits are overwritten.",
        "",
        "; Direct lines (tamas-ivr includes them): the caller goes straight to one service.",
        "[tamas-ivr-lines]",
    ]
    for extension, service in lines.direct.items():
        text += [
            f"exten => {extension},1,Set({variables.LINE}={service})",
            " same => n,Goto(tamas-ivr-line,s,1)",
        ]
    text += [
        "",
        "; Where the agent desktop's transfers and click-to-call dial (setting desktop_context).",
        f"[{settings.desktop_context}]",
        f"include => {DESKTOP_DIAL_CONTEXT}",
        "",
    ]
    return "\n".join(text)


def extensions_conf(
    settings: Settings, dialplan_files: list[str], lines: Lines | None = None
) -> str:
    """The entry dialplan: globals our contexts read, then every file of dialplans/."""
    lines = lines or Lines()
    text = [
        "; Written by tamas; the contexts themselves live in the repository's dialplans/.",
        "[general]",
        "static = yes",
        "writeprotect = yes",
        "clearglobalvars = no",
        "",
        "[globals]",
        # Every AGI() in dialplans/ is written as AGI(${TAMAS_AGI}/route,...), so the FastAGI
        # address comes from settings and no .conf file hard-codes a port.
        f"{variables.AGI} = {agi_url(settings)}",
        f"{variables.DEFAULT_QUEUE} = {lines.default_queue}",
        f"{variables.PRIORITY_QUEUE} = {lines.priority_queue}",
        # Where dialplans/fax.conf writes received faxes (as Asterisk sees the path).
        f"{variables.FAX_SPOOL} = {settings.fax_asterisk_spool_dir}",
        "",
    ]
    text += [f"#include tamas/{name}" for name in dialplan_files]
    return "\n".join(text) + "\n"


SCENARIO_QUEUE = "scenario"
SCENARIO_AGENTS = ("191", "192")
# The dialer's campaigns (setting dialer_queue), with agents of their own: a person a campaign
# reached must get an agent within 2 s, which agents shared with inbound calls cannot promise.
CAMPAIGN_QUEUE = "campaigns"
CAMPAIGN_AGENTS = ("121", "122")


def queues_conf(lines: Lines | None = None) -> str:
    # Agents are Local channels answered by the tamas-agents context, so queue calls, popups
    # and wallboards can be tested with no phones. `/n` keeps the Local pair from being
    # optimized away, so AgentConnect/BridgeEnter events stay observable.
    lines = lines or Lines()
    members = {lines.default_queue: ("101", "102"), lines.priority_queue: ("103",)}
    # A queue of its own for the supervisors' scripted scenario (tests/supervisor_scenario.py),
    # so its figures are not mixed with other tests' calls into the queues above.
    members[SCENARIO_QUEUE] = SCENARIO_AGENTS
    members[CAMPAIGN_QUEUE] = CAMPAIGN_AGENTS
    text = [
        "; Written by tamas; the sandbox's queues with Local-channel agents.",
        "[general]",
        "persistentmembers = no",
        "shared_lastcall = yes",
        "log_membername_as_agent = yes",
        "",
    ]
    for queue, agents in members.items():
        text += [
            f"[{queue}]",
            "strategy = ringall" if queue == lines.default_queue else "strategy = rrmemory",
            "timeout = 15",
            "retry = 2",
            "wrapuptime = 0",
            "servicelevel = 20",
            "joinempty = yes",
            "leavewhenempty = no",
            "ringinuse = no",
            "announce-frequency = 0",
            "musicclass = default",
            # MEMBERINTERFACE on the caller's channel once an agent answers: how the dialplan
            # and the call's record tell an answered call from one that gave up.
            "setinterfacevar = yes",
        ]
        if queue == CAMPAIGN_QUEUE:
            # Every waiting person rings a free agent at once, not only the first in line:
            # the 2 s a campaign call may wait leave no time to queue behind another.
            text.append("autofill = yes")
        for agent in agents:
            text.append(
                f"member => Local/{agent}@tamas-agents/n,0,Agent {agent},Local/{agent}@tamas-agents"
            )
        text.append("")
    return "\n".join(text)


def logger_conf() -> str:
    return (
        "; Written by tamas.\n"
        "[general]\n"
        "dateformat = %F %T.%3q\n"
        "queue_log = yes\n"
        "[logfiles]\n"
        "messages => notice,warning,error,verbose(3)\n"
        "console => notice,warning,error\n"
    )


def musiconhold_conf() -> str:
    # The sandbox has no MOH package; it copies a core sound into /var/lib/asterisk/moh so
    # queue callers hear something and the class exists.
    return "; Written by tamas.\n[default]\nmode = files\ndirectory = /var/lib/asterisk/moh\n"


def cdr_conf() -> str:
    return "; Written by tamas.\n[general]\nenable = yes\n[manager]\nenabled = yes\n"


def cel_conf() -> str:
    return (
        "; Written by tamas.\n[general]\nenable = yes\napps = all\nevents = ALL\n"
        "[manager]\nenabled = yes\n"
    )


def records_to_postgresql(settings: Settings) -> dict[str, str]:
    """cel_pgsql.conf and cdr_pgsql.conf pointing Asterisk at Tamas's own database, when it
    is PostgreSQL (else nothing: SQLite has no server Asterisk could write to). The
    supervisors' ingester reads asterisk_cel from there (supervisors/ingest.py)."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.effective_database_url)
    if url.get_backend_name() != "postgresql":
        return {}
    connection = [
        f"hostname={url.host or '127.0.0.1'}",
        f"port={url.port or 5432}",
        f"dbname={url.database}",
        f"user={url.username or 'postgres'}",
    ]
    if url.password:
        connection.append(f"password={url.password}")
    common = "\n".join(["; Written by tamas from its database_url.", "[global]", *connection])
    return {
        "cel_pgsql.conf": common + "\ntable=asterisk_cel\nappname=asterisk-cel\n",
        "cdr_pgsql.conf": common + "\ntable=asterisk_cdr\nencoding=UTF8\n",
    }
