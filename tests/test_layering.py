"""The layers, read from the imports: the core imports no role and no tool; a role no tool.

`luot/` is what every device imports; the roles are what runs on a device or the
technician's laptop; tools (`tools/`) and the harness (`testbed/`, `bench/`) sit
beside them and may use any of them, never the other way round.
"""

from __future__ import annotations

import ast
import gc
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE = "luot"
ROLES = ("dispatcher", "kiosk", "display", "counter_button", "broker_config", "provisioning", "web", "city",
         "fleet")
TOOLS = ("tools", "testbed", "bench")
PROJECT = (CORE, *ROLES, *TOOLS)


def _parse(path: Path) -> ast.Module:
    """ast.parse with the collector paused: Python 3.11.7's parser fails with "AST constructor
    recursion depth mismatch" when a finalizer runs inside it (CPython gh-106905)."""
    gc.disable()
    try:
        return ast.parse(path.read_text(encoding="utf-8"))
    finally:
        gc.enable()


def project_imports(package: str) -> list[tuple[str, int, str]]:
    """(file, line, imported top-level package) for every project import under `package`."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(_parse(path)):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            found += [(str(path.relative_to(ROOT)), node.lineno, n.split(".")[0])
                      for n in names if n.split(".")[0] in PROJECT]
    return found


def test_the_scan_sees_imports():
    """The checker itself: the roles do import the core, so a scan that finds nothing is broken."""
    assert any(target == CORE for _, _, target in project_imports("dispatcher"))


def test_the_core_imports_no_role_and_no_tool():
    wrong = [f"{file}:{line} imports {target}"
             for file, line, target in project_imports(CORE) if target != CORE]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("role", ROLES)
def test_a_role_imports_no_tool(role):
    wrong = [f"{file}:{line} imports {target}"
             for file, line, target in project_imports(role) if target in TOOLS]
    assert not wrong, "\n".join(wrong)


def test_the_readme_map_names_every_folder_and_only_those() -> None:
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    folders = {line.split("/", 1)[0] for line in tracked.splitlines()
               if "/" in line and not line.startswith(".")}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Working on Lượt", 1)[1].split("\n## ", 1)[0]
    mapped = set(re.findall(r"^\| `([^`/]+)/` \|", section, flags=re.M))
    assert mapped == folders
