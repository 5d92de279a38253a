"""Releases of Lượt for the fleet's tests and `make pi-test`: real wheels of this tree under
other version numbers, one of them broken if asked, built offline (--no-build-isolation,
with the setuptools of the test extras)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fleet.release import Release
from provisioning.repository import sha256_of

ROOT = Path(__file__).resolve().parent.parent
MAIN = "def main(argv: list[str] | None = None) -> int:\n"


def broken_main(why: str) -> str:
    return MAIN + f"    raise SystemExit({why!r})\n"


def build_release(version: str, out: Path, *, broken: str | None = None,
                  why: str = "this release cannot start") -> Release:
    """Lượt's wheel of this tree as `version` in `out/wheels`; `broken`: a module (such as
    counter_button/__main__.py) whose main() exits at once."""
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
        module = tree / broken
        module.write_text(module.read_text().replace(MAIN, broken_main(why)))
        if broken_main(why) not in module.read_text():
            raise RuntimeError(f"{module}: no {MAIN!r} to break")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "-w", str(out / "wheels"), str(tree)], check=True, capture_output=True)
    wheel = out / "wheels" / f"luot-{version}-py3-none-any.whl"
    return Release(version, wheel.name, sha256_of(wheel))
