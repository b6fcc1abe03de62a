"""Transport only: the AGI protocol (`channel.py`), the FastAGI server (`fastagi.py`) and the
process-AGI entry (`process_agi.py`). Nothing here knows a menu or a database: the command that
starts a server composes the routes (tamas/agi.py, ivr/process.py)."""
