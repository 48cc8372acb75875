"""The instructor's one command, and the rule that nothing joins modules by paths."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.helpers import KIT, ROOT

SUBCOMMANDS = ("build", "check", "execute", "release", "collect", "grade", "feedback", "selfcheck", "publish",
               "doctor", "export", "site")


def test_help_lists_every_subcommand():
    result = subprocess.run([*KIT, "--help"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    for name in SUBCOMMANDS:
        assert re.search(rf"^\s+{name}\s", result.stdout, re.M), f"{name} missing from --help"


def test_console_script_is_installed():
    import shutil
    import sys
    from pathlib import Path

    script = Path(sys.executable).with_name("coursekit")
    assert script.exists() or shutil.which("coursekit"), "pip install -e . installs the `coursekit` command"


def test_outside_a_course_says_what_to_do(tmp_path):
    result = subprocess.run([*KIT, "check"], capture_output=True, text=True, cwd=tmp_path,
                            env={"PATH": "/usr/bin:/bin"})  # fmt: skip
    assert result.returncode == 2
    assert "course.toml" in result.stderr and "--course" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_path_hacks_anywhere():
    """Modules are imported by name: no edits of the import path, no loading files by path."""
    # what `grep -rn` for the import path would find; the pattern is built so that it does not match itself
    banned = re.compile("|".join(["sys" + r"\.path", "spec_from_" + "file_location"]))
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {"_build", "build"} or rel.parts[0].startswith(".") or path.resolve() == __file__:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if banned.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def _imports_of(path: Path) -> set[str]:
    """The coursekit modules a module imports, at its top or inside functions."""
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("coursekit"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("coursekit"))
    return found


def test_no_import_cycle_among_coursekit_modules():
    """Every module's imports (also those inside functions) form no cycle: each job can be read alone."""
    package = ROOT / "coursekit"
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
               for p in package.rglob("*.py")}  # fmt: skip
    graph = {name: {m for m in _imports_of(path)
                    if m in modules and m not in {name, "coursekit"} and not name.startswith(m + ".")}
             for name, path in modules.items()}  # fmt: skip
    state: dict[str, int] = {}

    def visit(name: str, trail: list[str]) -> None:
        state[name] = 1
        for other in sorted(graph[name]):
            if state.get(other) == 1:
                raise AssertionError("import cycle: " + " -> ".join([*trail[trail.index(other):], other]))
            if other not in state:
                visit(other, [*trail, other])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
