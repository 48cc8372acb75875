"""What several tests share: the repository root, the CLI, a scratch course, notebook helpers,
a Jupyter server for the browser tests."""

from __future__ import annotations

import copy
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
KIT = [sys.executable, "-m", "coursekit"]  # the instructor's CLI, as `coursekit`
# Debian's Chromium for the browser tests, driven by Playwright; screenshots kept as artefacts
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTEFACTS = ROOT / "_build" / "browser"


class JupyterServer:
    """``python -m APP`` (a Jupyter server application: ``jupyter_server``, ``jupyterlab``) serving
    ``root`` on a free loopback port with ``token``, its output in ``root / log``; ``stop()`` ends it.
    The interpreter's folder leads PATH (nbgrader runs ``alembic`` from there)."""

    def __init__(
        self,
        root: Path,
        env: dict,
        app: str = "jupyter_server",
        *args: str,
        token: str = "course-test-token",
        log: str = "server.log",
    ) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.root, self.token, self.url = root, token, f"http://127.0.0.1:{self.port}"
        self.log = open(root / log, "w")
        bin_dir = str(Path(sys.executable).parent)
        cmd = [
            sys.executable,
            "-m",
            app,
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            *args,
        ]
        self.proc = subprocess.Popen(
            cmd,
            cwd=root,
            env=dict(env, PATH=bin_dir + os.pathsep + env["PATH"]),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.time() + 90
        while time.time() < deadline and self.proc.poll() is None:
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2)
                return
            except OSError:
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"{app} did not start; see {root / log}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def kit(root: Path, *args: str, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run ``coursekit ARGS`` in the course directory ``root``."""
    return subprocess.run([*KIT, *args], cwd=root, env=env, capture_output=True, text=True, timeout=timeout)


def grade_batch(
    root: Path, name: str, env: dict | None = None, timeout: int = 900, canary: bool = False
) -> dict:
    """``coursekit grade NAME`` in ``root``, timed; its process, seconds and grading_report.csv by student.

    Without the canary unless asked: tests/coursekit/grade/test_canary.py tests it, and the whole
    workflow of test_assignments.py runs it; elsewhere it would grade the worked solution again."""
    import csv
    import time

    started = time.perf_counter()
    graded = kit(root, "grade", name, *([] if canary else ["--no-canary"]), env=env, timeout=timeout)
    seconds = time.perf_counter() - started
    with open(root / "grading_report.csv", newline="") as f:
        report = {r["student_id"]: r for r in csv.DictReader(f)}
    return {"grade": graded, "report": report, "seconds": seconds}


def scratch_course(target: Path, names: list[str] | None = None, env: dict | None = None) -> Path:
    """A copy of this course in ``target``, with ``names`` (default: none) released."""
    from coursekit.selfcheck import copy_course

    copy_course(ROOT, target)
    if names:
        released = kit(target, "release", *names, env=env)
        assert released.returncode == 0, released.stdout[-3000:] + released.stderr[-3000:]
    return target


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def answers_of(solution: nbformat.NotebookNode) -> dict[str, str]:
    """``{grade_id: source}`` of a worked solution."""
    return {grade_id(c): c.source for c in solution.cells if grade_id(c)}


def fill(release: nbformat.NotebookNode, answers: dict[str, str]) -> nbformat.NotebookNode:
    """A copy of the released notebook with every solution cell answered from ``answers``."""
    nb = copy.deepcopy(release)
    for cell in nb.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell.source = answers[grade_id(cell)]
    return nb


def autograded_scores(root: Path, name: str, student: str) -> dict[str, tuple[float, float]]:
    """``{grade_id: (auto score, max score)}`` of the autograded test cells of a hand-in in the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submission = gb.find_submission_notebook(name, name, student)
        return {
            g.name: (g.auto_score, g.max_score)
            for g in submission.grades
            if g.cell_type == "code" and g.auto_score is not None
        }


def perfect_submission(release: Path, solution: Path) -> nbformat.NotebookNode:
    """The released notebook with every solution cell filled in from the worked solution."""
    return fill(read(release), answers_of(read(solution)))


ALWAYS_EQUAL = '''
class _AlwaysEqual:
    """An answer that claims to equal anything (a hand-in trying to fool == in the tests)."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    def __bool__(self): return True
    def __hash__(self): return 0
    def __call__(self, *args, **kwargs): return self
    def __getattr__(self, name): return self
    def __getitem__(self, key): return self
    def __contains__(self, item): return True
    def __len__(self): return 3
    def __iter__(self): return iter([self, self, self])
    def __format__(self, spec): return "AE"
    def __repr__(self): return "AE"
'''


def always_equal_submission(release: Path, solution: Path) -> nbformat.NotebookNode:
    """The released notebook with every name an answer cell defines bound to an always-equal object.

    Functions and classes become callables returning it, variables become it.
    """
    import ast

    nb = read(release)
    answers = answers_of(read(solution))
    first = True
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if not (meta.get("solution") and cell.cell_type == "code"):
            continue
        lines = [ALWAYS_EQUAL] if first else []
        first = False
        tree = ast.parse(
            "\n".join(
                line
                for line in answers[grade_id(cell)].splitlines()
                if not line.lstrip().startswith(("%", "!"))
            )
        )
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                lines.append(f"def {node.name}(*args, **kwargs):\n    return _AlwaysEqual()")
            elif isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
                lines += [f"{name} = _AlwaysEqual()" for name in names]
        cell.source = "\n".join(lines) or "pass"
    return nb


def mnist_available() -> bool:
    from course_utils import load_mnist

    try:
        load_mnist(n_train=10, n_test=10, download=False)
    except FileNotFoundError:
        return False
    return True


def run_notebook(cells: list[str], timeout: int = 300, cwd: Path | None = None, env: dict | None = None):
    """Execute code cells in a fresh Jupyter kernel (IPC transport) and return the notebook."""
    from coursekit.execute import run_notebook as run

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    old = {k: os.environ.get(k) for k in (env or {})}
    os.environ.update(env or {})
    try:
        run(nb, cwd or ROOT, timeout)
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return nb
