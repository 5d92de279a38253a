"""Versioned virtualenvs and the link the units run through.

    /opt/luot/venvs/<version>/   one per release, made in place (pip writes its own path into
                                 every script, so a venv cannot be made elsewhere and moved)
    /opt/luot/venv -> venvs/<version>   what every unit's ExecStart names

Switching is one rename of a new link over the old, so a power cut leaves one version or
the other, never neither. A running process keeps the venv it started from (its prefix is
the real folder), so the switch changes nothing until its unit restarts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from fleet.release import Release
from provisioning.roles import pip_install_args

COMPLETE = ".luot-complete"  # written last: a venv without it is a cut-off install, made again


@dataclass(frozen=True)
class RepoSource:
    """Where a Pi's pip finds the centre's repository, and which extras its roles need."""

    url: str
    trusted_host: str | None
    extras: tuple[str, ...] = ()


class InstallError(Exception):
    """A release could not be installed; the running version is untouched."""


class Venvs:
    def __init__(self, root: Path, *, python: str = "python3", env: Mapping[str, str] | None = None) -> None:
        self.root = root
        self.link = root / "venv"
        self.python = python
        self.env = dict(env) if env is not None else None

    def path(self, version: str) -> Path:
        return self.root / "venvs" / version

    def current(self) -> str | None:
        """The version the link names. A first boot of the old layout (a folder, not a link) is
        moved under venvs/ and linked; its scripts name the link, so they run as before."""
        if self.link.is_symlink():
            return Path(os.readlink(self.link)).name
        if self.link.is_dir():
            version = self._version_in(self.link)
            self.path(version).parent.mkdir(parents=True, exist_ok=True)
            os.rename(self.link, self.path(version))
            self.switch(version)
            return version
        made = sorted(f.name for f in (self.root / "venvs").glob("*") if (f / "bin").is_dir())
        if len(made) == 1:  # cut off between that move and the link
            self.switch(made[0])
            return made[0]
        return None

    @staticmethod
    def _version_in(venv: Path) -> str:
        found = sorted(venv.glob("lib/python3*/site-packages/luot-*.dist-info"))
        if not found:
            raise InstallError(f"{venv}: no luot installed")
        return found[-1].name.removeprefix("luot-").removesuffix(".dist-info")

    def installed(self, release: Release) -> bool:
        marker = self.path(release.version) / COMPLETE
        return marker.is_file() and marker.read_text().strip() == release.sha256

    def install(self, release: Release, source: RepoSource) -> Path:
        """Make venvs/<version> from the centre's repository (pip --no-index, the wheel by its hash)."""
        target = self.path(release.version)
        if self.installed(release):
            return target
        shutil.rmtree(target, ignore_errors=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._run([self.python, "-m", "venv", "--system-site-packages", str(target)], "making the virtualenv")
        self._run([str(target / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check",
                   *pip_install_args(source.url, release.wheel, release.sha256, list(source.extras),
                                     source.trusted_host)],
                  "installing the release from the centre's repository")
        found = self._version_in(target)
        if found != release.version:
            shutil.rmtree(target, ignore_errors=True)
            raise InstallError(f"the wheel installs luot {found}, not {release.version}")
        (target / COMPLETE).write_text(release.sha256 + "\n")
        return target

    def _run(self, argv: list[str], what: str) -> None:
        done = subprocess.run(argv, capture_output=True, text=True, env=self.env)
        if done.returncode != 0:
            lines = (done.stderr or done.stdout).strip().splitlines()
            raise InstallError(f"{what}: {lines[-1] if lines else f'exit {done.returncode}'}")

    def switch(self, version: str) -> None:
        """Point the link at venvs/<version> in one rename."""
        if not (self.path(version) / "bin").is_dir():
            raise InstallError(f"no virtualenv for {version}")
        fresh = self.root / ".venv-link"
        fresh.unlink(missing_ok=True)
        fresh.symlink_to(Path("venvs") / version)
        os.replace(fresh, self.link)

    def prune(self, keep: set[str]) -> list[str]:
        """Remove every versioned venv but `keep` (the running one and the one to roll back to)."""
        removed = []
        for folder in sorted((self.root / "venvs").glob("*")):
            if folder.is_dir() and folder.name not in keep:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        return removed
