"""Release: build the assignments from their sources, then nbgrader's student versions in release/."""

from __future__ import annotations

from coursekit import assignments
from coursekit.config import Course
from coursekit.nbgrader_cli import nbgrader


def release(course: Course, names: list[str]) -> list[str]:
    """Rewrite sources and solutions from ``assignments/*.py``, then release student versions."""
    if assignments.build(course):
        return ["coursekit build (assignments)"]
    unknown = [n for n in names if n not in course.notebook_names()]
    if unknown:
        return [f"unknown assignment(s) {unknown}; course.toml has {', '.join(course.notebook_names())}"]
    failed = []
    for name in names or course.notebook_names():
        if not nbgrader("generate_assignment", name, "--force", root=course.root):
            failed.append(name)
    return failed
