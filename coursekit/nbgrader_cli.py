"""Run nbgrader's own command line in a course directory (one place for its environment)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from coursekit.config import inherited

NBGRADER = str(Path(sys.executable).with_name("nbgrader"))
THREAD_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
)


def assignment_names(root: Path) -> list[str]:
    """Assignments with a source notebook ``assignments/<name>/<name>.ipynb``."""
    return sorted(p.parent.name for p in (root / "assignments").glob("*/*.ipynb") if p.stem == p.parent.name)


def nbgrader(*args: str, root: Path) -> bool:
    """Run one nbgrader command in the course directory; True when it succeeded."""
    print("$ nbgrader", " ".join(args), flush=True)
    # nbgrader runs `alembic` (database migrations) from PATH: put the venv's bin/ first,
    # so this also works without an activated virtual environment.
    env = grading_env(None)
    result = subprocess.run(
        [NBGRADER, *args], cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    print(result.stdout, end="", flush=True)  # through sys.stdout, so callers may capture it
    return result.returncode == 0


def grading_env(threads: int | None) -> dict:
    """The environment of nbgrader and its kernels: the venv's bin/ on PATH, threads per kernel.

    nbgrader runs ``alembic`` (database migrations) from PATH, so this also works without an
    activated virtual environment.
    """
    env = inherited()
    env["PATH"] = os.pathsep.join([str(Path(NBGRADER).parent), env.get("PATH", "")])
    if threads:
        env.update({var: str(threads) for var in THREAD_VARS})
    return env
