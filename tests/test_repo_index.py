"""The offline repository's Debian index, signed with its own key, read by the real apt in a
scratch state: accepted as signed, refused when tampered with or signed by another key.
(Downloading Debian's packages and the wheels needs the internet: `make pi-test` does it.)"""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path

import pytest

from provisioning.__main__ import main
from provisioning.repo_build import export_key, index_debian, packages_of, scratch_apt, signing_key

pytestmark = pytest.mark.skipif(
    any(shutil.which(p) is None for p in ("gpg", "apt-ftparchive", "apt-get", "dpkg-deb")),
    reason="needs gpg, apt-utils (apt-ftparchive) and dpkg-deb")


def make_deb(folder: Path, name: str, version: str) -> Path:
    tree = folder / f"{name}-tree"
    (tree / "DEBIAN").mkdir(parents=True)
    (tree / "DEBIAN/control").write_text(
        f"Package: {name}\nVersion: {version}\nArchitecture: all\nMaintainer: Lượt <repo@luot.invalid>\n"
        "Description: a package for the repository test\n")
    deb = folder / f"{name}_{version}_all.deb"
    subprocess.run(["dpkg-deb", "--build", "--root-owner-group", str(tree), str(deb)], check=True,
                   capture_output=True)
    shutil.rmtree(tree)
    return deb


def apt(root: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    """apt-get/apt-cache against only `source`, with a state of its own."""
    program = "apt-cache" if args[0] in ("show", "policy") else "apt-get"
    return subprocess.run([program, *scratch_apt(root, source + "\n"), *args], capture_output=True, text=True,
                          timeout=60)


def test_apt_trusts_the_signed_index_and_nothing_else(tmp_path: Path) -> None:
    key_dir, repo = tmp_path / "key", tmp_path / "repo"
    fingerprint = signing_key(key_dir)
    assert signing_key(key_dir) == fingerprint, "the key is kept for the next build"
    assert oct(key_dir.stat().st_mode & 0o777) == "0o700"
    suite = repo / "debian/bookworm"
    suite.mkdir(parents=True)
    make_deb(suite, "luot-probe", "1.2-3")
    index_debian(suite, "bookworm", key_dir, fingerprint)
    export_key(key_dir, fingerprint, repo / "repo.gpg")
    assert packages_of(suite) == [{"Package": "luot-probe", "Version": "1.2-3", "Architecture": "all",
                                   "Filename": "./luot-probe_1.2-3_all.deb",
                                   "SHA256": packages_of(suite)[0]["SHA256"]}]
    source = f"deb [signed-by={repo / 'repo.gpg'}] file:{suite} ./"
    done = apt(tmp_path / "apt", source, "update")
    assert done.returncode == 0 and "NO_PUBKEY" not in done.stderr, done.stderr
    assert "Version: 1.2-3" in apt(tmp_path / "apt", source, "show", "luot-probe").stdout

    other = signing_key(tmp_path / "other-key")
    export_key(tmp_path / "other-key", other, tmp_path / "other.gpg")
    wrong = apt(tmp_path / "apt2", f"deb [signed-by={tmp_path / 'other.gpg'}] file:{suite} ./", "update")
    assert wrong.returncode != 0 and "NO_PUBKEY" in wrong.stderr and "is not signed" in wrong.stderr
    assert "luot-probe" not in apt(tmp_path / "apt2", "", "show", "luot-probe").stdout

    evil = (suite / "Packages").read_text() + "\nPackage: evil\nVersion: 6.6.6\nArchitecture: all\n"
    (suite / "Packages").write_text(evil)
    with gzip.open(suite / "Packages.gz", "wt") as f:
        f.write(evil)
    tampered = apt(tmp_path / "apt3", source, "update")
    assert tampered.returncode != 0 and "Hash Sum mismatch" in tampered.stderr, tampered.stderr
    assert "6.6.6" not in apt(tmp_path / "apt3", source, "show", "evil").stdout


def test_the_builder_wants_luots_own_wheel(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "requests-2.0-py3-none-any.whl"
    other.write_bytes(b"PK")
    assert main(["repo", "--wheel", str(other), "--out", str(tmp_path / "r"),
                 "--key-dir", str(tmp_path / "k")]) == 1
    assert "not Lượt's wheel" in capsys.readouterr().out
    assert not (tmp_path / "r").exists() and not (tmp_path / "k").exists(), "nothing made before the check"
