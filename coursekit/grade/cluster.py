"""Grading on a Dask cluster: ``coursekit grade NAME --scheduler tcp://HOST:8786``.

Dask distributed is the engine (its scheduler, its workers, its retries); this module only
says what a worker does with a hand-in:

* The instructor's machine sends the course (``course.toml``, ``nbgrader_config.py``, the
  assignment sources and worked solutions, ``release/NAME``) as bytes in a
  :class:`GradingPlugin`, which every worker, including one that joins later, sets up before it
  takes a hand-in: it releases the assignments into a folder of its own (the gradebook structure
  nbgrader needs), then runs the canary (:func:`coursekit.selfcheck.selfcheck`: the worked
  solutions must get full marks in the same jail, with the same limits). Only a worker whose
  canary passed gets the resource :data:`RESOURCE`, which every grading task asks for, so a worker
  whose canary failed (no bubblewrap, no cgroups, course_utils not importable, other versions)
  takes no hand-in; the run names it and why. Workers of one run on one machine, started with the
  same environment, run the canary once: the first one runs it, the others wait on a Dask lock
  and take its answer from the scheduler (:func:`_canary_once_per_machine`), so a machine of 8
  workers grades the solutions once, not 8 times.
* Each hand-in travels as data (its files as bytes) to :func:`grade_remote`, which writes them
  into a course folder of the worker thread and calls :func:`coursekit.grade.batch.grade_one`,
  the function local grading calls (repair, jail, limits, judge, warm kernels, CPU share per
  kernel). The result comes back as data: the report row, the files of ``autograded/``,
  ``feedback/``, the repaired hand-in and its logs, and the gradebook entry.
* The instructor's machine is the only writer of the gradebook (SQLite or PostgreSQL), of
  ``autograded/``, ``feedback/`` and ``grading_report.csv``: it writes each result once, when it
  arrives. When a worker dies, the scheduler runs its hand-in on another worker; a hand-in whose
  worker died ``distributed.scheduler.allowed-failures + 1`` times (Dask's ``KilledWorker``) is
  reported "not graded: killed its worker N times". When the scheduler is lost, the run stops,
  the grades received so far stay written, and ``coursekit grade NAME --resume`` grades the rest.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import shutil
import socket
import sys
import tarfile
import tempfile
import threading
import time
import uuid
import warnings
from importlib import metadata
from pathlib import Path, PurePosixPath

from distributed import WorkerPlugin

from coursekit.config import environment, export, inherited
from coursekit.errors import CourseError

PLUGIN = "coursekit-grading"
RESOURCE = "coursekit-grading"  # a worker has it (one per thread) once its canary passed
CANARY_RUNNING = "the canary is running"
# packages whose versions must agree between the instructor's machine and a worker
VERSIONED = (
    "nbgrader",
    "nbconvert",
    "nbclient",
    "nbformat",
    "ipykernel",
    "jupyter_client",
    "numpy",
    "pandas",
    "matplotlib",
    "torch",
    "torchvision",
    "tensorflow-cpu",
    "keras",
    "distributed",
)
NO_WORKER_WAIT_S = environment().cluster_wait_s


# ---------------------------------------------------------------- data both sides share


def _tar(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, time.time()
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _read_tree(folder: Path, prefix: str) -> dict[str, bytes]:
    """The regular files below ``folder`` as ``{prefix/relative path: bytes}``; links are never followed."""
    files = {}
    if not folder.is_dir() or folder.is_symlink():
        return files
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [
            d
            for d in dirnames
            if d not in ("__pycache__", ".ipynb_checkpoints")
            and not d.endswith(".egg-info")
            and not os.path.islink(os.path.join(dirpath, d))
        ]
        for name in filenames:
            path = Path(dirpath, name)
            if path.is_symlink() or not path.is_file() or name.endswith(".pyc"):
                continue
            files[f"{prefix}/{path.relative_to(folder).as_posix()}"] = path.read_bytes()
    return files


def course_bundle(root: Path, names: list[str]) -> bytes:
    """What a worker needs of the course, as one tar.gz: configuration, sources, solutions, release/NAME."""
    from coursekit.selfcheck import COURSE_FILES

    files: dict[str, bytes] = {}
    for item in COURSE_FILES:
        path = root / item
        if path.is_dir():
            files.update(_read_tree(path, item))
        elif path.is_file() and not path.is_symlink():
            files[item] = path.read_bytes()
    for name in names:
        files.update(_read_tree(root / "release" / name, f"release/{name}"))
    return _tar(files)


def _inside(base: Path, relative: str) -> Path:
    """``base/relative``, refused when ``relative`` is absolute or climbs out of ``base``."""
    parts = PurePosixPath(relative).parts
    if not parts or PurePosixPath(relative).is_absolute() or any(p in ("..", "") for p in parts):
        raise ValueError(f"refused path {relative!r}")
    return base.joinpath(*parts)


def _write(path: Path, data: bytes) -> None:
    """A new plain file at ``path`` (an old file, or a link, there is replaced, never followed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.is_symlink() or path.exists():
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def versions() -> dict[str, str]:
    """The installed versions of :data:`VERSIONED` here (those that are installed)."""
    found = {}
    for package in VERSIONED:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    return found


# ------------------------------------------------------------------------ the worker side


class GradingPlugin(WorkerPlugin):
    """Set up on every Dask worker: the course, then the canary; the resource only when it passed."""

    name = PLUGIN
    idempotent = False

    def __init__(
        self,
        bundle: bytes,
        names: list[str],
        duedates: dict[str, str | None],
        trusted: bool,
        wanted: dict[str, str],
    ):
        self.bundle, self.names, self.duedates, self.trusted, self.wanted = (
            bundle,
            names,
            duedates,
            trusted,
            wanted,
        )
        self.state: dict = {"ok": False, "reason": "not set up"}
        self.run = uuid.uuid4().hex  # the same on every worker of this grading run

    async def setup(self, worker) -> None:
        import asyncio

        self.state = {"ok": False, "reason": CANARY_RUNNING}
        if worker.state.total_resources.get(RESOURCE):  # from an earlier run: no hand-in before this canary
            await worker.set_resources(**{RESOURCE: 0})
        self.slots: dict[int, tuple[Path, object, int | None]] = {}
        self.lock = threading.Lock()
        self.nthreads = worker.state.nthreads
        self.host_slots = await _slots_on_host(worker)
        self.folder: Path | None = None
        self.canary_by = ""  # the worker on this machine whose canary run this one's answer is
        started = time.perf_counter()
        try:
            problems, canary = await asyncio.to_thread(self._prepare, worker.local_directory)
            if canary is not None:
                found, self.canary_by = await _canary_once_per_machine(worker, canary[0], canary[1])
                problems = [f"canary: {p}" for p in found]
        except Exception as err:  # the run must hear why, not a traceback in the worker's log only
            problems = [f"{type(err).__name__}: {err}"]
        if problems:
            self.state = {"ok": False, "reason": " | ".join(problems)}
            return
        self.state = {
            "ok": True,
            "reason": "",
            "canary_s": round(time.perf_counter() - started, 1),
            "kernel_cores": self.kernel_cores() or os.cpu_count() or 1,
            "host_slots": self.host_slots,
            "canary_by": self.canary_by,
        }
        await worker.set_resources(**{RESOURCE: self.nthreads})

    def _prepare(self, local_directory: str) -> tuple[list[str], tuple | None]:
        """Unpack the course and release its assignments: what went wrong, or else the canary to
        run (what must be the same for two workers to share it, and the function running it)."""
        from contextlib import redirect_stdout

        from coursekit.config import Course
        from coursekit.grade import jail
        from coursekit.grade.gradebook import ENV as GRADEBOOK_ENV
        from coursekit.release import release
        from coursekit.selfcheck import selfcheck

        export(**{GRADEBOOK_ENV: None})  # this worker's own SQLite file; the instructor's is written there
        if self.trusted:
            export(COURSE_GRADING_TRUSTED="1")
        cores = os.cpu_count() or 1
        if self.nthreads > cores:
            return [
                f"it has {self.nthreads} threads and {cores} cores: kernels would share cores and grades "
                f"would depend on load; start it with `--nthreads {cores}` or fewer"
            ], None
        isolation = jail.isolation()
        if not isolation.jailed and not self.trusted:
            return [f"the kernel jail cannot be used on this worker: {isolation.why_not}"], None
        here = versions()
        other = [
            f"{p} {here.get(p, 'missing')} (instructor: {v})"
            for p, v in self.wanted.items()
            if here.get(p) != v
        ]
        if other:
            return [
                f"other versions than the instructor's machine: {', '.join(other)}; install the course's "
                f"requirements.txt on the worker"
            ], None
        self.folder = Path(tempfile.mkdtemp(prefix="coursekit-grading-", dir=local_directory))
        os.chmod(self.folder, 0o755)
        base = self.folder / "course"
        with tarfile.open(fileobj=io.BytesIO(self.bundle)) as tar:
            tar.extractall(self.folder / "shipped", filter="data")
        shipped = self.folder / "shipped"
        base.mkdir()
        for item in shipped.iterdir():
            if item.name != "release":
                shutil.move(item, base / item.name)
        course = Course.load(base)
        log = io.StringIO()
        with redirect_stdout(log):
            failed = release(course, self.names)
        if failed:
            return [
                f"coursekit release failed on this worker ({', '.join(failed)}): {log.getvalue()[-1500:]}"
            ], None
        problems = [self._same_release(shipped, base, n) for n in self.names]
        if problems := [p for p in problems if p]:
            return problems, None
        self._due_dates(base)

        def canary() -> list[str]:
            with redirect_stdout(log):
                return selfcheck(course, self.names, jobs=self.nthreads, released=True)

        same = [self.run, self.trusted, self.nthreads, here, isolation.why_not, sys.executable]
        return [], (same, canary)

    @staticmethod
    def _same_release(shipped: Path, base: Path, name: str) -> str | None:
        import nbformat

        theirs = shipped / "release" / name / f"{name}.ipynb"
        ours = base / "release" / name / f"{name}.ipynb"
        if not theirs.exists():
            return None

        def cells(path: Path) -> list:
            return [(c.cell_type, c.source, c.metadata.get("nbgrader")) for c in nbformat.read(path, 4).cells]

        if cells(theirs) != cells(ours):
            return (
                f"release/{name} on the instructor's machine is not what assignments/ releases: "
                f"run `coursekit release {name}` there, then grade again"
            )
        return None

    def _due_dates(self, base: Path) -> None:
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{base / 'gradebook.db'}") as gb:
            for name, due in self.duedates.items():
                if due:
                    gb.update_or_create_assignment(name, duedate=due)

    def slot(self) -> tuple[Path, object, int | None]:
        """This thread's course folder and autograde worker process (made on first use)."""
        from coursekit.grade.worker import Worker
        from coursekit.nbgrader_cli import grading_env

        key = threading.get_ident()
        with self.lock:
            if key not in self.slots:
                root = self.folder / f"slot-{len(self.slots) + 1}"
                shutil.copytree(self.folder / "course", root)
                (root / "grading_logs").mkdir(exist_ok=True)
                threads = self.kernel_cores()
                self.slots[key] = (
                    root,
                    Worker(root, grading_env(threads), root / "grading_logs" / "worker.log"),
                    threads,
                )
            return self.slots[key]

    def kernel_cores(self) -> int | None:
        """Cores (and threads) of one kernel: the machine's cores shared by all grading threads on
        it, as local grading shares them among its jobs (None: a single slot gets them all)."""
        return max(1, (os.cpu_count() or 1) // self.host_slots) if self.host_slots > 1 else None

    async def teardown(self, worker) -> None:
        """The run is over (or the worker closes): no more hand-ins here, its folder removed."""
        if worker.state.total_resources.get(RESOURCE) and worker.status.name == "running":
            await worker.set_resources(**{RESOURCE: 0})
        for _, process, _ in getattr(self, "slots", {}).values():
            process.close()
        if getattr(self, "folder", None):
            shutil.rmtree(self.folder, ignore_errors=True)


def _canary_key(worker, same: list) -> str:
    """Two workers share a canary when this is the same: ``same``, their machine (its name and the
    address its workers listen on) and their whole environment but what Dask sets per process
    (``__DASK_PARENT_PID``)."""
    env = sorted((k, v) for k, v in inherited().items() if not k.startswith("__DASK_"))
    machine = [socket.gethostname(), worker.ip]
    return hashlib.sha256(json.dumps([same, machine, env], default=str).encode()).hexdigest()


async def _canary_once_per_machine(worker, same: list, canary) -> tuple[list[str], str]:
    """The canary's problems and the worker that ran it: ``canary()`` runs (in a thread) in the first
    worker of this run on this machine whose ``same`` (run, versions, jail, Python) and whole
    environment are this one's; the others wait on a Dask :class:`distributed.Lock` and take its
    answer from the scheduler's metadata. A worker that dies during its canary loses the lock's
    lease (``distributed.scheduler.locks.lease-timeout``), and the next one runs it again.
    Hand-ins cannot reach the scheduler: their kernels have no network."""
    import asyncio

    from distributed import Lock

    key = _canary_key(worker, same)
    where = ["coursekit-canary", str(same[0]), key]  # under the run's id: forgotten with the run
    lock = Lock(f"coursekit-canary-{key}", scheduler_rpc=worker.scheduler, loop=worker.loop)
    await lock.acquire()
    try:
        found = await worker.scheduler.get_metadata(keys=where, default=None)
        if found:  # the scheduler's messages carry a list as a tuple
            return list(found["problems"]), found["worker"]
        problems = await asyncio.to_thread(canary)
        await worker.scheduler.set_metadata(
            keys=where, value={"problems": problems, "worker": str(worker.name)}
        )
        return problems, str(worker.name)
    finally:
        await lock.release()
        # not lock.close(): that deletes the lock on the scheduler, under the workers waiting on it
        if (refresh := getattr(lock, "refresh_callback", None)) is not None:  # none: no lease timeout
            refresh.stop()


async def _slots_on_host(worker) -> int:
    """Grading threads on this worker's machine: its own and those of the cluster's other workers on
    the same host when it is set up (two ``dask worker --nthreads 1`` on one machine: 2)."""
    try:
        known = (await worker.scheduler.identity())["workers"].values()
    except Exception:  # an old scheduler or a lost connection: count this worker alone
        return worker.state.nthreads
    same_host = sum(int(w.get("nthreads") or 0) for w in known if w.get("host") == worker.ip)
    return max(same_host, worker.state.nthreads)


def _worker_state(dask_worker) -> dict:
    """The plugin's state on one worker (``client.run``)."""
    plugin = dask_worker.plugins.get(PLUGIN)
    return dict(plugin.state) if plugin is not None else {"ok": False, "reason": "the plugin is not set up"}


def _handin_paths(name: str, student: str) -> dict[str, str]:
    return {
        "submitted": f"submitted/{student}/{name}",
        "autograded": f"autograded/{student}/{name}",
        "feedback": f"feedback/{student}/{name}",
    }


def _clear(root: Path, name: str, student: str) -> None:
    """Nothing of this hand-in left in a worker's course folder (files and gradebook entry)."""
    from nbgrader.api import Gradebook, MissingEntry

    for folder in ("submitted", "autograded", "feedback"):
        shutil.rmtree(root / folder / student, ignore_errors=True)
    for path in (root / "grading_logs").glob(f"{student}__{name}.*"):
        path.unlink(missing_ok=True)
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        try:
            gb.remove_submission(name, student)
        except MissingEntry:
            pass


def _record(root: Path, name: str, student: str) -> dict | None:
    """The gradebook entry of a graded hand-in, as data."""
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        try:
            sub = gb.find_submission(name, student)
        except MissingEntry:
            return None
        return {
            "timestamp": sub.timestamp.isoformat() if sub.timestamp else None,
            "notebooks": {
                nb.name: {
                    "flagged": nb.flagged,
                    "late_submission_penalty": nb.late_submission_penalty,
                    "grades": {
                        g.name: {
                            "auto_score": g.auto_score,
                            "manual_score": g.manual_score,
                            "extra_credit": g.extra_credit,
                            "needs_manual_grade": g.needs_manual_grade,
                        }
                        for g in nb.grades
                    },
                    "comments": {
                        c.name: {"auto_comment": c.auto_comment, "manual_comment": c.manual_comment}
                        for c in nb.comments
                    },
                }
                for nb in sub.notebooks
            },
        }


def grade_remote(name: str, student: str, files: dict[str, bytes]) -> dict:
    """Grade one hand-in on this Dask worker exactly as local grading does; the result as data."""
    from distributed import get_worker

    from coursekit.grade.batch import grade_one, not_graded

    worker = get_worker()
    plugin = worker.plugins.get(PLUGIN)
    if plugin is None or not plugin.state.get("ok"):
        raise RuntimeError(
            f"worker {worker.address} failed its canary: {plugin.state if plugin else 'no plugin'}"
        )
    root, process, threads = plugin.slot()
    _clear(root, name, student)
    target = root / "submitted" / student / name
    target.mkdir(parents=True)
    for relative, data in files.items():
        _write(_inside(target, relative), data)
    try:
        row = grade_one(name, student, root, threads, process)
    except Exception as err:  # a bug of ours: this hand-in is not graded, the others go on
        row = not_graded(name, student, f"grading error {type(err).__name__}: {err}")
    out: dict[str, bytes] = {}
    for folder in _handin_paths(name, student).values():
        out.update(_read_tree(root / folder, folder))
    for path in (root / "grading_logs").glob(f"{student}__{name}.*"):
        out[f"grading_logs/{path.name}"] = path.read_bytes()
    result = {
        "row": row,
        "files": out,
        "worker": worker.name if worker.name is not None else worker.address,
        "submission": _record(root, name, student) if row["status"] == "graded" else None,
    }
    _clear(root, name, student)
    return result


# ------------------------------------------------------------------- the instructor's side


def handin_files(root: Path, name: str, student: str) -> tuple[dict[str, bytes], str | None]:
    """The hand-in's files as bytes (plain files only, as local grading reads them), or why not."""
    from coursekit.collect import clean_submitted
    from coursekit.plainfiles import NotPlain, open_plain

    reason, _ = clean_submitted(root, student, name)
    if reason:
        return {}, reason
    folder = root / "submitted" / student / name
    files = {}
    for path in sorted(folder.rglob("*")):
        if path.is_dir() and not path.is_symlink():
            continue
        try:
            fd, _ = open_plain(path)
        except (NotPlain, OSError) as err:
            return {}, f"{path.relative_to(root)}: {err}"
        with os.fdopen(fd, "rb") as f:
            files[path.relative_to(folder).as_posix()] = f.read()
    return files, None


def _write_submission(url: str, name: str, student: str, record: dict) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(url) as gb, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's notes on nbgrader's own add_submission
        gb.update_or_create_student(student)
        try:
            gb.remove_submission(name, student)
        except MissingEntry:
            pass
        extra = {"timestamp": record["timestamp"]} if record.get("timestamp") else {}
        sub = gb.add_submission(name, student, **extra)
        for nb in sub.notebooks:
            values = record["notebooks"].get(nb.name, {})
            nb.flagged = bool(values.get("flagged"))
            nb.late_submission_penalty = values.get("late_submission_penalty")
            for grade in nb.grades:
                for key, value in values.get("grades", {}).get(grade.name, {}).items():
                    setattr(grade, key, value)
            for comment in nb.comments:
                for key, value in values.get("comments", {}).get(comment.name, {}).items():
                    setattr(comment, key, value)
        gb.db.commit()


def store(root: Path, name: str, student: str, result: dict) -> dict:
    """Write one hand-in's result on the instructor's machine (files, then the gradebook); its report row."""
    from coursekit.grade.batch import _forget
    from coursekit.grade.gradebook import gradebook_url, retry_locked

    retry_locked(_forget, name, student, root)  # an earlier grade of this hand-in must not stay
    allowed = tuple(p + "/" for p in _handin_paths(name, student).values())
    for relative, data in result["files"].items():
        if not (relative.startswith(allowed) or relative.startswith(f"grading_logs/{student}__{name}.")):
            raise ValueError(f"a worker sent {relative!r} for {student} {name}")
        _write(_inside(root, relative), data)
    if result.get("submission"):
        retry_locked(_write_submission, gradebook_url(root), name, student, result["submission"])
    row = dict(result["row"])
    row["notes"] = "; ".join(
        n for n in (row.get("notes", ""), f"graded on Dask worker {result['worker']}") if n
    )
    return row


def _due_dates(root: Path, names: list[str]) -> dict[str, str | None]:
    from nbgrader.api import Gradebook, MissingEntry

    from coursekit.grade.gradebook import gradebook_url

    found = {}
    with Gradebook(gradebook_url(root)) as gb:
        for name in names:
            try:
                due = gb.find_assignment(name).duedate
            except MissingEntry:
                due = None
            found[name] = due.isoformat() if due else None
    return found


class SchedulerLost(CourseError):
    """The Dask scheduler went away during the run."""


def grade_on_cluster(names: list[str], root: Path, scheduler: str, resume: bool = False) -> list[str]:
    """Grade every hand-in of ``names`` on the Dask cluster at ``scheduler``; what failed."""
    from distributed import Client

    from coursekit.grade.batch import graded_names, trusted_mode
    from coursekit.grade.report import write_report

    names = names or graded_names(root)
    failed = [
        f"{n}: no release/{n}/{n}.ipynb to check hand-ins against: run coursekit release first"
        for n in names
        if not (root / "release" / n / f"{n}.ipynb").exists()
    ]
    names = [n for n in names if (root / "release" / n / f"{n}.ipynb").exists()]
    try:
        client = Client(scheduler, timeout=30)
    except (OSError, TimeoutError) as err:
        return [
            *failed,
            f"cannot reach the Dask scheduler at {scheduler} ({type(err).__name__}: {err}): start "
            f"it (`dask scheduler`), or check the address (--scheduler, course.toml's [grading] scheduler)",
        ]
    rows: list[dict] = []
    try:
        failed += _run(client, names, root, scheduler, resume, rows, trusted_mode())
    except SchedulerLost as err:
        failed.append(str(err))
    finally:
        if rows:
            print(f"report: {write_report(rows, root)}")
        if client.status == "running":  # the workers forget this run (a later worker runs no stale canary)
            try:
                client.unregister_worker_plugin(PLUGIN)
                client.set_metadata(["coursekit-canary"], {})  # and the scheduler its canary answers
            except Exception:
                pass
        logging.getLogger("distributed").setLevel(logging.CRITICAL)  # no reconnect tracebacks at the end
        try:
            client.close(timeout=10)
        except Exception:
            pass
    if any("Dask scheduler" in f and "lost" in f for f in failed):
        return failed
    from coursekit.grade.batch import export_grades

    return failed + export_grades(root)


def _run(
    client, names: list[str], root: Path, scheduler: str, resume: bool, rows: list[dict], trusted: bool
) -> list[str]:
    """Canary on each worker, then every hand-in as a task; ``rows`` filled as results arrive."""
    from distributed import wait
    from distributed.client import FutureCancelledError, FuturesCancelledError
    from distributed.scheduler import KilledWorker

    from coursekit.grade.batch import _forget, already_graded, not_graded, submitted_students
    from coursekit.grade.gradebook import retry_locked
    from coursekit.grade.progress import Progress
    from coursekit.grade.report import write_report

    failed = []
    try:
        client.wait_for_workers(1, timeout=NO_WORKER_WAIT_S)
    except TimeoutError:
        return [
            f"no Dask worker joined {scheduler} in {NO_WORKER_WAIT_S:g} s: start one "
            f"(`dask worker {scheduler} --nthreads 1`, README 'Grading on a cluster')"
        ]
    plugin = GradingPlugin(course_bundle(root, names), names, _due_dates(root, names), trusted, versions())
    print(
        f"canary: each Dask worker of {scheduler} grades the worked solution of {', '.join(names)} "
        "before it takes a hand-in",
        flush=True,
    )
    client.register_plugin(plugin, name=PLUGIN)
    reported: set[str] = set()
    good, waited = 0, time.monotonic()
    while True:  # until a worker passed, none is still in its canary, or the wait is over
        more, running = _report_workers(client, _workers_info(client), reported)
        good += more
        if good or not running or time.monotonic() - waited >= NO_WORKER_WAIT_S:
            break
        time.sleep(1)  # a worker that joined after the plugin's setup: its canary is running
    if not good:
        return [
            "no Dask worker passed its canary (above): no hand-in was graded. Fix the workers "
            "(`coursekit doctor` on a worker machine prints the checks), then grade again."
        ]
    todo = {}
    for name in names:
        students = submitted_students(name, root)
        done = already_graded(root, name, students) if resume else set()
        if resume:
            print(
                f"{name}: --resume: {len(done)} of {len(students)} hand-in(s) graded already, "
                f"{len(students) - len(done)} to grade",
                flush=True,
            )
        todo[name] = [s for s in students if s not in done]
    progress = Progress(sum(map(len, todo.values())), label="grading on the cluster")
    futures = {}
    run = uuid.uuid4().hex[:8]
    for name, students in todo.items():
        for student in students:
            files, reason = handin_files(root, name, student)
            if reason:
                retry_locked(_forget, name, student, root)
                _finish(not_graded(name, student, reason), rows, failed, progress)
                continue
            future = client.submit(
                grade_remote,
                name,
                student,
                files,
                key=f"coursekit-grade-{name}-{student}-{run}",
                resources={RESOURCE: 1},
                pure=False,
            )
            futures[future] = (name, student)
    pending = set(futures)
    alone_since = None
    while pending:
        try:
            wait(list(pending), timeout=5, return_when="FIRST_COMPLETED")
        except TimeoutError:
            pass
        except (FutureCancelledError, FuturesCancelledError):
            pass  # the scheduler is lost: said below
        for future in [f for f in pending if f.done()]:
            name, student = futures[future]
            if future.status == "cancelled":
                continue  # the scheduler is lost: said below
            pending.discard(future)
            try:
                row = store(root, name, student, future.result())
            except KilledWorker as err:
                retry_locked(_forget, name, student, root)
                row = not_graded(
                    name,
                    student,
                    f"killed its worker {_deaths(err)} times (Dask's distributed.scheduler.allowed-failures "
                    "+ 1; the workers' logs say how); look at it by hand",
                )
            except Exception as err:
                row = not_graded(name, student, f"grading error {type(err).__name__}: {str(err)[:300]}")
            _finish(row, rows, failed, progress)
            write_report(rows, root)  # a run stopped later keeps what it graded
        if any(f.status == "cancelled" for f in pending) or client.status not in ("running", "connecting"):
            progress.close()
            raise SchedulerLost(
                f"lost the Dask scheduler at {scheduler} after {progress.done} of {progress.total} "
                f"hand-in(s): "
                f"the grades received are written; {len(pending)} hand-in(s) are not graded yet. Start the "
                f"scheduler and workers again, then `coursekit grade {' '.join(names)} --resume "
                f"--scheduler {scheduler}` grades only those."
            )
        # one look at the workers per pass: a worker that joined since has its canary said, and
        # whether any may take hand-ins; a scheduler lost meanwhile is said by the check above
        try:
            info = _workers_info(client)
            _report_workers(client, info, reported)
        except Exception:  # any: the scheduler or a worker gone; the next pass (or the run) says it
            info = {}
        capable = sum(1 for w in info.values() if w.get("resources", {}).get(RESOURCE))
        alone_since = None if capable else (alone_since or time.monotonic())
        if alone_since and time.monotonic() - alone_since > NO_WORKER_WAIT_S:
            progress.close()
            _report_workers(client, info, set())
            raise SchedulerLost(
                f"no Dask worker of {scheduler} that passed its canary for {NO_WORKER_WAIT_S:g} s "
                f"({len(pending)} hand-in(s) left, not lost: the scheduler was not): start a "
                f"worker, then `coursekit grade {' '.join(names)} --resume --scheduler "
                f"{scheduler}`"
            )
    progress.close()
    return failed


def _deaths(err: Exception) -> str:
    """How many workers died running the task of a ``KilledWorker`` error."""
    try:
        return str(int(err.allowed_failures) + 1)
    except (AttributeError, IndexError, TypeError, ValueError):
        found = re.search(r"on (\d+) different workers", str(err))
        return found.group(1) if found else "several"


def _finish(row: dict, rows: list[dict], failed: list[str], progress) -> None:
    from coursekit.grade.batch import show_row

    rows.append(row)
    progress.write(show_row(row))
    progress.update(row["status"] == "graded")
    if row["status"] != "graded":
        failed.append(f"{row['student_id']} {row['assignment']}: not graded: {row['reason']}")


def _workers_info(client) -> dict:
    """The scheduler's ``{address: info}`` of every worker (not only the first few)."""
    try:
        return client.scheduler_info(n_workers=-1)["workers"]
    except TypeError:  # a distributed without n_workers
        return client.scheduler_info()["workers"]


def _report_workers(client, info: dict, reported: set[str]) -> tuple[int, int]:
    """Print the canary of each worker in ``info`` (the scheduler's) not in ``reported`` whose
    canary has ended, and add it there; (how many of those passed, how many still run theirs)."""
    new = [address for address in info if address not in reported]
    states = client.run(_worker_state, workers=new, on_error="return") if new else {}
    good = running = 0
    for address, state in sorted(states.items()):
        if not isinstance(state, dict):  # the worker left meanwhile (on_error="return")
            continue
        if state.get("reason") == CANARY_RUNNING:  # named when it ends
            running += 1
            continue
        reported.add(address)
        name = info.get(address, {}).get("name", "?")
        label = f"{address} ({name})"
        if state.get("ok"):
            good += 1
            by = state.get("canary_by")
            shared = f"; the canary of worker {by} on this machine" if by and by != name else ""
            print(
                f"worker {label}: canary passed in {state.get('canary_s', '?')} s; "
                f"{state.get('kernel_cores', '?')} core(s) per kernel ({state.get('host_slots', '?')} "
                f"grading thread(s) on its machine){shared}",
                flush=True,
            )
        else:
            print(f"worker {label} takes no hand-in: {state.get('reason')}", flush=True)
    return good, running
