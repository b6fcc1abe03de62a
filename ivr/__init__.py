"""The inbound voice menus: declarative menu definitions and the logic that runs a caller
through them, independent of how Asterisk is reached (FastAGI or process AGI)."""
