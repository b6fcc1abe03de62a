"""The channel variables Tamas and its dialplans (dialplans/) pass each other: one name each,
so a rename is one edit here and in the .conf file that reads it. Standard library only: the
sandbox's own python3 imports it for process AGI."""

from __future__ import annotations

# Globals the generated extensions.conf sets (tamas/asterisk/config.py).
AGI = "TAMAS_AGI"  # agi://host:port of the FastAGI server; every AGI() starts with it
TRUNK = "TAMAS_TRUNK"  # the trunk desktop calls go out through (empty in the sandbox)
DEFAULT_QUEUE = "TAMAS_DEFAULT_QUEUE"  # ivr/menus.yaml queues.default
PRIORITY_QUEUE = "TAMAS_PRIORITY_QUEUE"  # ivr/menus.yaml queues.priority

# The IVR's hand-off to the queue (ivr/services/agent.py → dialplans/ivr.conf). NEXT is set
# last: the dialplan reads it to decide, so everything else must be in place by then.
NEXT = "TAMAS_NEXT"
QUEUE = "TAMAS_QUEUE"
QUEUE_PRIORITY = "QUEUE_PRIO"  # Asterisk's own: the caller's position priority in Queue()
SURVEY = "TAMAS_SURVEY"
LANGUAGE = "TAMAS_LANGUAGE"
IDENTIFIED = "TAMAS_IDENTIFIED"  # pin, number (a caller-ID match: spoofable) or no
CUSTOMER_ID = "TAMAS_CUSTOMER_ID"
TIER = "TAMAS_TIER"
PATH = "TAMAS_PATH"
LOOKED_UP = "TAMAS_LOOKED_UP"
# The direct line (201-209) the caller dialled: the service the IVR starts with.
LINE = "TAMAS_LINE"

# The menu or direct-line service the caller is in now (ivr/engine.py sets it on entering
# each): the wallboard counts callers per menu from Asterisk's VarSet events.
MENU = "TAMAS_MENU"

# A campaign call (dialer/originate.py → dialplans/outbound.conf): the person's number, the
# campaign's mode, its queue, how long an answered person waits for an agent (the 2 s of the
# abandon rules) and after pressing 1, and what to do on an answering machine.
PERSON = "TAMAS_PERSON"
MODE = "TAMAS_MODE"
CAMPAIGN_QUEUE = "TAMAS_CAMPAIGN_QUEUE"
AGENT_WAIT_S = "TAMAS_AGENT_WAIT_S"
QUEUE_WAIT_S = "TAMAS_QUEUE_WAIT_S"
ON_MACHINE = "TAMAS_ON_MACHINE"

# Supervisors' actions (supervisors/actions.py → dialplans/supervisors.conf): the ChanSpy
# target and mode, and the queue a waiting caller is moved to.
SPY = "TAMAS_SPY"
MOVE_QUEUE = "TAMAS_MOVE_QUEUE"

# The agent desktop's click-to-call: the agent whose phone rings first.
AGENT = "TAMAS_AGENT"

# The simulated caller of a test call (dialplans/caller.conf): keys to send, seconds to wait
# before the first, seconds to stay on the line after the last.
DTMF = "TAMAS_DTMF"
WAIT_S = "TAMAS_WAIT_S"
HOLD_S = "TAMAS_HOLD_S"

# The keys the process-AGI `keys` route read (dialplans/inbound.conf, extension 190).
KEYS = "TAMAS_KEYS"

# Fax (dialplans/fax.conf, integrations/messaging/fax_asterisk.py): the spool folder as
# Asterisk sees it (a global), and what the Originate of a fax tells tamas-fax-send.
FAX_SPOOL = "TAMAS_FAX_SPOOL"
FAX_ID = "TAMAS_FAX_ID"
FAX_FILE = "TAMAS_FAX_FILE"
FAX_MAXRATE = "TAMAS_FAX_MAXRATE"
FAX_MODEMS = "TAMAS_FAX_MODEMS"
FAX_ECM = "TAMAS_FAX_ECM"
FAX_STATION = "TAMAS_FAX_STATION"
FAX_HEADER = "TAMAS_FAX_HEADER"
FAX_DIRECTION = "TAMAS_FAX_DIRECTION"  # send or receive, in the TamasFax report
# Calls the sandbox's flaky far end has taken (tamas-fax-flaky; the retries' test resets it).
FAX_FLAKY_CALLS = "TAMAS_FAX_FLAKY_CALLS"
