"""Grading on a real Dask cluster (``coursekit grade --scheduler``) against grading on this machine.

A ``dask scheduler`` and ``dask worker`` processes (``--nthreads 1``, each in a working folder of
its own, no course folder shared with the instructor's) grade 20 hand-ins of two assignments
(matmul_timing and param_study_pytorch); a scratch course grades the same hand-ins locally.
Every score must be the same. One worker is killed (SIGKILL) after the first result: every
hand-in is still graded exactly once. A worker without bubblewrap (its PATH has everything but
``bwrap``) fails its canary and takes no hand-in, and so does one that joins during the run; the
two workers with the same environment run one canary between them.
Then the scheduler is stopped mid-run, and ``--resume`` on a new cluster grades the rest, none twice.
A hand-in whose grading loses its worker again and again (each worker running it is killed) is
reported "not graded: killed its worker N times"; the other hand-ins are graded.
Needs the jail (root, bubblewrap, cgroups) and the real data (param_study reads MNIST).
"""

from __future__ import annotations

import csv
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from coursekit.grade import jail
from tests.helpers import KIT, answers_of, autograded_scores, fill, kit, read

NAME, OTHER = "matmul_timing", "param_study_pytorch"
NAMES = [NAME, OTHER]
# hand-ins: student -> (assignment, which answer cells are left as released); None: the release as it is
FIRST = {
    "s01": (NAME, []),
    "s02": (NAME, ["matmul_python"]),
    "s03": (NAME, ["conv_python"]),
    "s04": (NAME, ["matmul_libs", "table_b"]),
    "s05": (NAME, ["fit_a"]),
    "s06": (NAME, None),
    "s11": (OTHER, []),
    "s12": (OTHER, ["build_mlp"]),
    "s13": (OTHER, ["train_once"]),
    "s14": (OTHER, None),
    "s15": (OTHER, ["run_sweep"]),
}
LATER = {
    "s07": (NAME, []),
    "s08": (NAME, ["conv_libs"]),
    "s09": (NAME, ["timing_b"]),
    "s10": (NAME, ["matmul_python", "fit_a"]),
    "s16": (OTHER, []),
    "s17": (OTHER, ["build_mlp", "train_once"]),
    "s18": (OTHER, []),
    "s19": (OTHER, ["run_sweep"]),
    "s20": (OTHER, None),
}
DATA = os.environ.get("COURSE_DATA_DIR", "")
ROW = re.compile(r"^\s*(s\d\d) (?:" + "|".join(NAMES) + r")\s+(graded|not graded)")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(jail.available() is not None, reason=f"no jail here: {jail.available()}"),
    pytest.mark.skipif(not DATA, reason="COURSE_DATA_DIR is not set: param_study reads MNIST (README)"),
]

DASK = str(Path(sys.executable).with_name("dask"))


def _handins(root: Path, folder: Path, which: dict, names=NAMES) -> None:
    folder.mkdir()
    for name in names:
        release = read(root / "release" / name / f"{name}.ipynb")
        answers = answers_of(read(root / "solutions" / f"{name}.ipynb"))
        stubs = {
            c.metadata["nbgrader"]["grade_id"]: c.source
            for c in release.cells
            if c.metadata.get("nbgrader", {}).get("solution")
        }
        for student, (assignment, blank) in which.items():
            if assignment != name:
                continue
            nb = release if blank is None else fill(release, {**answers, **{k: stubs[k] for k in blank}})
            nbformat.write(nb, folder / f"{student}__{name}.ipynb")
    assert kit(root, "collect", str(folder)).returncode == 0


def _report(root: Path) -> dict[str, dict]:
    with open(root / "grading_report.csv", newline="") as f:
        return {r["student_id"]: r for r in csv.DictReader(f) if r["assignment"] in NAMES}


def _submissions(root: Path) -> list[str]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        return sorted(
            s.student.id
            for name in NAMES
            if name in {a.name for a in gb.assignments}
            for s in gb.find_assignment(name).submissions
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A ``dask scheduler`` and its ``dask worker`` processes, each in its own process group and folder."""

    def __init__(self, folder: Path, scheduler_env: dict | None = None):
        self.folder, self.port = folder, _free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"
        self.scheduler = self._start(
            "scheduler",
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", str(self.port), "--no-dashboard"],
            env=dict(os.environ, **(scheduler_env or {})),
        )
        self.workers: dict[str, subprocess.Popen] = {}

    def _start(self, name: str, cmd: list[str], env: dict | None = None) -> subprocess.Popen:
        cwd = self.folder / name
        cwd.mkdir(parents=True)
        log = open(cwd / "log.txt", "w")
        return subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def worker(self, name: str, env: dict | None = None) -> None:
        env = dict(env or os.environ, COURSE_DATA_DIR=DATA)
        self.workers[name] = self._start(
            name,
            [
                DASK,
                "worker",
                self.address,
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--name",
                name,
                "--local-directory",
                str(self.folder / name / "scratch"),
            ],
            env,
        )

    def wait(self, n: int, timeout: float = 300) -> None:
        """Until ``n`` workers have joined the scheduler (each counts the others on its machine
        when the grading run sets it up)."""
        from distributed import Client

        with Client(self.address, timeout=timeout) as client:
            client.wait_for_workers(n, timeout=timeout)

    @staticmethod
    def kill(process: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
        process.wait(timeout=60)

    def close(self) -> None:
        for process in [*self.workers.values(), self.scheduler]:
            if process.poll() is None:
                self.kill(process, signal.SIGTERM if process is self.scheduler else signal.SIGKILL)


def _without_bwrap(folder: Path, name: str = "") -> dict:
    """An environment whose PATH has every program of /usr/bin and /bin but bubblewrap."""
    bin_ = folder / f"bin-without-bwrap{name}"
    bin_.mkdir()
    for source in (Path("/usr/bin"), Path("/bin"), Path(sys.executable).parent):
        for program in source.iterdir():
            if program.name != "bwrap" and not (bin_ / program.name).exists():
                (bin_ / program.name).symlink_to(program)
    return dict(os.environ, PATH=str(bin_))


def _grade_on(
    cluster: Cluster, root: Path, *args: str, after_first=None, names=NAMES
) -> tuple[int, str, str, list[str]]:
    """``coursekit grade NAME --scheduler ...``: exit status, stdout, stderr, students in row order;
    ``after_first()`` is called when the first row is printed."""
    env = dict(os.environ, COURSE_DATA_DIR=DATA)
    cmd = [*KIT, "grade", *names, "--scheduler", cluster.address, *args]
    process = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines, students = [], []
    for line in process.stdout:
        lines.append(line)
        if found := ROW.match(line):
            students.append(found.group(1))
            if after_first and len(students) == 1:
                after_first()
    stderr = process.stderr.read()
    return process.wait(timeout=900), "".join(lines), stderr, students


@pytest.fixture(scope="module")
def local(make_course, tmp_path_factory):
    """The same hand-ins graded on this machine (one job per core, or this xdist worker's share
    of them, tests/conftest.py): the scores to match."""
    root = make_course(NAMES)
    _handins(root, root / "handins", {**FIRST, **LATER})
    result = kit(root, "grade", *NAMES, "--no-canary", env=dict(os.environ, COURSE_DATA_DIR=DATA))
    assert set(_report(root)) == set(FIRST) | set(LATER), result.stdout[-3000:] + result.stderr[-3000:]
    failed = sum(r["status"] != "graded" for r in _report(root).values())
    assert f"grading: 20/20 hand-ins (100%), {failed} not graded, 0 s left" in result.stderr, result.stderr
    return root


@pytest.fixture(scope="module")
def course(make_course):
    root = make_course(NAMES)
    _handins(root, root / "handins", FIRST)
    return root


def _same_scores(root: Path, local: Path, students) -> None:
    theirs, ours = _report(root), _report(local)
    for student in students:
        assert theirs[student]["status"] == ours[student]["status"], (student, theirs[student], ours[student])
        assert theirs[student]["score"] == ours[student]["score"], (student, theirs[student], ours[student])
        if ours[student]["status"] == "graded":
            name = {**FIRST, **LATER}[student][0]
            assert autograded_scores(root, name, student) == autograded_scores(local, name, student), student


def test_cluster_grades_as_local_once_each_despite_a_killed_worker(course, local, tmp_path):
    cluster = Cluster(tmp_path / "cluster")
    try:
        cluster.worker("w1")
        cluster.worker("w2")
        cluster.worker("nobwrap", env=_without_bwrap(tmp_path))
        cluster.wait(3)
        killed = []

        def kill_w1():
            cluster.kill(cluster.workers["w1"])
            killed.append(time.time())
            cluster.worker("late-nobwrap", env=_without_bwrap(tmp_path, "late"))  # joins mid-run

        code, out, err, students = _grade_on(cluster, course, after_first=kill_w1)
    finally:
        cluster.close()
    assert killed, out[-3000:] + err[-3000:]
    assert code == (1 if any(r["status"] != "graded" for r in _report(local).values()) else 0), err[-3000:]
    for name in ("nobwrap", "late-nobwrap"):  # at the start, and one that joined during the run
        assert re.search(
            rf"worker \S+ \({name}\) takes no hand-in: the kernel jail cannot be used on this worker: "
            r"bubblewrap is missing",
            out,
        ), out[-3000:]
    assert re.search(r"worker \S+ \(w1\): canary passed", out) and re.search(
        r"worker \S+ \(w2\): canary passed", out
    )
    # w1 and w2 share this machine and their environment: one of them ran the canary for both
    shared = re.findall(r"\((w[12])\): canary passed .*; the canary of worker (w[12]) on this machine", out)
    assert len(shared) == 1 and shared[0][0] != shared[0][1], out[-3000:]
    # three workers of one thread on this machine share its cores, as local grading's jobs do
    share = max(1, (os.cpu_count() or 1) // 3)
    pinned = rf"\(w1\): canary passed in \S+ s; {share} core\(s\) per kernel \(3 grading"
    assert re.search(pinned, out), out[-3000:]
    assert sorted(students) == sorted(FIRST), out[-3000:] + err[-3000:]  # each hand-in once
    report = _report(course)
    failed = sum(r["status"] != "graded" for r in report.values())
    assert f"grading on the cluster: 11/11 hand-ins (100%), {failed} not graded, 0 s left" in err, err
    assert sorted(report) == sorted(FIRST) and _submissions(course) == sorted(
        s for s in FIRST if report[s]["status"] == "graded"
    )
    assert not any("nobwrap" in r["notes"] for r in report.values())  # also not late-nobwrap
    assert {r["notes"].rsplit("graded on Dask worker ", 1)[-1] for r in report.values()} <= {"w1", "w2"}
    _same_scores(course, local, FIRST)
    for student in FIRST:
        if report[student]["status"] == "graded":
            name = FIRST[student][0]
            assert (course / "feedback" / student / name / f"{name}.html").is_file()
            assert (course / "autograded" / student / name / f"{name}.ipynb").is_file()


def test_lost_scheduler_then_resume_grades_the_rest_once(course, local, tmp_path):
    _handins(course, course / "later", LATER)
    first = Cluster(tmp_path / "first")
    try:
        first.worker("w3")
        code, out, err, before = _grade_on(
            first, course, "--resume", after_first=lambda: first.kill(first.scheduler, signal.SIGTERM)
        )
    finally:
        first.close()
    assert code == 1 and "lost the Dask scheduler" in err and "--resume" in err, out[-3000:] + err[-3000:]
    for name in NAMES:
        done = sum(a == name for a, _ in FIRST.values())
        total = done + sum(a == name for a, _ in LATER.values())
        assert f"{name}: --resume: {done} of {total} hand-in(s) graded already" in out, out[-3000:]
    assert before and set(before) <= set(LATER), before
    second = Cluster(tmp_path / "second")
    try:
        second.worker("w4")
        code, out, err, after = _grade_on(second, course, "--resume")
    finally:
        second.close()
    assert not set(before) & set(after), (before, after)  # none twice
    assert sorted(before + after) == sorted(LATER), (before, after, out[-3000:], err[-3000:])
    assert sorted(_report(course)) == sorted({**FIRST, **LATER})
    _same_scores(course, local, {**FIRST, **LATER})


def test_local_resume_grades_nothing_graded_again(local):
    env = dict(os.environ, COURSE_DATA_DIR=DATA)
    before = (local / "autograded" / "s01" / NAME / f"{NAME}.ipynb").stat().st_mtime_ns
    result = kit(local, "grade", *NAMES, "--no-canary", "--resume", env=env)
    graded = {s for s, r in _report(local).items() if r["status"] == "graded"}
    for name in NAMES:
        theirs = [s for s, (a, _) in {**FIRST, **LATER}.items() if a == name]
        done = len(graded & set(theirs))
        said = f"{name}: --resume: {done} of {len(theirs)} hand-in(s) graded already"
        assert said in result.stdout, result.stdout
    again = [m.group(1) for m in map(ROW.match, result.stdout.splitlines()) if m]
    assert sorted(again) == sorted((set(FIRST) | set(LATER)) - graded)  # only what has no grade
    assert (local / "autograded" / "s01" / NAME / f"{NAME}.ipynb").stat().st_mtime_ns == before


def _workers_grading(marker: str, workers: dict[str, subprocess.Popen]) -> list[str]:
    """The workers one of whose descendants names, in its command, a folder holding the data file
    ``marker`` (the jail's ``--workdir`` or bubblewrap's bind of the hand-in's files)."""
    pids = {process.pid: name for name, process in workers.items() if process.poll() is None}
    parent, holding = {}, []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            args = (proc / "cmdline").read_bytes().split(b"\0")
            parent[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        folders = [a.decode(errors="replace") for a in args if a.startswith(b"/")]
        if any(os.path.isfile(os.path.join(f, marker)) for f in folders if os.path.isdir(f)):
            holding.append(int(proc.name))
    found = set()
    for pid in holding:
        while pid > 1 and pid not in pids:
            pid = parent.get(pid, 1)
        if pid in pids:
            found.add(pids[pid])
    return sorted(found)


def test_a_handin_that_loses_its_worker_again_and_again_is_not_graded(make_course, tmp_path):
    """Dask gives a task ``allowed-failures + 1`` workers (here 2); the test kills every worker
    that grades hand-in s99 (it sleeps in its first answer, and brings a data file the test
    looks for), so Dask gives up on it: "killed its worker 2 times", the others are graded."""
    root = make_course([NAME])
    folder = tmp_path / "handins"
    _handins(root, folder, {"s97": (NAME, []), "s98": (NAME, ["matmul_python"])}, names=[NAME])
    release = read(root / "release" / NAME / f"{NAME}.ipynb")
    answers = answers_of(read(root / "solutions" / f"{NAME}.ipynb"))
    first = next(
        c.metadata["nbgrader"]["grade_id"]
        for c in release.cells
        if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
    )
    answers[first] = "import time\ntime.sleep(45)\n" + answers[first]
    slow = tmp_path / "slow"
    slow.mkdir()
    nbformat.write(fill(release, answers), slow / f"s99__{NAME}.ipynb")
    (slow / f"s99__{NAME}__KILLME.txt").write_text("the test kills the worker that grades this\n")
    assert kit(root, "collect", str(slow)).returncode == 0
    cluster = Cluster(tmp_path / "cluster", {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1"})
    killed: list[str] = []
    stop = False

    def hunt() -> None:  # kill each worker found grading s99
        while not stop:
            for name in _workers_grading("KILLME.txt", cluster.workers):
                cluster.kill(cluster.workers[name])
                killed.append(name)
            time.sleep(0.5)

    import threading

    hunter = threading.Thread(target=hunt, daemon=True)
    try:
        for name in ("w1", "w2", "w3"):
            cluster.worker(name)
        hunter.start()
        code, out, err, students = _grade_on(cluster, root, names=[NAME])
    finally:
        stop = True
        cluster.close()
    assert len(killed) == 2 and len(set(killed)) == 2, (killed, out[-3000:], err[-3000:])
    report = _report(root)
    assert sorted(report) == ["s97", "s98", "s99"] and sorted(students) == ["s97", "s98", "s99"], out[-3000:]
    assert report["s99"]["status"] == "not graded", report["s99"]
    assert "killed its worker 2 times" in report["s99"]["reason"], report["s99"]
    assert report["s97"]["status"] == report["s98"]["status"] == "graded", report
    assert float(report["s97"]["score"]) > float(report["s98"]["score"])  # s98 left one answer blank
    assert code == 1 and "s99" not in _submissions(root)
