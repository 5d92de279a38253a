"""A device's link to the hub over paho-mqtt 2.x (MQTT v5).

`HubLink` keeps a local copy of every retained topic (the single source of
truth for screens), reports `online`/`offline` with a last will, reconnects
with backoff, and sends commands as request/reply with a response topic and
correlation data. A command is never queued while the link is down: a press
that cannot reach the hub fails at once, so nothing stale is replayed later.
Every command carries an MQTT v5 Message Expiry Interval shorter than the wait
for its reply: a command its sender gave up on is dropped by the broker (or
refused by the dispatcher) instead of carried out later.
"""

from __future__ import annotations

import logging
import math
import socket
import ssl
import threading
import uuid
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from luot import protocol as p
from luot.config import BrokerSettings
from luot.protocol import Topics, decode, encode
from luot.replies import Replies

log = logging.getLogger(__name__)

MessageHandler = Callable[[str, Any, bool], None]
ConnectionHandler = Callable[[bool], None]
RawHandler = Callable[[str, bytes], None]
HUB_ID = "hub"  # the dispatcher's device id: its status is `device/hub/status`


class HubUnreachable(Exception):
    """The command was not sent, or its reply cannot come: the link to the hub is down."""


class HubTimeout(Exception):
    """The command was sent but no reply came in time."""


class CommandRefused(p.CodedError):
    """The dispatcher answered with an error code."""

    def __init__(self, code: str, detail: str, reply: dict[str, Any]) -> None:
        super().__init__(code, detail)
        self.reply = reply


def command_expiry(timeout: float) -> tuple[int, float]:
    """(expiry interval, seconds to wait for the reply) for a sender's `timeout`.

    The broker counts expiry in whole seconds, so a command may still be delivered up to a
    second after its interval; the sender waits that second more before saying it failed.
    """
    expiry = max(1, math.floor(timeout) - 1)
    return expiry, max(timeout, expiry + 1.0)


def unique_client_id(device_id: str, purpose: str) -> str:
    return f"{device_id}-{purpose}-{uuid.uuid4().hex[:8]}"


def make_paho_client(
    broker: BrokerSettings, client_id: str, *, manual_ack: bool = False
) -> paho.Client:
    """A paho client for MQTT v5 that survives exceptions in callbacks and retries with backoff."""
    client = paho.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=paho.MQTTv5,
        manual_ack=manual_ack,
    )
    client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set(ca_certs=broker.ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
    client.on_socket_open = _no_delay
    client.reconnect_delay_set(min_delay=1, max_delay=8)
    client.suppress_exceptions = True
    client.max_inflight_messages_set(100)
    return client


def _no_delay(_client: paho.Client, _userdata: Any, sock: Any) -> None:
    """Send small packets at once: Nagle with delayed ACKs costs ~40 ms per round trip."""
    if isinstance(sock, socket.socket):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def session_properties(expiry_s: int) -> Properties:
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = expiry_s
    return props


# What a device can say about the centre's queue: the three `HubLink.hub_state` values.
LINK_ONLINE = "online"
LINK_HUB_AWAY = "hub_away"
LINK_OFFLINE = "offline"


class HubLink:
    """One device's connection: retained-state cache, commands, status and health."""

    def __init__(
        self,
        broker: BrokerSettings,
        *,
        device_id: str,
        site: str,
        purpose: str = "device",
        hub_id: str = HUB_ID,
    ) -> None:
        self.device_id = device_id
        self.hub_id = hub_id
        self.topics = Topics(site)
        self._client = make_paho_client(broker, unique_client_id(device_id, purpose))
        self._broker = broker
        self._lock = threading.Lock()
        self._state: dict[str, Any] = {}
        self._replies = Replies()
        self._handlers: list[MessageHandler] = []
        self._connection_handlers: list[ConnectionHandler] = []
        self._hub_handlers: list[ConnectionHandler] = []
        self._watches: list[tuple[str, int, RawHandler]] = []
        self._hub_status: str | None = None
        self._connected = threading.Event()
        self._health: dict[str, Any] | None = None
        self._stopping = False
        status = self.topics.device_status(device_id)
        self._client.will_set(status, b"offline", qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Connect in the background; a broker that is not up yet is retried with backoff."""
        self._client.connect_async(
            self._broker.host, self._broker.port, keepalive=self._broker.keepalive, clean_start=True
        )
        self._client.loop_start()

    def stop(self) -> None:
        self._stopping = True
        if self._connected.is_set():
            info = self._client.publish(
                self.topics.device_status(self.device_id), b"offline", qos=1, retain=True
            )
            info.wait_for_publish(timeout=1.0)
        self._client.disconnect()
        self._client.loop_stop()
        self._replies.fail_all()

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def add_handler(self, handler: MessageHandler) -> None:
        """`handler(relative_topic, payload, retained)` for every state, event and config message.

        Called on the network thread: hand the work to your own loop, do not block.
        """
        self._handlers.append(handler)

    def add_connection_handler(self, handler: ConnectionHandler) -> None:
        self._connection_handlers.append(handler)

    def watch(self, relative_filter: str, qos: int, handler: RawHandler) -> None:
        """`handler(relative_topic, payload_bytes)` for another topic filter (every device's
        status, say), on this same connection: the broker binds a client id to its user, so a
        device has one connection. Called on the network thread; kept across reconnects."""
        topic_filter = self.topics.root + relative_filter
        self._watches.append((topic_filter, qos, handler))
        if self._connected.is_set():
            self._client.subscribe(topic_filter, qos)

    def add_hub_handler(self, handler: ConnectionHandler) -> None:
        """`handler(online)` whenever the dispatcher's retained status changes."""
        self._hub_handlers.append(handler)

    @property
    def hub_state(self) -> str:
        """LINK_ONLINE, LINK_HUB_AWAY (the broker reached, the dispatcher not) or LINK_OFFLINE."""
        if not self._connected.is_set():
            return LINK_OFFLINE
        return LINK_ONLINE if self._hub_status == "online" else LINK_HUB_AWAY

    @property
    def hub_online(self) -> bool:
        """The broker is reached and the dispatcher says `online` (its last will says
        `offline` when it dies): only then can a command be answered."""
        return self.hub_state == LINK_ONLINE

    # ------------------------------------------------------------------ retained state

    def state(self, relative_topic: str) -> Any:
        """The last retained payload of `state/...` or `config`, or None."""
        with self._lock:
            return self._state.get(relative_topic)

    def states(self, prefix: str) -> dict[str, Any]:
        with self._lock:
            return {k: v for k, v in self._state.items() if k.startswith(prefix)}

    # ------------------------------------------------------------------ commands

    def request(self, op: str, *, timeout: float = 3.0, command_id: str | None = None,
                **fields: Any) -> dict[str, Any]:
        """Send a command and wait for its reply; raise rather than queue when the hub is away."""
        if not self._connected.is_set():
            raise HubUnreachable("not connected to the broker")
        command_id = command_id or uuid.uuid4().hex
        pending = self._replies.expect(command_id)
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = self.topics.reply(self.device_id)
        props.CorrelationData = command_id.encode()
        expiry, wait = command_expiry(timeout)
        props.MessageExpiryInterval = expiry
        try:
            info = self._client.publish(
                self.topics.cmd(self.device_id),
                encode({"id": command_id, "op": op, **fields}),
                qos=1,
                properties=props,
            )
            if info.rc != paho.MQTT_ERR_SUCCESS:
                raise HubUnreachable(f"publish failed: {paho.error_string(info.rc)}")
            if not pending.done.wait(wait):
                raise HubTimeout(f"no reply to {op!r} within {wait:.1f} s")
        finally:
            self._replies.forget(command_id)
        reply = pending.reply
        if reply is None:
            raise HubUnreachable("the link to the broker dropped before the reply came")
        if not reply.get("ok"):
            raise CommandRefused(str(reply.get("error")), str(reply.get("detail", "")), reply)
        return reply

    def send(self, relative_topic: str, message: dict[str, Any], *, expiry_s: int) -> None:
        """A QoS 1 message another device acts on, which the broker drops after `expiry_s`
        (so an order nobody received in time is never carried out late)."""
        if not self._connected.is_set():
            raise HubUnreachable("not connected to the broker")
        props = Properties(PacketTypes.PUBLISH)
        props.MessageExpiryInterval = expiry_s
        info = self._client.publish(self.topics.root + relative_topic, encode(message), qos=1,
                                    properties=props)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise HubUnreachable(f"publish failed: {paho.error_string(info.rc)}")

    # ------------------------------------------------------------------ status and health

    def publish_health(self, health: dict[str, Any]) -> None:
        """Retained health (QoS 0); kept and re-sent after a reconnect."""
        self._health = health
        if self._connected.is_set():
            self._client.publish(
                self.topics.device_health(self.device_id), encode(health), qos=0, retain=True
            )

    # ------------------------------------------------------------------ paho callbacks

    def _on_connect(self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any,
                    _props: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        root = self.topics.root
        client.subscribe(
            [
                (f"{root}state/#", 1),
                (f"{root}event/#", 1),
                (f"{root}config", 1),
                (self.topics.reply(self.device_id), 1),
                (self.topics.device_status(self.hub_id), 1),
                *((topic_filter, qos) for topic_filter, qos, _ in self._watches),
            ]
        )
        client.publish(self.topics.device_status(self.device_id), b"online", qos=1, retain=True)
        if self._health is not None:
            client.publish(
                self.topics.device_health(self.device_id), encode(self._health), qos=0, retain=True
            )
        self._connected.set()
        log.info("connected to %s:%s", self._broker.host, self._broker.port)
        for handler in self._connection_handlers:
            handler(True)

    def _on_disconnect(self, _client: paho.Client, _userdata: Any, _flags: Any, reason: Any,
                       _props: Any) -> None:
        was_connected = self._connected.is_set()
        self._connected.clear()
        self._replies.fail_all()
        if was_connected and not self._stopping:
            log.warning("lost the broker: %s", reason)
            for handler in self._connection_handlers:
                handler(False)

    def _on_message(self, _client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        watched = False
        for topic_filter, _qos, handler in self._watches:
            if paho.topic_matches_sub(topic_filter, msg.topic):
                watched = True
                handler(self.topics.relative(msg.topic), bytes(msg.payload))
        if msg.topic == self.topics.device_status(self.hub_id):
            self._on_hub_status(msg.payload.decode("utf-8", "replace"))
            return
        if watched:
            return
        topic = self.topics.relative(msg.topic)
        try:
            payload = decode(msg.payload)
        except (UnicodeDecodeError, ValueError):
            log.warning("ignoring a payload on %s that is not UTF-8 JSON", topic)
            return
        if topic.startswith(p.REPLY):
            if not self._replies.answer(payload):
                log.warning("ignoring a reply without an id: %r", payload)
            return
        if msg.retain or topic.startswith(p.STATE) or topic == p.CONFIG:
            with self._lock:
                if payload is None:
                    self._state.pop(topic, None)
                else:
                    self._state[topic] = payload
        for handler in self._handlers:
            handler(topic, payload, bool(msg.retain))

    def _on_hub_status(self, status: str) -> None:
        changed = status != self._hub_status
        self._hub_status = status
        if changed:
            for handler in self._hub_handlers:
                handler(status == "online")
