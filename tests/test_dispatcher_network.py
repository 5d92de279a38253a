"""The dispatcher's network rounds: a command's expiry counts from when it could first have
been read, so a freeze never makes old commands look new."""

from __future__ import annotations

import select
import time

from dispatcher.network import STALL_S, DrivenLink
from luot.mqtt import make_paho_client, unique_client_id


def test_commands_that_came_while_the_dispatcher_was_frozen_inside_a_round_count_from_before(broker, site):
    topic = f"luot/{site.id}/cmd/quay-1"
    client = make_paho_client(broker.settings("hub"), unique_client_id("hub", "rounds"))
    link = DrivenLink(client, broker.settings("hub"))
    received: list[float] = []
    client.on_message = lambda *_: received.append(link.received_at)
    subscribed: list[bool] = []
    client.on_subscribe = lambda *_: subscribed.append(True)
    client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
    client.connect(broker.host, broker.port)
    link.up = True
    sender = make_paho_client(broker.settings("quay-1"), unique_client_id("quay-1", "rounds"))
    sender.connect(broker.host, broker.port)
    sender.loop_start()
    try:
        while not subscribed:
            link.round(0.05)
        froze_at: list[float] = []
        write = client.loop_write

        def frozen_write() -> int:
            """The first write after the subscription: three commands reach the socket, and
            the process stops (SIGSTOP, a swapped-out Pi) before it reads them."""
            if not froze_at:
                froze_at.append(time.monotonic())
                for n in range(3):
                    sender.publish(topic, f'{{"id": "c{n}", "op": "next"}}', qos=1).wait_for_publish(5)
                assert select.select([client.socket()], [], [], 5)[0], "the commands never came"
                time.sleep(STALL_S * 3)
            return write()

        client.loop_write = frozen_write  # type: ignore[method-assign]
        client.want_write = lambda: True  # type: ignore[method-assign]
        deadline = time.monotonic() + 10
        while len(received) < 3 and time.monotonic() < deadline:
            link.round(0.05)
        assert len(received) == 3, received
        assert all(at <= froze_at[0] for at in received), (received, froze_at)
    finally:
        sender.loop_stop()
        sender.disconnect()
        client.disconnect()
