"""The updater's own broker connection (user `updater.<hostname>`): the release and the other
Pis' update states in, this Pi's update states out, all retained."""

from __future__ import annotations

import logging
from typing import Any

import paho.mqtt.client as paho

from fleet.release import ReleaseError, UpdateState, parse_release, parse_update_state
from fleet.updater import Updater
from luot import protocol as p
from luot.config import BrokerSettings
from luot.mqtt import make_paho_client

log = logging.getLogger(__name__)


class FleetLink:
    def __init__(self, broker: BrokerSettings, site: str) -> None:
        self.topics = p.Topics(site)
        self.user = broker.username
        self._broker = broker
        self._client = make_paho_client(broker, broker.username)
        self._client.will_set(self.topics.device_status(self.user), b"offline", qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._updater: Updater | None = None

    def start(self, updater: Updater) -> None:
        self._updater = updater
        self._client.connect_async(self._broker.host, self._broker.port, keepalive=self._broker.keepalive)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.publish(self.topics.device_status(self.user), b"offline", qos=1, retain=True)
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, device: str, state: UpdateState) -> None:
        """Retained, so the admin's status and the other Pis read it whenever they come."""
        self._client.publish(self.topics.device_update(device), p.encode(state.to_json()), qos=1, retain=True)

    def _on_connect(self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            log.warning("broker refused the updater: %s", reason)
            return
        client.subscribe([(self.topics.fleet_release, 1), (self.topics.device_update("+"), 1)])
        client.publish(self.topics.device_status(self.user), b"online", qos=1, retain=True)

    def _on_message(self, _client: paho.Client, _userdata: Any, msg: paho.MQTTMessage) -> None:
        assert self._updater is not None
        if msg.topic == self.topics.fleet_release:
            try:
                release = parse_release(bytes(msg.payload))
            except ReleaseError as e:
                log.warning("ignoring a release on %s: %s", msg.topic, e)
                return
            self._updater.heard_release(release)
            return
        parts = self.topics.relative(msg.topic).split("/")
        if len(parts) == 3 and parts[2] == p.UPDATE:
            self._updater.heard_state(parts[1], parse_update_state(bytes(msg.payload)))
