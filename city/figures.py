"""A centre's figures rebuilt from its journal in PostgreSQL, as `luot report` gives them.

Each ticket's life is folded from its events by sequence (so arrival order does not
matter): issued at its `issued` event, its wait ends at its first call, its service
runs from its last call to its last `served`; its status is its latest state event.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import psycopg

from luot.stats import mean, minutes, percentile, satisfied_pct

STATUS_OF = {"issued": "waiting", "requeued": "waiting", "transferred": "waiting", "called": "serving",
             "recalled": "serving", "served": "served", "no-show": "noshow", "expired": "expired"}

TICKETS = """
SELECT hub, day, ticket,
  min(issued_service) AS service,
  min(at) FILTER (WHERE kind = 'issued') AS issued_at,
  min(at) FILTER (WHERE kind = 'called') AS first_called,
  max(at) FILTER (WHERE kind = 'called') AS last_called,
  (array_agg(kind ORDER BY seq DESC) FILTER (WHERE kind IN ('issued', 'requeued', 'transferred', 'called',
    'recalled', 'served', 'no-show', 'expired')))[1] AS last_kind,
  bool_or(kind = 'from-home') AS from_home,
  bool_or(kind = 'skipped') AS skipped,
  max(at) FILTER (WHERE kind IN ('served', 'no-show') AND detail IS DISTINCT FROM 'day_end') AS finished_at,
  (array_agg(detail ORDER BY seq DESC) FILTER (WHERE kind = 'rated'))[1] AS rating
FROM events
WHERE ticket IS NOT NULL AND day BETWEEN %(first)s AND %(last)s AND (%(hub)s::text IS NULL OR hub = %(hub)s)
GROUP BY hub, day, ticket
"""

REFUSED = """
SELECT hub, count(*) FROM events
WHERE kind = 'refused' AND day BETWEEN %(first)s AND %(last)s AND (%(hub)s::text IS NULL OR hub = %(hub)s)
GROUP BY hub
"""


@dataclass
class CentreFigures:
    hub: str
    issued: int = 0
    refused: int = 0
    waiting: int = 0
    serving: int = 0
    served: int = 0
    noshow: int = 0
    unserved: int = 0
    waits: list[float] = field(default_factory=list, repr=False)
    service_times: list[float] = field(default_factory=list, repr=False)
    from_home: int = 0  # numbers taken from home (the portal)
    skipped: int = 0  # of those, passed over once for want of confirmation at the kiosk
    ratings: dict[int, int] = field(default_factory=dict)
    by_service: dict[str, int] = field(default_factory=dict)

    @property
    def wait_mean_min(self) -> float | None:
        return minutes(mean(self.waits))

    @property
    def wait_p90_min(self) -> float | None:
        return minutes(percentile(self.waits, 90))

    @property
    def service_mean_min(self) -> float | None:
        return minutes(mean(self.service_times))

    @property
    def satisfied(self) -> float | None:
        """Share of votes that are 'satisfied' or 'very satisfied', in percent."""
        share = satisfied_pct(self.ratings)
        return None if share is None else round(share, 1)

    def summary(self) -> dict[str, Any]:
        return {
            "hub": self.hub, "issued": self.issued, "refused": self.refused, "waiting": self.waiting,
            "serving": self.serving, "served": self.served, "noshow": self.noshow,
            "unserved": self.unserved, "from_home": self.from_home, "skipped": self.skipped,
            "wait_mean_min": self.wait_mean_min,
            "wait_p90_min": self.wait_p90_min, "service_mean_min": self.service_mean_min,
            "satisfied_pct": self.satisfied, "ratings": dict(sorted(self.ratings.items(), reverse=True)),
        }


def centre_figures(db: psycopg.Connection[Any], first: str, last: str,
                   hub: str | None = None) -> dict[str, CentreFigures]:
    """Figures of every centre (or one) over the days `first`..`last` (ISO dates)."""
    args = {"first": first, "last": last, "hub": hub}
    out: dict[str, CentreFigures] = {}
    by_service: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (hub_id, _day, _ticket, service, issued_at, first_called, last_called, last_kind, from_home, skipped,
         finished_at, rating) in db.execute(TICKETS, args):
        if issued_at is None:  # its `issued` event is not here yet: a gap being repaired
            continue
        f = out.setdefault(hub_id, CentreFigures(hub_id))
        status = STATUS_OF.get(last_kind, "waiting")
        f.issued += 1
        by_service[hub_id][service] += 1
        f.waiting += status == "waiting"
        f.serving += status == "serving"
        f.served += status == "served"
        f.noshow += status == "noshow"
        f.unserved += status in ("waiting", "expired")
        f.from_home += bool(from_home)
        f.skipped += bool(skipped)
        if first_called is not None:
            f.waits.append(first_called - issued_at)
        if status == "served" and finished_at is not None and last_called is not None:
            f.service_times.append(finished_at - last_called)
        if rating is not None and rating.isdigit():
            f.ratings[int(rating)] = f.ratings.get(int(rating), 0) + 1
    for hub_id, count in db.execute(REFUSED, args):
        out.setdefault(hub_id, CentreFigures(hub_id)).refused = count
    for hub_id, counts in by_service.items():
        out[hub_id].by_service = dict(sorted(counts.items()))
    return dict(sorted(out.items()))


def city_total(figures: dict[str, CentreFigures]) -> CentreFigures:
    """The whole city as one centre: sums, and waits over every ticket of every centre."""
    total = CentreFigures("*")
    for f in figures.values():
        for name in ("issued", "refused", "waiting", "serving", "served", "noshow", "unserved", "from_home",
                     "skipped"):
            setattr(total, name, getattr(total, name) + getattr(f, name))
        total.waits += f.waits
        total.service_times += f.service_times
        for k, n in f.ratings.items():
            total.ratings[k] = total.ratings.get(k, 0) + n
    return total
