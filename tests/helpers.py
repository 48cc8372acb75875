"""What several tests share: the repository root, the CLI, a scratch course, notebook helpers."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
KIT = [sys.executable, "-m", "coursekit"]  # the instructor's CLI, as `coursekit`


def kit(root: Path, *args: str, env: dict | None = None, timeout: int = 900) -> subprocess.CompletedProcess:
    """Run ``coursekit ARGS`` in the course directory ``root``."""
    return subprocess.run([*KIT, *args], cwd=root, env=env, capture_output=True, text=True, timeout=timeout)


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


def perfect_submission(release: Path, solution: Path) -> nbformat.NotebookNode:
    """The released notebook with every solution cell filled in from the worked solution."""
    return fill(read(release), answers_of(read(solution)))


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
