"""Releases of Lượt for the fleet tests: real wheels built from this tree under other version
numbers (one of them broken), in a repository folder as the hub serves it."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

from fleet.release import Release
from provisioning.repository import sha256_of, write_wheel_index

ROOT = Path(__file__).resolve().parent.parent
# The test's own site-packages stand in for the Pi's --system-site-packages: the release's
# dependencies are found installed there, and only Lượt goes into each new venv.
DEPENDENCIES = {"PYTHONPATH": sysconfig.get_paths()["purelib"]}
MAIN = "def main(argv: list[str] | None = None) -> int:\n"
BROKEN_MAIN = MAIN + '    raise SystemExit("this release cannot start a counter")\n'


def build_release(version: str, out: Path, *, broken: bool = False) -> Path:
    """Lượt's wheel of this tree as `version` (with `broken`, a counter that exits at start)."""
    tree = out / f"tree-{version}"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in files.stdout.splitlines():
        source = ROOT / name
        if source.is_file() and not source.is_symlink() and not name.startswith(("tests/", "artifacts/")):
            target = tree / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    (tree / "provisioning" / "systemd").symlink_to("../systemd")
    init = tree / "luot" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "0.1.0"', f'__version__ = "{version}"'))
    if broken:
        main = tree / "counter_button" / "__main__.py"
        main.write_text(main.read_text().replace(MAIN, BROKEN_MAIN))
        if BROKEN_MAIN not in main.read_text():
            raise RuntimeError(f"{main}: no {MAIN!r} to break")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(out / "wheels"), str(tree)], check=True, capture_output=True)
    return out / "wheels" / f"luot-{version}-py3-none-any.whl"


def repository(out: Path, versions: dict[str, bool]) -> tuple[Path, dict[str, Release]]:
    """A repository folder with a wheel per version ({version: broken}), and their releases."""
    releases = {}
    for version, broken in versions.items():
        wheel = build_release(version, out, broken=broken)
        releases[version] = Release(version, wheel.name, sha256_of(wheel))
    write_wheel_index(out / "wheels")
    return out, releases
