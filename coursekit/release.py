"""Release: build the assignments from their sources, then nbgrader's student versions in release/."""

from __future__ import annotations

from pathlib import Path

from coursekit import assignments
from coursekit.config import Course
from coursekit.nbgrader_cli import grading_env


def release(course: Course, names: list[str]) -> list[str]:
    """Rewrite sources and solutions from ``assignments/*.py``, then release student versions."""
    if assignments.build(course):
        return ["coursekit build (assignments)"]
    unknown = [n for n in names if n not in course.notebook_names()]
    if unknown:
        return [f"unknown assignment(s) {unknown}; course.toml has {', '.join(course.notebook_names())}"]
    import tempfile

    from coursekit.grade.worker import Worker

    failed = []
    with tempfile.NamedTemporaryFile(prefix="coursekit-release-", suffix=".log") as log:
        with Worker(course.root, grading_env(None), Path(log.name)) as worker:  # nbgrader's start-up once
            for name in names or course.notebook_names():
                print(f"$ nbgrader generate_assignment {name} --force", flush=True)
                done = worker.release(name)
                if done.output:
                    print(done.output.rstrip("\n"), flush=True)
                if done.returncode:
                    failed.append(name)
        if failed and (crash := Path(log.name).read_text(errors="replace").strip()):
            print(crash[-3000:], flush=True)  # the worker itself failed (nbgrader_config.py, an import)
    return failed
