"""Fixtures: a real Mosquitto on a free loopback port with the project's generated
configuration, the real dispatcher, and device links with their own credentials."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import SITE_FILE, WEB_PASSWORDS, FakeClock, wait_for
from queue_rig import MONDAY_9AM

from dispatcher.service import Dispatcher
from luot.config import SiteConfig, load_site
from luot.mqtt import HubLink, make_paho_client, unique_client_id
from provisioning.bundle import make_bundles
from testbed.broker import Mosquitto
from testbed.browser import start_chromium
from testbed.postgres import Postgres
from testbed.rabbitmq import RabbitCluster, apply_city_policies, rabbitmq_installed
from web.users import set_password

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


@pytest.fixture(scope="session")
def site() -> SiteConfig:
    return load_site(SITE_FILE)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where tests save screenshots and tickets for a person to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def chrome() -> Iterator[Any]:
    """One headless Chromium for the whole session (Debian's, through chromium-driver);
    each test opens its own pages in it."""
    driver = start_chromium()
    yield driver
    driver.quit()


@pytest.fixture(scope="session")
def web_users(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The web service's users file: the leader and two officers, hashed as on a hub."""
    path = tmp_path_factory.mktemp("web") / "web-users"
    for user, password in WEB_PASSWORDS.items():
        set_password(path, user, password)
    return path


@pytest.fixture
def broker(tmp_path: Path, site: SiteConfig) -> Iterator[Mosquitto]:
    roles = {d.id: d.role for d in site.devices}
    mosquitto = Mosquitto(tmp_path / "broker", site.id, roles)
    mosquitto.start()
    yield mosquitto
    mosquitto.stop()


@pytest.fixture
def dispatcher(broker: Mosquitto, site: SiteConfig, tmp_path: Path) -> Iterator[Dispatcher]:
    hub = Dispatcher(site, tmp_path / "luot.db", broker.settings("hub"))
    hub.start()
    wait_for(lambda: hub.client.is_connected() and hub.batches > 0, what="the dispatcher")
    yield hub
    hub.stop()


@pytest.fixture
def connect(broker: Mosquitto, site: SiteConfig) -> Iterator[Callable[..., HubLink]]:
    """`connect("quay-1")`: a started HubLink for that device, with config received."""
    links: list[HubLink] = []

    def make(device_id: str, *, wait_config: bool = True) -> HubLink:
        link = HubLink(broker.settings(device_id), device_id=device_id, site=site.id)
        links.append(link)
        link.start()
        assert link.wait_connected(5), f"{device_id} could not connect"
        if wait_config:
            wait_for(lambda: link.state("config"), what=f"config at {device_id}")
        return link

    yield make
    for link in links:
        link.stop()


# ---------------------------------------------------------------------------- the city tier
# One three-node RabbitMQ cluster and one PostgreSQL per test session: the cluster takes
# about half a minute to boot, so every city test shares it (each with its own database
# and its own client ids).


@pytest.fixture(scope="session")
def rabbit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitCluster]:
    if not rabbitmq_installed():
        pytest.fail("rabbitmq-server is not installed: make system installs it")
    cluster = RabbitCluster(tmp_path_factory.mktemp("rabbitmq"))
    try:
        cluster.start()
        apply_city_policies(cluster)
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    server = Postgres()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def city_db(postgres: Postgres, request: pytest.FixtureRequest) -> str:
    """A fresh database of the session's PostgreSQL for one test; its DSN."""
    return postgres.new_database(request.node.name)


@pytest.fixture
def display() -> Iterator[None]:
    """pygame's display (the dummy driver) for tests that draw a kiosk's screens."""
    import pygame

    pygame.display.init()
    yield
    pygame.display.quit()


@pytest.fixture
def health_reader(broker, site):
    """The admin's view of `device/<id>/health` (devices cannot read each other's)."""
    seen: dict[str, dict] = {}
    client = make_paho_client(broker.settings("admin"), unique_client_id("admin", "health"))
    client.on_connect = lambda c, *_: c.subscribe(f"luot/{site.id}/device/+/health", qos=0)

    def on_message(_c, _u, msg) -> None:
        seen[msg.topic.split("/")[-2]] = json.loads(msg.payload)

    client.on_message = on_message
    client.connect(broker.host, broker.port)
    client.loop_start()
    yield seen
    client.disconnect()
    client.loop_stop()


# ---------------------------------------------------------------------------- the kiosk

@pytest.fixture
def dummy_printer() -> tuple[Any, Any]:
    """python-escpos' Dummy printer and the kiosk's printer around it."""
    from escpos.printer import Dummy

    from kiosk.printer import EscposPrinter

    dummy = Dummy(profile="TM-T88V")
    return dummy, EscposPrinter(lambda: dummy, "TM-T88V", "dummy://")


@pytest.fixture
def kiosk(display: None, dispatcher: Any, connect: Callable[..., HubLink],
          dummy_printer: Any) -> Iterator[Any]:
    """kiosk-1 on the dummy screen with the Dummy printer, against the real dispatcher."""
    from kiosk_rig import Kiosk

    link = connect("kiosk-1")
    wait_for(lambda: link.hub_online, what="the dispatcher online at the kiosk")  # else fields are greyed
    made = Kiosk(link, dummy_printer[1])
    yield made
    made.stop()


# ---------------------------------------------------------------------------- the display

@pytest.fixture
def centre(tmp_path: Path) -> Iterator[Callable[..., Any]]:
    """`centre(n)`: a whole centre of `n` counters, its broker and dispatcher started."""
    from display_rig import Centre

    from dispatcher.service import Dispatcher
    from luot.config import load_site
    from testbed.sample_site import write_site

    made: list[Centre] = []

    def make(counters: int, **site_options: object) -> Centre:
        site = load_site(write_site(tmp_path / f"site-{len(made)}", counters, **site_options))
        broker = Mosquitto(tmp_path / f"broker-{len(made)}", site.id, {d.id: d.role for d in site.devices})
        broker.start()
        hub = Dispatcher(site, tmp_path / f"luot-{len(made)}.db", broker.settings("hub"))
        hub.start()
        wait_for(lambda: hub.client.is_connected() and hub.batches > 0, what="the dispatcher")
        made.append(Centre(site, broker, hub))
        return made[-1]

    yield make
    for c in made:
        for link in c.links:
            link.stop()
        c.hub.stop()
        c.broker.stop()


@pytest.fixture(scope="module")
def voice_pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default espeak-ng pack, with the site's own short chime (a replaced clip)."""
    from display.voice import build_voice_pack, synth_chime
    from luot.speech import CHIME

    folder = tmp_path_factory.mktemp("voice")
    synth_chime(folder / f"{CHIME}.wav", rate=22050)
    build_voice_pack(folder, keep_existing=True)
    return folder


@pytest.fixture
def mixer() -> Iterator[None]:
    import pygame

    pygame.mixer.init(frequency=22050, size=-16, channels=1)
    yield
    pygame.mixer.quit()


@pytest.fixture
def clock() -> FakeClock:
    """The queue-rule tests' clock, a Monday at 9:00 (test_web has its own `clock`)."""
    return FakeClock(MONDAY_9AM)


@pytest.fixture
def devices(tmp_path: Path) -> dict[str, Path]:
    """The bundles' device.toml files, pointing at their password files in the bundle."""
    out = tmp_path / "bundles"
    make_bundles(SITE_FILE, out)
    found = {}
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        text = re.sub(r"/etc/luot/\w+\.password", str(folder / "password"),
                      (folder / "device.toml").read_text())
        (folder / "here.toml").write_text(text)
        found[folder.name] = folder / "here.toml"
    return found
