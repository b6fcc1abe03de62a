"""Outbound campaigns: who to call, when it is allowed, and pacing calls through AMI."""
