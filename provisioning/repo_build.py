"""`luot provision repo`: the centre's offline repository, made once on a laptop that has the
internet that day; afterwards nothing in the centre needs it.

- wheels: Lượt's own and every dependency's, for aarch64 and CPython 3.11 (Bookworm) and
  3.13 (Trixie), fetched with `pip download --platform` (binary only: a Pi compiles nothing);
- Debian: the arm64 packages each role needs (roles.py) with every dependency, resolved
  by apt itself against Debian's archive in a scratch apt state (the laptop's own is
  untouched), for each suite;
- an index apt understands (`apt-ftparchive`), signed with the repository's own key
  (gpg, kept in `--key-dir` for the next build; the public half goes in the repository and
  each device's bundle);
- `manifest.json`: every file pinned by version and SHA-256.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from provisioning.repository import KEY_FILE, MANIFEST, sha256_of, write_wheel_index
from provisioning.roles import ROLES, all_packages

PYTHONS = ("3.11", "3.13")  # Bookworm, Trixie
SUITES = ("bookworm", "trixie")
# Bookworm has glibc 2.36, Trixie 2.41: wheels for 2.36 and older run on both. pip does not
# widen a --platform to older glibc versions itself, so each is named.
PLATFORMS = ("manylinux2014_aarch64", *(f"manylinux_2_{minor}_aarch64" for minor in range(17, 37)))
DEBIAN = "http://deb.debian.org/debian"
DEBIAN_SECURITY = "http://deb.debian.org/debian-security"
DEBIAN_KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
KEY_NAME = "Lượt offline repository <repo@luot.invalid>"


class BuildError(Exception):
    """A step of the build failed; the message says which and why."""


def run(argv: list[str], what: str, **kw: Any) -> str:
    done = subprocess.run(argv, capture_output=True, text=True, **kw)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise BuildError(f"{what} failed ({argv[0]} exit {done.returncode}):\n{tail}")
    return done.stdout


def need(*programs: str) -> None:
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        raise BuildError(f"needs {', '.join(missing)}: apt-get install apt-utils gpg")


# ------------------------------------------------------------------------------- the key

def signing_key(key_dir: Path) -> str:
    """The repository key's fingerprint, made on the first build and kept after."""
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    key_dir.chmod(0o700)
    gpg = ["gpg", "--batch", "--homedir", str(key_dir)]
    listing = run([*gpg, "--with-colons", "--list-secret-keys"], "listing the key")
    if "fpr:" not in listing:
        run([*gpg, "--passphrase", "", "--quick-gen-key", KEY_NAME, "ed25519", "sign", "never"],
            "making the repository key")
        listing = run([*gpg, "--with-colons", "--list-secret-keys"], "listing the key")
    return next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))


def export_key(key_dir: Path, fingerprint: str, target: Path) -> None:
    data = subprocess.run(["gpg", "--batch", "--homedir", str(key_dir), "--export", fingerprint],
                          capture_output=True, check=True).stdout
    target.write_bytes(data)


# --------------------------------------------------------------------------- the index

def index_debian(folder: Path, suite: str, key_dir: Path, fingerprint: str) -> None:
    """Packages, Release and its signatures (InRelease, Release.gpg) for a flat repository."""
    packages = run(["apt-ftparchive", "packages", "."], "indexing the packages", cwd=folder)
    (folder / "Packages").write_text(packages)
    with gzip.open(folder / "Packages.gz", "wt") as f:
        f.write(packages)
    for old in ("Release", "InRelease", "Release.gpg"):
        (folder / old).unlink(missing_ok=True)
    options = [f"-oAPT::FTPArchive::Release::{k}={v}" for k, v in (
        ("Origin", "Luot"), ("Label", "Luot offline repository"), ("Suite", suite), ("Codename", suite),
        ("Architectures", "arm64 all"), ("Components", ""))]
    (folder / "Release").write_text(run(["apt-ftparchive", *options, "release", "."], "the Release file",
                                        cwd=folder))
    gpg = ["gpg", "--batch", "--homedir", str(key_dir), "--local-user", fingerprint, "--yes"]
    run([*gpg, "--clearsign", "-o", str(folder / "InRelease"), str(folder / "Release")], "signing InRelease")
    run([*gpg, "-abs", "-o", str(folder / "Release.gpg"), str(folder / "Release")], "signing Release.gpg")


PINNED = ("Package", "Version", "Architecture", "Filename", "SHA256")


def packages_of(folder: Path) -> list[dict[str, str]]:
    """The pinned list for the manifest, read back from the index apt will read."""
    found, entry = [], {}
    for line in [*(folder / "Packages").read_text().splitlines(), ""]:
        if not line.strip():
            if entry:
                found.append({k: entry[k] for k in PINNED})
            entry = {}
        elif ":" in line and not line.startswith(" "):
            key, value = line.split(":", 1)
            entry[key] = value.strip()
    return sorted(found, key=lambda e: e["Package"])


# ---------------------------------------------------------------------- Debian packages

def scratch_apt(root: Path, sources: str) -> list[str]:
    """apt options for a state of its own in `root`, reading only `sources`: the machine's
    own apt configuration, lists and cache are neither read nor touched."""
    for d in ("lists/partial", "cache/archives/partial", "parts"):
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "status").touch()
    (root / "sources.list").write_text(sources)
    settings = {
        "Dir::Etc::SourceList": root / "sources.list", "Dir::Etc::SourceParts": root / "parts",
        "Dir::State::Lists": root / "lists", "Dir::State::status": root / "status",
        "Dir::Cache": root / "cache",
        "Debug::NoLocking": 1, "APT::Sandbox::User": "root", "APT::Install-Recommends": "false",
    }
    return [arg for k, v in settings.items() for arg in ("-o", f"{k}={v}")]


def download_debian(suite: str, packages: list[str], target: Path) -> None:
    """Every arm64 package `packages` need, with its dependencies, from Debian's archive;
    the empty dpkg status makes apt resolve the whole closure, base libraries included."""
    with tempfile.TemporaryDirectory(prefix=f"luot-apt-{suite}-") as tmp:
        root = Path(tmp)
        signed = f"[arch=arm64 signed-by={DEBIAN_KEYRING}]"
        sources = (f"deb {signed} {DEBIAN} {suite} main\ndeb {signed} {DEBIAN} {suite}-updates main\n"
                   f"deb {signed} {DEBIAN_SECURITY} {suite}-security main\n")
        apt = ["apt-get", "-q", "-o", "APT::Architecture=arm64", "-o", "APT::Architectures=arm64",
               *scratch_apt(root, sources)]
        run([*apt, "update"], f"apt-get update for {suite}")
        run([*apt, "install", "--download-only", "-y", *packages], f"downloading {suite}'s packages")
        target.mkdir(parents=True, exist_ok=True)
        for deb in sorted((root / "cache/archives").glob("*.deb")):
            shutil.move(str(deb), target / deb.name)


# ------------------------------------------------------------------------------- wheels

def download_wheels(wheel: Path, target: Path) -> None:
    extras = ",".join(sorted({e for r in ROLES.values() for e in r.extras}))
    requirement = f"luot[{extras}] @ {wheel.resolve().as_uri()}"
    for python in PYTHONS:
        abi = "cp" + python.replace(".", "")
        platforms = [arg for p in PLATFORMS for arg in ("--platform", p)]
        run([sys.executable, "-m", "pip", "download", "--quiet", "--dest", str(target), "--only-binary=:all:",
             *platforms, "--implementation", "cp", "--python-version", python,
             "--abi", abi, "--abi", "abi3", "--abi", "none", requirement],
            f"downloading the wheels for CPython {python} on aarch64")
    write_wheel_index(target)


def build_repository(wheel: Path, out: Path, key_dir: Path, suites: tuple[str, ...] = SUITES,
                     *, debian: bool = True) -> dict[str, Any]:
    """Make (or refresh) the repository in `out`; returns the manifest it wrote."""
    if not wheel.is_file() or wheel.suffix != ".whl" or not wheel.name.startswith("luot-"):
        raise BuildError(f"{wheel}: not Lượt's wheel (build it: python3 -m pip wheel --no-deps . -w dist/)")
    need("gpg", *(("apt-get", "apt-ftparchive") if debian else ()))
    started = time.monotonic()
    fingerprint = signing_key(key_dir)
    out.mkdir(parents=True, exist_ok=True)
    wheels = out / "wheels"
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir()
    download_wheels(wheel, wheels)
    if not (wheels / wheel.name).is_file():
        shutil.copy(wheel, wheels / wheel.name)
    export_key(key_dir, fingerprint, out / KEY_FILE)
    manifest: dict[str, Any] = {
        "made": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "luot": {"wheel": wheel.name, "sha256": sha256_of(wheels / wheel.name),
                 "version": wheel.name.split("-")[1]},
        "key": {"file": KEY_FILE, "fingerprint": fingerprint},
        "wheels": [{"file": p.name, "sha256": sha256_of(p)} for p in sorted(wheels.glob("*.whl"))],
        "debian": {},
    }
    if debian:
        for suite in suites:
            folder = out / "debian" / suite
            shutil.rmtree(folder, ignore_errors=True)
            download_debian(suite, all_packages(), folder)
            index_debian(folder, suite, key_dir, fingerprint)
            manifest["debian"][suite] = packages_of(folder)
    manifest["bytes"] = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    manifest["build_s"] = round(time.monotonic() - started, 1)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest
