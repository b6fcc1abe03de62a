"""When Asterisk stops under a dialer worker: its `Shutdown` event, the AMI connection lost
(seen as the client logging in again). A call that ends around such a moment was cut by us, not
by the person, and is settled as Tamas's own failure (`failed`), its target due again at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tamas.asterisk.ami import AmiClient

# How long after a call's end the outage that cut it may show: Asterisk hangs its channels up
# first and sends `Shutdown` (then drops the connection) once they are gone.
GRACE = timedelta(seconds=1.5)


class OutageWatch:
    """Remembers the last moment Asterisk was seen stopping or the AMI connection came back."""

    def __init__(
        self, ami: AmiClient, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.ami = ami
        self.clock = clock
        self.last_seen: datetime | None = None
        # Down since a Shutdown event and not logged in again since: claim nothing.
        self.shutting_down = False
        ami.on_event("Shutdown", self._on_shutdown)
        ami.on_connect(self._on_connect)

    def close(self) -> None:
        self.ami.remove_listener("Shutdown", self._on_shutdown)

    def up(self) -> bool:
        """Asterisk can take calls now: connected, and not shutting down."""
        return self.ami.connected and not self.shutting_down

    def since(self, at: datetime) -> bool:
        """Whether Asterisk stopped, or the connection to it was lost, at or after `at` (or is
        down now)."""
        if not self.up():
            return True
        return self.last_seen is not None and self.last_seen >= at

    def _on_shutdown(self, _event: Mapping[str, Any]) -> None:
        self.shutting_down = True
        self.last_seen = self.clock()

    def _on_connect(self, _ami: AmiClient) -> None:
        # The worker is made once its client is logged in: a login after that means the
        # connection had been lost (Asterisk restarted, or the network between us).
        self.shutting_down = False
        self.last_seen = self.clock()
