"""The `[broker]` table of site.toml: listeners, TLS, the city bridge, persistence."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from luot.config import Section, SiteConfig

HUB_BROKER_DIR = Path("/etc/luot/broker")  # where the hub's mosquitto.conf, passwd and acl are installed
HUB_PERSISTENCE_DIR = "/var/lib/luot-mosquitto"  # the StateDirectory= of the Mosquitto drop-in

# The hub's own processes (the dispatcher, its journal) connect on a loopback-only listener
# that does not bind client ids to users: the hub user has several connections. Devices
# come in through the LAN listeners, where the client id is the user name, so none can
# take the dispatcher's client id.
HUB_LOCAL_PORT = 1884

HUB_BROKER_USER = "mosquitto"  # Debian's Mosquitto drops to this user after binding its ports

@dataclass(frozen=True)
class Listener:
    port: int
    bind: str = "0.0.0.0"
    cafile: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    bind_client_ids: bool = True  # use_username_as_clientid: a device's client id is its name

@dataclass(frozen=True)
class Bridge:
    """A bridge that copies this hub's `state/…` and `event/…` out to a city broker."""

    host: str
    port: int = 8883
    username: str = ""
    password: str = ""
    tls: bool = True
    ca_file: str | None = None
    client_id: str = ""

@dataclass(frozen=True)
class TlsOptions:
    port: int
    bind: str
    ca_file: str
    cert_file: str
    key_file: str
    clients: bool  # whether the devices connect through TLS (their device.toml says so)

@dataclass(frozen=True)
class BrokerOptions:
    """The `[broker]` table of site.toml."""

    port: int = 1883
    bind: str = "0.0.0.0"
    persistence_dir: str = HUB_PERSISTENCE_DIR
    max_packet_size: int = 262144
    max_queued_messages: int = 5000
    tls: TlsOptions | None = None
    bridge: Bridge | None = None
    hub_port: int = HUB_LOCAL_PORT

    def listeners(self) -> list[Listener]:
        plain = [Listener(self.port, self.bind), Listener(self.hub_port, "127.0.0.1",
                                                          bind_client_ids=False)]
        if self.tls is None:
            return plain
        t = self.tls
        return [*plain, Listener(t.port, t.bind, t.ca_file, t.cert_file, t.key_file)]

    def device_endpoint(self) -> tuple[int, bool, str | None]:
        """(port, tls, ca_file on the hub) that devices use to reach this broker."""
        if self.tls is not None and self.tls.clients:
            return self.tls.port, True, self.tls.ca_file
        return self.port, False, None

def load_broker_options(site: SiteConfig) -> BrokerOptions:
    """Read and check `[broker]` of site.toml; a mistake names the file and the key."""
    with site.table("broker") as b:
        return _read_broker(b, site.id)


def _read_broker(b: Section, site_id: str) -> BrokerOptions:
    port = b.int("port", 1883, min=1, max=65535)
    bind = b.str("bind", "0.0.0.0")
    persistence_dir = b.str("persistence_dir", HUB_PERSISTENCE_DIR)
    if not persistence_dir.startswith("/"):
        b.problem("persistence_dir", f"expected an absolute path on the hub; got {persistence_dir!r}")
    max_packet_size = b.int("max_packet_size", 262144, min=8192, max=16 * 1024 * 1024)
    max_queued_messages = b.int("max_queued_messages", 5000, min=100, max=1_000_000)
    tls = None
    t = b.section("tls")  # read even when absent, so a misspelt table gets "did you mean"
    if t.data:
        tls = TlsOptions(
            port=t.int("port", 8883, min=1, max=65535),
            bind=t.str("bind", bind),
            ca_file=t.str("ca_file"),
            cert_file=t.str("cert_file"),
            key_file=t.str("key_file"),
            clients=t.bool("clients", False),
        )
        if tls.port == port:
            t.problem("port", f"the TLS listener cannot share port {port} with the plain one")
    bridge = None
    r = b.section("bridge")
    if r.data:
        tls_on = r.bool("tls", True)
        bridge = Bridge(
            host=r.str("host"),
            port=r.int("port", 8883 if tls_on else 1883, min=1, max=65535),
            username=r.str("username", site_id),
            password=r.str("password", ""),
            tls=tls_on,
            ca_file=r.str("ca_file", "/etc/ssl/certs/ca-certificates.crt" if tls_on else None),
            client_id=r.str("client_id", f"luot-{site_id}"),
        )
    return BrokerOptions(port, bind, persistence_dir, max_packet_size, max_queued_messages, tls, bridge)

def describe(options: BrokerOptions) -> dict[str, Any]:
    """A short summary for `luot check-site`."""
    return {
        "listener": f"{options.bind}:{options.port}",
        "tls": f"{options.tls.bind}:{options.tls.port}" if options.tls else None,
        "bridge": f"{options.bridge.host}:{options.bridge.port}" if options.bridge else None,
        "persistence": options.persistence_dir,
    }
