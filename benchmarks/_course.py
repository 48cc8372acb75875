"""The scratch course the grading benchmarks work in: release an assignment, collect hand-ins."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TOOL = [sys.executable, "-m", "coursekit"]


def release(course: Path, name: str) -> Path:
    """``coursekit release NAME`` in ``course``; the released notebook."""
    subprocess.run([*TOOL, "release", name], cwd=course, check=True, capture_output=True)
    return course / "release" / name / f"{name}.ipynb"


def collect(course: Path, name: str, handins: dict[str, str]) -> Path:
    """Write ``handins`` ({student: notebook text}) as ``<student>__<name>.ipynb`` into the new
    folder ``handins_<name>`` beside ``course``, then ``coursekit collect`` it; that folder."""
    folder = course.parent / f"handins_{name}"
    folder.mkdir()
    for student, text in handins.items():
        (folder / f"{student}__{name}.ipynb").write_text(text)
    subprocess.run([*TOOL, "collect", str(folder)], cwd=course, check=True, capture_output=True)
    return folder
