"""What a batch of commands changed: the queue's commands fill it, the service publishes it.

Its own module because both halves of the queue book (`dispatcher.queue` and
`dispatcher.counter_ops`) and the service around them use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from luot.config import SiteConfig


@dataclass
class Effects:
    """What a batch of commands changed, to publish once it is committed."""

    counters: set[int] = field(default_factory=set)
    services: set[str] = field(default_factory=set)
    site: bool = False
    calls: list[int] = field(default_factory=list)

    def everything(self, site: SiteConfig) -> None:
        self.counters.update(c.number for c in site.counters)
        self.services.update(s.code for s in site.services)
        self.site = True
