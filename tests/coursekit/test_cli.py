"""The instructor's one command, and the rule that nothing joins modules by paths."""

from __future__ import annotations

import re
import subprocess

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
