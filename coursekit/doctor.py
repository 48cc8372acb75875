"""Doctor: can this machine grade? The checks ``coursekit grade`` relies on, then its canary.

Prints, without grading anyone: the course, the kernel's isolation (the jail ``grade`` will use,
or why it cannot), where ``course_utils`` is, the data folder, the gradebook; then grades the
worked solutions in a scratch course (``coursekit selfcheck``), as ``grade`` does first. When
that fails, the failing cell's error and traceback are printed and the scratch course is kept.
"""

from __future__ import annotations

import importlib.util
import os
import re

from coursekit.config import Course, environment


def _mask(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def isolation(course: Course) -> tuple[str, str]:
    """The isolation ``grade`` uses here (:func:`coursekit.grade.jail.isolation`), in words."""
    from coursekit.grade import jail

    limits = jail.Limits.of(course.grading)
    found = jail.isolation()
    return found.mode, found.describe(limits)


def doctor(course: Course, names: list[str], jobs: int = 1) -> list[str]:
    from coursekit.grade.gradebook import gradebook_url
    from coursekit.selfcheck import selfcheck

    problems: list[str] = []
    print(f"course      {course.id} in {course.root} (public repository {course.public_repo})")
    mode, what = isolation(course)
    print(f"isolation   {mode}: {what}")
    spec = importlib.util.find_spec("course_utils")
    where = list(spec.submodule_search_locations) if spec and spec.submodule_search_locations else []
    if not where:
        problems.append("course_utils is not installed: run `make setup`")
    else:
        print(f"course_utils {where[0]}")
    data = str(environment().data_dir or "")
    print(
        f"data        {data or 'COURSE_DATA_DIR not set (the loaders download, which needs internet)'}"
        + ("" if not data or os.path.isdir(data) else "  NOT a folder")
    )
    if data and not os.path.isdir(data):
        problems.append(f"COURSE_DATA_DIR={data} is not a folder")
    print(f"gradebook   {_mask(gradebook_url(course.root))}")
    limits = course.grading
    print(f"limits      {limits.cell_timeout_s} s per cell, {limits.output_text_bytes:,} B of text per cell")
    print("canary      grading the worked solutions in a scratch course ...", flush=True)
    problems += selfcheck(course, names, jobs=jobs)
    print("doctor: " + ("the grading machine can grade" if not problems else f"{len(problems)} problem(s)"))
    return problems
