"""Tell the hub how a device's first boot went, before Lượt (or paho) is installed on it.

Copied to the boot partition as `luot/report-install.py` and run by `firstboot.sh` with
the Pi's own python3 and nothing else: the standard library speaks just enough MQTT v5
(CONNECT, one retained QoS 1 PUBLISH per topic, PUBACK, DISCONNECT) to leave the state
where `luot admin status` and the technician's laptop see it.

    python3 report-install.py failed "reason" DEVICE.toml STATUS_TOPIC INSTALL_TOPIC [...]
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import struct
import sys
import time
import tomllib
from pathlib import Path

TIMEOUT_S = 5.0
FAILED_STATUS = b"install-failed"


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def utf8(text: str) -> bytes:
    data = text.encode()
    return struct.pack("!H", len(data)) + data


def packet(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + varint(len(body)) + body


def read_packet(sock: socket.socket) -> tuple[int, bytes]:
    def exact(n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("the broker closed the connection")
            data += chunk
        return data

    kind = exact(1)[0]
    length, shift = 0, 0
    while True:
        byte = exact(1)[0]
        length += (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return kind, exact(length)


def connect(host: str, port: int, user: str, password: str, ca_file: str | None) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=TIMEOUT_S)
    if ca_file:
        sock = ssl.create_default_context(cafile=ca_file).wrap_socket(sock, server_hostname=host)
    client_id = f"{user}-install-{os.urandom(4).hex()}"
    flags = 0x80 | 0x40 | 0x02  # user name, password, clean start
    body = utf8("MQTT") + bytes([5, flags]) + struct.pack("!H", 30) + varint(0)
    body += utf8(client_id) + utf8(user) + utf8(password)
    sock.sendall(packet(0x10, body))
    kind, reply = read_packet(sock)
    if kind >> 4 != 2 or len(reply) < 2 or reply[1] != 0:
        reason = reply[1] if len(reply) > 1 else "?"
        raise ConnectionRefusedError(f"the broker refused {user} (CONNACK reason {reason})")
    return sock


def publish(sock: socket.socket, packet_id: int, topic: str, payload: bytes) -> None:
    """QoS 1, retained; returns once the broker has acknowledged it."""
    sock.sendall(packet(0x33, utf8(topic) + struct.pack("!H", packet_id) + varint(0) + payload))
    while True:
        kind, reply = read_packet(sock)
        if kind >> 4 == 4 and struct.unpack("!H", reply[:2])[0] == packet_id:
            reason = reply[2] if len(reply) > 2 else 0
            if reason >= 0x80:
                raise PermissionError(f"the broker refused {topic} (PUBACK reason {reason})")
            return


def report(state: str, reason: str, config: Path, status_topic: str, install_topic: str) -> None:
    device = tomllib.loads(config.read_text(encoding="utf-8"))
    broker = device.get("broker", {})
    password = broker.get("password") or Path(broker["password_file"]).read_text(encoding="utf-8").strip()
    ca_file = broker.get("ca_file") if broker.get("tls") else None
    host, port = broker.get("host", "localhost"), int(broker.get("port", 1883))
    sock = connect(host, port, device["id"], password, ca_file)
    try:
        detail = {"state": state, "reason": reason, "at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        publish(sock, 1, install_topic, json.dumps(detail, ensure_ascii=False).encode())
        if state == "failed":
            publish(sock, 2, status_topic, FAILED_STATUS)
        sock.sendall(packet(0xE0, b"\x00" + varint(0)))
    finally:
        sock.close()


def main(argv: list[str]) -> int:
    if len(argv) < 5 or (len(argv) - 2) % 3:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    state, reason, rest = argv[0], argv[1], argv[2:]
    code = 0
    for i in range(0, len(rest), 3):
        config, status_topic, install_topic = Path(rest[i]), rest[i + 1], rest[i + 2]
        try:
            report(state, reason, config, status_topic, install_topic)
            print(f"reported {state} to the hub as {install_topic}")
        except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError) as e:
            print(f"could not report to the hub from {config}: {e}", file=sys.stderr)
            code = 1
    return code


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
