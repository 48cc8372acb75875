"""The one isolation module: one answer to "is the jail used here?", one description of a
hand-in's jail, two ways in (cold, warm), and no other module of coursekit that isolates."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from coursekit.config import Course, Grading
from coursekit.doctor import isolation as doctor_isolation
from coursekit.grade import jail
from tests.helpers import ROOT

# what building or entering a jail takes: no module but jail.py (and warm.py, its warm way in,
# seccomp.py, the filter it loads) may name these
ISOLATING = ("bwrap", "unshare", "setns", "setpriv", "cgroup.procs", "PR_SET_NO_NEW_PRIVS")
ALLOWED = {"jail.py", "warm.py", "seccomp.py"}


def _strings(path: Path) -> set[str]:
    """The string constants of a module (its code, not its comments)."""
    tree = ast.parse(path.read_text())
    return {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def isolating_modules(package: Path) -> set[str]:
    """Modules of ``package`` whose code builds or enters a jail (names one of ISOLATING)."""
    found = set()
    for path in package.rglob("*.py"):
        words = _strings(path)
        code = ast.dump(ast.parse(path.read_text()))
        if any(w in s for s in words for w in ISOLATING) or any(w in code for w in ISOLATING):
            found.add(path.name)
    return found


def test_only_the_jail_module_isolates():
    assert isolating_modules(ROOT / "coursekit") <= ALLOWED


def test_the_check_finds_a_second_sandbox(tmp_path):
    (tmp_path / "sandbox.py").write_text('CMD = ["unshare", "--mount", "--", "python"]\n')
    (tmp_path / "fine.py").write_text("print('hello')\n")
    assert isolating_modules(tmp_path) == {"sandbox.py"}


def test_turned_off_it_refuses_and_says_why(monkeypatch):
    monkeypatch.setenv("COURSE_GRADING_SANDBOX", "0")
    found = jail.isolation()
    assert not found.jailed and found.mode == "workdir"
    assert "COURSE_GRADING_SANDBOX=0" in found.why_not
    refusal = found.refusal()
    assert refusal.startswith("grading refused") and "--trusted" in refusal and "bubblewrap" in refusal
    mode, words = doctor_isolation(Course.load(ROOT))  # doctor prints what grading decides
    assert mode == "workdir" and found.why_not in words and "grading refuses" in words


def test_doctor_says_what_grading_uses():
    mode, words = doctor_isolation(Course.load(ROOT))
    found = jail.isolation()
    assert mode == found.mode
    if found.jailed:
        assert words.startswith("bubblewrap jail") and "memory 4 GiB" in words
    else:
        assert found.why_not in words


def test_an_unjailed_folder_holds_only_plain_data_files(tmp_path):
    """Trusted mode: a fresh folder with the hand-in's files, no notebook, no dot file, no link."""
    source = tmp_path / "handin"
    (source / "data").mkdir(parents=True)
    (source / "data" / "x.csv").write_text("1,2\n")
    (source / "work.ipynb").write_text("{}")
    (source / ".secret").write_text("no")
    (source / "link").symlink_to("/etc/passwd")
    cage = jail.Jail(str(source), jail.Limits.of(Grading()), {"KERAS_BACKEND": "torch"}, jailed=False)
    try:
        kept = sorted(str(p.relative_to(cage.workdir)) for p in Path(cage.workdir).rglob("*"))
        assert kept == ["data", "data/x.csv"], kept
        assert cage.uid is None and cage.cgroup is None and cage.sockets is None
        assert cage.env["KERAS_BACKEND"] == "torch" and cage.env["HOME"] == jail.HOME
        assert "PGPASSWORD" not in cage.env
    finally:
        cage.close()
    assert not os.path.exists(cage.workdir)


@pytest.mark.skipif(not jail.isolation().jailed, reason="the jail needs root, bubblewrap and cgroups")
def test_a_jail_is_one_description_entered_two_ways(tmp_path):
    limits = jail.Limits(
        memory_bytes=jail.GIB, processes=64, disk_bytes=jail.GIB // 4, network=False, cpus=1.0
    )
    cage = jail.Jail(None, limits, {"COURSE_X": "1"}, jailed=True)
    try:
        cold, held = cage.command(), cage.command(hold=True)
        assert "--hold" in held and [a for a in held if a != "--hold"] == cold
        for flag in ("--workdir", "--sockets", "--uid", "--disk", "--cgroup-procs", "--keep"):
            assert flag in cold
        assert cold[cold.index("COURSE_X=1") - 1] == "--env"  # handed over: the jail's program reads none
        request = cage.warm_request()
        assert request["uid"] == cage.uid and request["env"] == cage.env
        assert request["cgroup_procs"] == cage.cgroup.procs_files()
        assert all(os.path.exists(p) for p in request["cgroup_procs"])
        assert os.stat(cage.sockets).st_uid == cage.uid
    finally:
        cage.close()
    assert not os.path.exists(cage.sockets) and not any(os.path.exists(p) for p in request["cgroup_procs"])
