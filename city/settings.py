"""`/etc/luot/city.toml`: where the city's servers find the broker cluster and PostgreSQL.

    [cluster]
    nodes = ["10.1.0.11:8883", "10.1.0.12:8883", "10.1.0.13:8883"]
    username = "luot-city"
    password = "…"
    ca_file = "/etc/luot/city-ca.pem"   # TLS to the cluster; leave out for plain MQTT

    [database]
    dsn = "host=/var/run/postgresql dbname=luot_city"

    [collector]
    name = "collector-1"                # each collector its own: its session in the cluster

    [web]
    bind = "127.0.0.1"
    port = 8090
    name = "Thành phố Đà Nẵng"

    [[portal.centres]]                  # a number from home at this centre (leave out: no portal)
    id = "phuong-hai-chau"              # the site id; its site.toml lists a device `portal`, role kiosk
    name = "Phường Hải Châu"
    citizen_secret = "…"                # the centre's kiosks' citizen_secret
    services = [["CT", "Chứng thực"], ["HT", "Hộ tịch"]]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from city.collector import ClusterSettings, Endpoint
from city.portal import PortalCentre
from luot.config import ConfigError, open_toml

DEFAULT_FILE = Path("/etc/luot/city.toml")


@dataclass(frozen=True)
class CitySettings:
    cluster: ClusterSettings
    dsn: str
    collector_name: str
    bind: str
    port: int
    city_name: str
    centres: tuple[PortalCentre, ...]


def _endpoint(file: Path) -> Callable[[Any, str], Endpoint]:
    def read(value: Any, key: str) -> Endpoint:
        endpoint = Endpoint.parse(value) if isinstance(value, str) else None
        if endpoint is None:
            raise ConfigError(file, key, f"expected \"host:port\", got {value!r}")
        return endpoint

    return read


def _service(file: Path) -> Callable[[Any, str], tuple[str, str]]:
    def read(value: Any, key: str) -> tuple[str, str]:
        if not isinstance(value, list) or len(value) != 2 or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(file, key, f"expected [\"code\", \"name\"], got {value!r}")
        return value[0], value[1]

    return read


def load_city(path: Path = DEFAULT_FILE) -> CitySettings:
    """Read and check city.toml; every mistake reported at once with its line."""
    with open_toml(path) as top:
        c = top.section("cluster", required=True)
        nodes = c.list("nodes", _endpoint(path))
        if not nodes:
            c.problem("nodes", "expected at least one \"host:port\"")
        cluster = ClusterSettings(tuple(nodes), c.str("username"), c.str("password"),
                                  c.str("ca_file", None))
        dsn = top.section("database", required=True).str("dsn")
        name = top.section("collector").str("name", "collector-1")
        w = top.section("web")
        bind, port = w.str("bind", "127.0.0.1"), w.int("port", 8090, min=1, max=65535)
        city_name = w.str("name", "Thành phố")
        centres = []
        for c in top.section("portal").sections("centres"):
            secret = c.str("citizen_secret")
            if len(secret) < 16:
                c.problem("citizen_secret", "expected the centre's kiosks' secret (16 characters or more)")
            services = tuple(c.list("services", _service(path)))
            centres.append(PortalCentre(c.str("id"), c.str("name"), secret, services))
    return CitySettings(cluster, dsn, name, bind, port, city_name, tuple(centres))
