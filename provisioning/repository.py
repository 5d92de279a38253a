"""The centre's offline repository as `luot provision image` reads it: its manifest,
Lượt's wheel with its SHA-256, the public key apt checks the index with.

Layout (made by `luot provision repo`, see repo_build.py; served by the hub on the LAN):

    manifest.json            what is in it, pinned: every wheel and Debian package with its hash
    repo.gpg                 the key the Debian indexes are signed with (the bundle carries it)
    wheels/                  Lượt and every dependency for aarch64, CPython 3.11 and 3.13
    wheels/index.html        the links pip's --find-links reads
    debian/<suite>/          arm64 packages for bookworm and trixie, Packages, signed InRelease
"""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"
KEY_FILE = "repo.gpg"


class RepositoryError(Exception):
    """The repository folder is missing something first boot needs; the message says what."""


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_wheel_index(folder: Path) -> None:
    """The links pip's --find-links reads, for every wheel in `folder`."""
    links = "".join(f'<a href="{html.escape(p.name)}">{html.escape(p.name)}</a><br>\n'
                    for p in sorted(folder.glob("*.whl")))
    (folder / "index.html").write_text(f"<!DOCTYPE html>\n<html><body>\n{links}</body></html>\n")


@dataclass(frozen=True)
class Repository:
    folder: Path
    manifest: dict[str, Any]

    @property
    def wheel(self) -> str:
        return str(self.manifest["luot"]["wheel"])

    @property
    def wheel_sha256(self) -> str:
        return str(self.manifest["luot"]["sha256"])

    @property
    def key(self) -> Path:
        return self.folder / KEY_FILE


def open_repository(folder: Path) -> Repository:
    """Check what first boot relies on: the manifest, Lượt's wheel and its hash, the key."""
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RepositoryError(f"{folder}: no {MANIFEST}; "
                              "make the repository with `luot provision repo`") from None
    except (OSError, ValueError) as e:
        raise RepositoryError(f"{path}: cannot be read: {e}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("luot"), dict):
        raise RepositoryError(f"{path}: no \"luot\" entry (wheel, sha256)")
    repo = Repository(folder, manifest)
    wheel = folder / "wheels" / repo.wheel
    if not wheel.is_file():
        raise RepositoryError(f"{wheel}: Lượt's wheel named in the manifest is missing")
    if sha256_of(wheel) != repo.wheel_sha256:
        raise RepositoryError(f"{wheel}: its SHA-256 differs from the manifest's; rebuild the repository")
    if not repo.key.is_file():
        raise RepositoryError(f"{repo.key}: the repository's signing key is missing")
    if not (folder / "wheels" / "index.html").is_file():
        raise RepositoryError(f"{folder / 'wheels/index.html'}: missing; rebuild the repository")
    return repo
