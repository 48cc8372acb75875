"""Doctor: can this machine grade? The checks ``coursekit grade`` relies on, then its canary.

Prints, without grading anyone: the course, the kernel's isolation, where ``course_utils`` is
and whether the sandboxed kernel can reach it, the data folder, the gradebook; then grades the
worked solutions in a scratch course (``coursekit selfcheck``), as ``grade`` does first.
"""

from __future__ import annotations

import importlib.util
import os
import re

from coursekit.config import Course


def _mask(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def doctor(course: Course, names: list[str], jobs: int = 1) -> list[str]:
    from coursekit.grade import sandbox
    from coursekit.grade.diagnose import unreadable_parents
    from coursekit.grade.gradebook import gradebook_url
    from coursekit.selfcheck import selfcheck

    problems: list[str] = []
    print(f"course      {course.id} in {course.root} (public repository {course.public_repo})")
    mode = sandbox.mode()
    why = ("own mount namespace, course hidden, unprivileged uid" if mode == "namespace" else
           "only a fresh working folder: run as root on Linux for the namespace")  # fmt: skip
    print(f"isolation   {mode}: {why}")
    spec = importlib.util.find_spec("course_utils")
    where = list(spec.submodule_search_locations) if spec and spec.submodule_search_locations else []
    if not where:
        problems.append("course_utils is not installed: run `make setup`")
    else:
        blocked = unreadable_parents(where[0]) if mode == "namespace" else []
        note = f"  NOT reachable by the sandboxed kernel: {blocked}" if blocked else ""
        print(f"course_utils {where[0]}{note}")
        if blocked:
            problems.append(f"the sandboxed kernel cannot enter {', '.join(blocked)}: chmod o+x them")
    data = os.environ.get("COURSE_DATA_DIR")
    print(f"data        {data or 'COURSE_DATA_DIR not set (the loaders download, which needs internet)'}"
          + ("" if not data or os.path.isdir(data) else "  NOT a folder"))  # fmt: skip
    if data and not os.path.isdir(data):
        problems.append(f"COURSE_DATA_DIR={data} is not a folder")
    print(f"gradebook   {_mask(gradebook_url(course.root))}")
    limits = course.grading
    print(f"limits      {limits.cell_timeout_s} s per cell, {limits.output_text_bytes:,} B of text per cell")
    print("canary      grading the worked solutions in a scratch course ...", flush=True)
    problems += selfcheck(course, names, jobs=jobs)
    print("doctor: " + ("the grading machine can grade" if not problems else f"{len(problems)} problem(s)"))
    return problems
