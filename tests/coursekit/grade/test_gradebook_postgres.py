"""The gradebook on a real PostgreSQL server grades exactly like the SQLite file.

Several graders (a formgrader on JupyterHub) share one gradebook on a database server:
``COURSE_GRADEBOOK_URL=postgresql://...`` (coursekit.grade.gradebook). A module fixture starts a
private PostgreSQL server (``initdb`` + ``pg_ctl`` in a temporary folder, a free port on
127.0.0.1, trust authentication: nothing else can reach it) and stops it at the end; without
PostgreSQL's binaries (``make setup`` installs Debian's ``postgresql`` when it can) the test
is skipped.

The same three hand-ins of ``matmul_timing`` (made from the real release and the worked
solutions: a perfect one, one with a wrong convolution, one that is no notebook) are
collected and graded in two copies of the course, one with PostgreSQL and one with SQLite:
scores, statuses and grades.csv must agree, the grades must really be in PostgreSQL, and a
second ``grade`` run must not duplicate any submission.
"""

from __future__ import annotations

import csv
import glob
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

from coursekit.grade.gradebook import with_driver
from tests.helpers import KIT, fill, scratch_course

NAME = "matmul_timing"
AUTO = 10  # autograded points of matmul_timing
TIMEOUT_S = 20  # per cell, as in test_grading_robustness.py
STUDENTS = ("perfect", "wrongconv", "notnotebook")


# --------------------------------------------------------------- a private server


def _pg_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: Debian's newest, else the one on PATH."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def postgres_url():
    """``postgresql://postgres@127.0.0.1:<port>/gradebook`` of a server only this module uses."""
    pytest.importorskip("psycopg2", reason="psycopg2-binary is not installed (requirements.txt)")
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip(
            "PostgreSQL is not installed (no initdb): `make setup` as root, or apt-get install postgresql"
        )
    as_user: list[str] = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        try:
            import pwd

            owner = pwd.getpwnam("postgres")
        except KeyError:
            pytest.skip("running as root and there is no 'postgres' system user to run the server as")
        if not shutil.which("runuser"):
            pytest.skip("running as root without runuser: cannot start the server as 'postgres'")
        as_user = ["runuser", "-u", "postgres", "--"]
    # Not under pytest's tmp_path: its parent is private to root, the postgres user could not enter.
    base = Path(tempfile.mkdtemp(prefix="pg-gradebook-"))
    data, log = base / "data", base / "server.log"
    if as_user:
        os.chown(base, owner.pw_uid, owner.pw_gid)
    port = _free_port()

    def pg(tool: str, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [*as_user, str(bindir / tool), *args], capture_output=True, text=True, timeout=timeout, cwd=base
        )
        assert result.returncode == 0, f"{tool} failed: {result.stdout[-2000:]}{result.stderr[-2000:]}"
        return result

    started = False
    try:
        pg("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--no-locale")
        pg(
            "pg_ctl",
            "-D",
            str(data),
            "-l",
            str(log),
            "-w",
            "-t",
            "60",
            "-o",
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1",
            "start",
        )
        started = True
        pg("createdb", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "gradebook")
        yield f"postgresql://postgres@127.0.0.1:{port}/gradebook"
    finally:
        if started:
            subprocess.run(
                [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                capture_output=True,
                timeout=60,
                cwd=base,
            )
        shutil.rmtree(base, ignore_errors=True)


# ------------------------------------------------------------------ the hand-ins


def _gid(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _perfect(release, answers):
    return fill(release, answers)


def _wrong_conv(release, answers):
    """conv2d_python adds instead of multiplying: test_conv_python (1 point) fails."""
    nb = _perfect(release, answers)
    cell = next(c for c in nb.cells if _gid(c) == "conv_python")
    cell.source = cell.source.replace("s += x_row[j + b] * k_row[b]", "s += x_row[j + b] + k_row[b]")
    assert cell.source != answers["conv_python"]
    return nb


def _course(folder: Path) -> Path:
    folder.mkdir(parents=True)
    return scratch_course(folder)


def _read_csv(path: Path, key: str = "student_id") -> dict[str, dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return {r[key]: r for r in csv.DictReader(f)}


def _cells(url: str) -> dict[str, dict[str, tuple]]:
    """{student: {grade_id: (auto_score, manual_score, score)}} from the gradebook at ``url``."""
    from nbgrader.api import Gradebook

    with Gradebook(with_driver(url)) as gb:
        students = sorted(s.student.id for s in gb.assignment_submissions(NAME))
        return {
            s: {
                g.name: (g.auto_score, g.manual_score, g.score)
                for g in gb.find_submission_notebook(NAME, NAME, s).grades
            }
            for s in students
        }


@pytest.fixture(scope="module")
def graded(postgres_url, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gradebooks")
    base_env = {k: v for k, v in os.environ.items() if k != "COURSE_GRADEBOOK_URL"}
    base_env["COURSE_GRADING_TIMEOUT"] = str(TIMEOUT_S)
    courses = {"postgres": _course(tmp / "postgres"), "sqlite": _course(tmp / "sqlite")}
    envs = {"postgres": dict(base_env, COURSE_GRADEBOOK_URL=postgres_url), "sqlite": base_env}
    seconds: dict[str, float] = {}

    def run(which: str, *args: str) -> subprocess.CompletedProcess:
        root = courses[which]
        started = time.perf_counter()
        result = subprocess.run(
            [*KIT, *args], cwd=root, env=envs[which], capture_output=True, text=True, timeout=600
        )
        seconds[f"{which} {args[0]}"] = seconds.get(f"{which} {args[0]}", 0) + time.perf_counter() - started
        return result

    # Release into each gradebook (autograde needs the assignment in the database).
    for which in courses:
        released = run(which, "release", NAME)
        assert released.returncode == 0, released.stdout[-3000:] + released.stderr[-3000:]
    release = nbformat.read(courses["postgres"] / "release" / NAME / f"{NAME}.ipynb", as_version=4)
    solution = nbformat.read(courses["postgres"] / "solutions" / f"{NAME}.ipynb", as_version=4)
    answers = {_gid(c): c.source for c in solution.cells if _gid(c)}
    handins = tmp / "handins"
    handins.mkdir()
    for student, make in (("perfect", _perfect), ("wrongconv", _wrong_conv)):
        (handins / f"{student}__{NAME}.ipynb").write_text(json.dumps(make(release, answers), indent=1))
    (handins / f"notnotebook__{NAME}.ipynb").write_text(json.dumps({"name": "my homework", "answer": 42}))

    out = {"courses": courses, "url": postgres_url, "seconds": seconds}
    for which in courses:
        collected = run(which, "collect", str(handins))
        assert collected.returncode == 0, collected.stdout[-3000:] + collected.stderr[-3000:]
        graded = run(which, "grade", NAME, "--no-canary")  # the canary: test_canary.py
        root = courses[which]
        url = postgres_url if which == "postgres" else f"sqlite:///{root / 'gradebook.db'}"
        out[which] = {
            "grade": graded,
            "report": _read_csv(root / "grading_report.csv"),
            "grades": _read_csv(root / "grades.csv"),
            "cells": _cells(url),
        }
    regraded = run("postgres", "grade", NAME, "--no-canary")
    out["regrade"] = {"grade": regraded, "report": _read_csv(courses["postgres"] / "grading_report.csv")}
    print("timings:", {k: f"{v:.1f} s" for k, v in seconds.items()})
    return out


# ------------------------------------------------------------------------ tests


@pytest.mark.slow
def test_same_scores_and_statuses(graded):
    pg, sq = graded["postgres"]["report"], graded["sqlite"]["report"]
    print(graded["postgres"]["grade"].stdout[-2000:])
    assert set(pg) == set(sq) == set(STUDENTS), graded["postgres"]["grade"].stderr[-3000:]
    for student in STUDENTS:
        for field in ("status", "score", "max_score"):
            assert pg[student][field] == sq[student][field], (student, pg[student], sq[student])
    assert pg["perfect"]["status"] == "graded" and float(pg["perfect"]["score"]) == AUTO, pg["perfect"]
    wrong = pg["wrongconv"]
    assert wrong["status"] == "graded" and float(wrong["score"]) == AUTO - 1, wrong
    assert pg["notnotebook"]["status"] == "not graded" and pg["notnotebook"]["score"] == "", pg["notnotebook"]
    # the only failure of both runs is the file that is no notebook
    for which in ("postgres", "sqlite"):
        failures = [line for line in graded[which]["grade"].stderr.splitlines() if line.startswith("FAILED:")]
        assert len(failures) == 1 and "notnotebook" in failures[0], graded[which]["grade"].stderr[-3000:]


@pytest.mark.slow
def test_grades_csv_from_postgres_equals_sqlite(graded):
    pg, sq = graded["postgres"]["grades"], graded["sqlite"]["grades"]
    assert set(pg) == set(sq) and {"perfect", "wrongconv"} <= set(pg), (pg, sq)
    assert pg == sq


@pytest.mark.slow
def test_gradebook_lives_in_postgres(graded):
    from nbgrader.api import Gradebook

    assert not (graded["courses"]["postgres"] / "gradebook.db").exists(), "an SQLite gradebook was written"
    assert (graded["courses"]["sqlite"] / "gradebook.db").is_file()
    with Gradebook(with_driver(graded["url"])) as gb:
        assert gb.engine.dialect.name == "postgresql"
        assert [a.name for a in gb.assignments] == [NAME]
        subs = {s.student.id: s for s in gb.assignment_submissions(NAME)}
        assert set(subs) == {"perfect", "wrongconv"}  # the unreadable hand-in has no grade
        assert subs["perfect"].score == AUTO and subs["wrongconv"].score == AUTO - 1
    cells = graded["postgres"]["cells"]
    assert cells["wrongconv"]["test_conv_python"][0] == 0 and cells["perfect"]["test_conv_python"][0] == 1
    assert cells == graded["sqlite"]["cells"]  # every cell's auto, manual and final score


@pytest.mark.slow
def test_regrading_into_postgres_keeps_one_submission_per_student(graded):
    from nbgrader.api import Gradebook, SubmittedAssignment

    regrade = graded["regrade"]
    assert regrade["report"].keys() == graded["postgres"]["report"].keys()
    for student, row in regrade["report"].items():
        first = graded["postgres"]["report"][student]
        assert row["status"] == first["status"], (row, first, regrade["grade"].stderr[-3000:])
    with Gradebook(with_driver(graded["url"])) as gb:
        rows = gb.db.query(SubmittedAssignment).all()
        ids = sorted(s.student.id for s in rows)
        assert ids == ["perfect", "wrongconv"], ids
        for student in ("perfect", "wrongconv"):
            assert f"{gb.find_submission(NAME, student).score:g}" == regrade["report"][student]["score"]
