"""The dispatcher's MQTT connection, driven from its worker thread through paho's external-loop
API: one thread reads commands, commits and writes replies, with no hand-off to a network
thread on the way (see `dispatcher.service`)."""

from __future__ import annotations

import logging
import select
import socket
import ssl
import time
from typing import Any

import paho.mqtt.client as paho

from luot.config import BrokerSettings

log = logging.getLogger("dispatcher.service")  # the broker lines keep the name technicians know

MAX_BACKOFF_S = 8.0
# A round of the network loop that starts or ends this much later than it should means the
# process did not run (frozen, swapped out, a stalled card): what it reads then may have
# waited on the socket since the round before. Below the 1 s a sender waits past expiry.
STALL_S = 0.25
STALL_DRAIN_ROUNDS = 4096


def _buffered(sock: Any) -> int:
    """Bytes TLS has already read off the socket: select() does not see them."""
    return sock.pending() if isinstance(sock, ssl.SSLSocket) else 0


def _has_input(sock: Any) -> bool:
    return bool(_buffered(sock)) or bool(select.select([sock], [], [], 0.0)[0])


class DrivenLink:
    def __init__(self, client: paho.Client, broker: BrokerSettings) -> None:
        self.client = client
        self.broker = broker
        self.up = False
        self._retry_at = 0.0
        self._backoff = 1.0
        self._done_at = time.monotonic()
        # When what the current round reads reached the socket: a command's expiry counts from then.
        self.received_at = self._done_at

    def connected(self) -> None:
        """The broker accepted us: the next loss waits the shortest time again."""
        self._backoff = 1.0

    def pump(self, timeout: float) -> None:
        """One round when connected; otherwise reconnect, or sleep until the next try is due."""
        if self.up:
            self.round(timeout)
            return
        if time.monotonic() < self._retry_at:
            time.sleep(max(0.0, min(timeout, self._retry_at - time.monotonic())))
            return
        try:
            self.up = self.client.reconnect() == paho.MQTT_ERR_SUCCESS
        except OSError as e:
            log.warning("cannot reach the broker at %s:%s: %s", self.broker.host, self.broker.port, e)
        if not self.up:
            self._lost()

    def round(self, timeout: float, also: tuple[socket.socket, ...] = ()) -> list[Any]:
        """One round of paho's external-loop API; returns which of `also` became readable."""
        sock = self.client.socket() if self.up else None
        if sock is None:
            if self.up:  # paho closed it itself (a keepalive missed while frozen): reconnect
                log.warning("the broker connection was closed; reconnecting")
                self._lost()
            readable, _, _ = select.select(list(also), [], [], timeout)
            return [s for s in also if s in readable]
        pending = _buffered(sock)
        wanted = [sock] if self.client.want_write() else []
        started = time.monotonic()
        wait = 0.0 if pending else timeout
        readable, writable, _ = select.select([sock, *also], wanted, [], wait)
        selected = time.monotonic()
        stalled = selected - started > wait + STALL_S or started - self._done_at > STALL_S
        self.received_at = self._done_at if stalled else selected
        rc = paho.MQTT_ERR_SUCCESS
        if pending or sock in readable:
            rc = self.client.loop_read()
            # After a stall, all that waited on the socket is read now, under the stall's time.
            for _ in range(STALL_DRAIN_ROUNDS if stalled else 0):
                if rc != paho.MQTT_ERR_SUCCESS or not _has_input(sock):
                    break
                rc = self.client.loop_read()
        if rc == paho.MQTT_ERR_SUCCESS and (writable or self.client.want_write()):
            rc = self.client.loop_write()
        if rc == paho.MQTT_ERR_SUCCESS:
            rc = self.client.loop_misc()
        self._done_at = time.monotonic()
        if self._done_at - selected > STALL_S:
            # Frozen (or starved) inside this round: what reached the socket meanwhile is read
            # by the next round as a stall's, under the time before it, not as just arrived.
            self._done_at = selected
        if rc != paho.MQTT_ERR_SUCCESS:
            log.warning("lost the broker (%s); reconnecting", paho.error_string(rc))
            self._lost()
        return [s for s in also if s in readable]

    def readable(self) -> bool:
        """Something already waits on the socket, so a round now reads without waiting."""
        sock = self.client.socket()
        return self.up and sock is not None and _has_input(sock)

    def _lost(self) -> None:
        self.up = False
        self._retry_at = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, MAX_BACKOFF_S)
