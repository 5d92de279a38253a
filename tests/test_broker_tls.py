"""The optional TLS listener: a CA and a hub certificate made here with openssl, the
listener from `[broker.tls]`, devices provisioned to use it, and the check over TLS."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import SITE_FILE

from broker_config import load_broker_options, site_roles, updater_users
from luot.config import load_device, load_site
from provisioning.__main__ import main
from provisioning.probe import connect_reason
from testbed.broker import Mosquitto, free_port

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


def openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A centre CA and a hub certificate for 127.0.0.1 signed by it (EC keys: fast)."""
    ca_key, ca, key, csr, cert = (folder / n for n in ("ca.key", "ca.crt", "hub.key", "hub.csr", "hub.crt"))
    curve = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *curve, "-keyout", str(ca_key), "-out", str(ca), "-days", "2",
            "-subj", "/CN=Luot test centre CA")
    openssl("req", "-new", *curve, "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    ext = folder / "san.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
            "-out", str(cert), "-days", "2", "-extfile", str(ext))
    key.chmod(0o600)
    return ca, cert, key


def test_devices_provisioned_for_tls_connect_through_it(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    ca, cert, key = make_certificates(tmp_path)
    tls_port = free_port()
    site_file = tmp_path / "site.toml"
    site_file.write_text(SITE_FILE.read_text() + f"""
[network]
hub_host = "127.0.0.1"

[broker]
bind = "127.0.0.1"
[broker.tls]
port = {tls_port}
ca_file = "{ca}"
cert_file = "{cert}"
key_file = "{key}"
clients = true
""")
    site = load_site(site_file)
    options = load_broker_options(site)
    out = tmp_path / "bundles"
    assert main(["bundle", "--site", str(site_file), "--out", str(out)]) == 0
    assert (out / "kiosk-1/ca.crt").read_text() == ca.read_text()
    device_toml = (out / "kiosk-1/device.toml").read_text()
    assert f"port = {tls_port}\n" in device_toml and 'tls = true\nca_file = "/etc/luot/ca.crt"' in device_toml

    # The hub's users and ACL as the bundle makes them: every device and each Pi's updater.
    broker = Mosquitto(tmp_path / "broker", site.id, site_roles(site), updaters=updater_users(site),
                       persistence=False, extra_listeners=tuple(options.listeners()[1:]))
    shutil.copy(out / "hub/broker/passwd", broker.files.password_file)
    broker.start()
    try:
        here = out / "kiosk-1/here.toml"
        here.write_text(device_toml.replace("/etc/luot/kiosk.password", str(out / "kiosk-1/password"))
                        .replace("/etc/luot/ca.crt", str(out / "kiosk-1/ca.crt")))
        device = load_device(here)
        b = device.broker
        assert connect_reason(b.host, b.port, b.username, b.password, tls=True, ca_file=b.ca_file) == 0
        with pytest.raises(TimeoutError):  # plain MQTT on the TLS port gets no CONNACK
            connect_reason(b.host, b.port, b.username, b.password, timeout=1.0)
        capsys.readouterr()
        assert main(["check", "--site", str(site_file), "--out", str(out)]) == 0
        assert "all as granted" in capsys.readouterr().out
    finally:
        broker.stop()


def test_tls_for_devices_needs_the_ca_certificate_here(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    site_file = tmp_path / "site.toml"
    site_file.write_text(SITE_FILE.read_text() + """
[broker.tls]
ca_file = "/nonexistent/ca.crt"
cert_file = "/etc/luot/tls/hub.crt"
key_file = "/etc/luot/tls/hub.key"
clients = true
""")
    assert main(["bundle", "--site", str(site_file), "--out", str(tmp_path / "out")]) == 2
    text = capsys.readouterr().out
    assert "broker.tls.ca_file:" in text and "/nonexistent/ca.crt cannot be read here" in text
