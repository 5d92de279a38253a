"""`luot provision check`: connect with each device's credentials and report what it can do.

The probes use topics no device acts on (`…/check`) or harmless commands (an unknown
op gets an error reply), so the check can run against a centre that is open.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from broker_config import may
from provisioning.probe import Probe, connect_reason, run_probes


def check_probes(site: str, roles: dict[str, str], hub: str) -> list[Probe]:
    """For each device: its own topics, a neighbour's, and the dispatcher's."""
    root = f"luot/{site}/"
    users = sorted(roles)
    probes: list[Probe] = []
    for i, user in enumerate(users):
        other = users[(i + 1) % len(users)]
        for rel in (f"cmd/{user}", f"cmd/{other}", f"device/{user}/check", f"device/{other}/check",
                    "state/check", "event/check", f"reply/{other}"):
            probes.append(Probe(user, "write", root + rel))
        for rel, writer in ((f"reply/{user}", hub), (f"cmd/{other}", other),
                            (f"device/{other}/check", other), ("state/check", hub), ("event/check", hub)):
            probes.append(Probe(user, "read", root + rel, writer))
    return probes


@dataclass
class DeviceReport:
    user: str
    role: str
    refused_connection: str = ""
    can: list[str] = field(default_factory=list)
    cannot: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    devices: list[DeviceReport]
    anonymous_refused: bool
    wrong_password_refused: bool

    @property
    def ok(self) -> bool:
        return (self.anonymous_refused and self.wrong_password_refused
                and all(not d.unexpected and not d.refused_connection for d in self.devices))

    def text(self) -> str:
        lines = []
        for d in self.devices:
            if d.refused_connection:
                lines.append(f"✗ {d.user} ({d.role}): the broker refused its credentials: "
                             f"{d.refused_connection}")
                continue
            mark = "✓" if not d.unexpected else "✗"
            lines.append(f"{mark} {d.user} ({d.role})")
            lines.append(f"    can:    {', '.join(d.can)}")
            lines.append(f"    cannot: {', '.join(d.cannot)}")
            lines += [f"    NOT AS GRANTED: {u}" for u in d.unexpected]
        lines.append(("✓" if self.anonymous_refused else "✗") + " anonymous clients "
                     + ("are refused" if self.anonymous_refused else "ARE ACCEPTED"))
        lines.append(("✓" if self.wrong_password_refused else "✗") + " a wrong password "
                     + ("is refused" if self.wrong_password_refused else "IS ACCEPTED"))
        lines.append("all as granted" if self.ok else "PROBLEMS FOUND")
        return "\n".join(lines)


def run_check(site: str, roles: dict[str, str], passwords: dict[str, str], host: str, port: int, *,
              tls: bool = False, ca_file: str | None = None, timeout: float = 10.0) -> CheckReport:
    hub = next(u for u, r in sorted(roles.items()) if r == "hub")
    root = f"luot/{site}/"
    results = run_probes(host, port, passwords, check_probes(site, roles, hub),
                         sentinel=(hub, root + "event/check-done"), tls=tls, ca_file=ca_file, timeout=timeout)
    reports = {u: DeviceReport(u, r, results.refused_connections.get(u, ""))
               for u, r in sorted(roles.items())}
    for probe, allowed in results.allowed.items():
        d = reports[probe.user]
        what = f"{probe.access} {probe.topic.removeprefix(root)}"
        (d.can if allowed else d.cannot).append(what)
        if allowed != may(site, probe.user, d.role, probe.access, probe.topic):
            d.unexpected.append(f"{what} is {'allowed' if allowed else 'refused'}")
    some = sorted(passwords)[0]
    return CheckReport(
        devices=list(reports.values()),
        anonymous_refused=connect_reason(host, port, None, None, tls=tls, ca_file=ca_file) != 0,
        wrong_password_refused=connect_reason(host, port, some, passwords[some] + "x", tls=tls,
                                              ca_file=ca_file) != 0,
    )
