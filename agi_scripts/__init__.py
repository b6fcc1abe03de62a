"""Entry points Asterisk calls: the FastAGI server (one asyncio process for every call) and a
process-AGI script for a single small box. Both hand the channel to `ivr`."""
