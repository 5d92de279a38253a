"""A repository folder of releases for the fleet tests, as the hub serves it."""

from __future__ import annotations

import sysconfig
from pathlib import Path

from fleet.release import Release
from provisioning.repository import write_wheel_index
from testbed.releases import build_release

# The test's own site-packages stand in for the Pi's --system-site-packages: the release's
# dependencies are found installed there, and only Lượt goes into each new venv.
DEPENDENCIES = {"PYTHONPATH": sysconfig.get_paths()["purelib"]}
BROKEN_COUNTER = "this release cannot start a counter"


def repository(out: Path, versions: dict[str, bool]) -> tuple[Path, dict[str, Release]]:
    """A repository folder with a wheel per version ({version: its counter broken})."""
    releases = {version: build_release(version, out, broken="counter_button/__main__.py" if broken else None,
                                       why=BROKEN_COUNTER)
                for version, broken in versions.items()}
    write_wheel_index(out / "wheels")
    return out, releases
