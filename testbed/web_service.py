"""The hub's web service in a thread of this process, on a free loopback port, for tests.

The same `web.app.serve` as `luot web`, with the same broker credentials a web device has;
`web_table` writes the `[web]` table for running it as its own process (`luot web`).
"""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path

from luot.config import BrokerSettings
from web.app import serve
from web.hub import HubWatch
from web.service import WebService
from web.users import LoginGuard, Sessions, Users

TICKET_KEY = "a test key of thirty-two letters"


def web_table(users_file: Path, *, port: int, ticket_key: str = TICKET_KEY) -> str:
    return (f'[web]\nlisten = "127.0.0.1"\nport = {port}\npublic_url = "http://127.0.0.1:{port}"\n'
            f'users_file = {json.dumps(str(users_file))}\nticket_key = {json.dumps(ticket_key)}\n')


class WebThread:
    def __init__(self, broker: BrokerSettings, site: str, users_file: Path, *, device_id: str = "web",
                 ticket_key: str = TICKET_KEY, guard: LoginGuard | None = None, port: int = 0) -> None:
        self.hub = HubWatch(broker, device_id=device_id, site=site)
        self.service = WebService(self.hub, site, ticket_key.encode(), Users.load(users_file),
                                  Sessions(), guard or LoginGuard())
        self.port = port
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="web", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> str:
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the web service did not start listening")
        if not self.hub.link.wait_connected(timeout):
            raise RuntimeError("the web service could not connect to the broker")
        return self.url

    def _run(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()

            def ready(port: int) -> None:
                self.port = port
                self._ready.set()

            await serve(self.service, "127.0.0.1", self.port, self._stop, ready)

        asyncio.run(main())

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)
