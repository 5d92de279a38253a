"""The queue book the queue-rule tests share: QueueBook driven one command per transaction,
as the dispatcher drives it, on a settable clock (the `clock` fixture is in conftest)."""

import uuid
from datetime import datetime

import pytest

from dispatcher.queue import Effects, QueueBook
from dispatcher.storage import open_database
from luot import protocol as p

MONDAY_9AM = datetime(2026, 11, 23, 9, 0)


class Book:
    """One command per transaction, as the dispatcher does it."""

    def __init__(self, site, path, clock):
        self.site = site
        self.clock = clock
        self.db = open_database(path)
        self.book = QueueBook(self.db, site)

    def do(self, device_id, op, **fields):
        now = self.clock().replace(tzinfo=self.site.timezone)
        self.db.execute("BEGIN IMMEDIATE")
        try:
            effects = Effects()
            self.book.roll_day(now, effects)
            body = self.book.apply(
                self.site.device(device_id), p.Command(uuid.uuid4().hex, op, fields), now, effects
            )
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")
        return body

    def refused(self, code, device_id, op, **fields):
        with pytest.raises(p.ProtocolError) as caught:
            self.do(device_id, op, **fields)
        assert caught.value.code == code, caught.value.detail
        return caught.value

    def take(self, service="CT", **fields):
        return self.do("kiosk-1", "take", service=service, **fields)["ticket"]["number"]

    def call(self, counter, op="next"):
        ticket = self.do(f"quay-{counter}", op, counter=counter)["ticket"]
        return ticket["number"] if ticket else None
