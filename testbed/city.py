"""A hub linked to the city: its own Mosquitto bridged to one node of the cluster, the
real dispatcher and its journal publisher, for the city tests and `bench.city`.

The bridge goes through a cuttable TCP proxy, so a drill can cut one hub's uplink
without touching its LAN or the cluster.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from aiohttp import web

from broker_config import Bridge
from city.collector import ClusterSettings, Endpoint
from dispatcher.journal import JournalPublisher
from dispatcher.service import Dispatcher
from luot.config import SiteConfig
from testbed.broker import Mosquitto, free_port
from testbed.proxy import TcpProxy
from testbed.rabbitmq import RabbitCluster


def cluster_settings(cluster: RabbitCluster, *, first: int = 0) -> ClusterSettings:
    """Every node of `cluster`, starting with node `first`."""
    ports = cluster.mqtt_ports[first:] + cluster.mqtt_ports[:first]
    return ClusterSettings(tuple(Endpoint(cluster.host, port) for port in ports),
                           cluster.username, cluster.password)


def site_named(site: SiteConfig, site_id: str) -> SiteConfig:
    """The same centre under another id: a city of identical centres."""
    return dataclasses.replace(site, id=site_id)


class LinkedHub:
    """One centre's hub whose bridge reaches `cluster` node `node` through a proxy."""

    def __init__(self, workdir: Path, site: SiteConfig, cluster: RabbitCluster, *, node: int = 0,
                 clock: Callable[[], datetime] | None = None, bridge_id: str | None = None,
                 max_queued_messages: int = 5000) -> None:
        self.site = site
        self.cluster = cluster
        self.uplink = TcpProxy(cluster.host, cluster.mqtt_ports[node])
        bridge = Bridge(self.uplink.host, self.uplink.port, cluster.username, cluster.password, tls=False,
                        client_id=bridge_id or f"luot-{site.id}")
        roles = {d.id: d.role for d in site.devices}
        self.broker = Mosquitto(workdir / "broker", site.id, roles, bridge=bridge,
                                max_queued_messages=max_queued_messages)
        self.database = workdir / "luot.db"
        self.clock = clock
        self.dispatcher: Dispatcher | None = None
        self.journal: JournalPublisher | None = None

    def start(self) -> None:
        self.uplink.start()
        self.broker.start()
        self.dispatcher = Dispatcher(self.site, self.database, self.broker.settings("hub"), clock=self.clock)
        self.dispatcher.start()
        self.journal = JournalPublisher(self.site.id, self.database, self.broker.settings("hub"))
        self.journal.start()

    def stop(self) -> None:
        if self.journal is not None:
            self.journal.stop()
        if self.dispatcher is not None:
            self.dispatcher.stop()
        self.broker.stop()
        self.uplink.stop()


class ServedApp:
    """An aiohttp application served on a free loopback port from a thread of its own."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._serve()), daemon=True)

    async def _serve(self) -> None:
        runner = web.AppRunner(self.app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self._ready.set()
        while not self._stop.is_set():
            await asyncio.sleep(0.05)
        await runner.cleanup()

    def __enter__(self) -> ServedApp:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the web application did not start")
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(10)
