"""What the `luot check-site` tests share: the command run on files, its output captured,
and files written for it (the provisioned `devices` fixture is in conftest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.check_site import main


def check(capsys: pytest.CaptureFixture[str], *files: Path) -> tuple[int, str]:
    code = main([str(f) for f in files])
    return code, capsys.readouterr().out


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path
