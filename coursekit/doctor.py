"""Doctor: can this machine grade? The checks ``coursekit grade`` relies on, then its canary.

Prints, without grading anyone: the course, the kernel's isolation (the sandbox ``grade`` will
use, and why not a better one), where ``course_utils`` is and whether the sandboxed kernel can
reach it, the data folder, the gradebook; then grades the worked solutions in a scratch course
(``coursekit selfcheck``), as ``grade`` does first. When that fails, the failing cell's error
and traceback are printed and the scratch course is kept.
"""

from __future__ import annotations

import importlib.util
import os
import re

from coursekit.config import Course, environment


def _mask(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


def isolation(course: Course) -> tuple[str, str]:
    """The sandbox ``grade`` uses here (:func:`coursekit.grade.sandbox.mode`) and what it gives, in words."""
    import shutil
    import sys

    from coursekit.grade import jail, sandbox

    mode = sandbox.mode()
    chosen = environment().sandbox
    if mode == "bwrap":
        g = course.grading
        limits = jail.Limits(memory_bytes=int(g.memory_gib * jail.GIB), processes=g.processes,
                             disk_bytes=int(g.disk_gib * jail.GIB), network=g.network)  # fmt: skip
        return mode, ("bubblewrap jail: own mount, PID, network, IPC and UTS namespaces, course hidden, "
                      "an unused uid without capabilities; limits of [grading]: "
                      f"{limits.describe()}")  # fmt: skip
    if mode == "namespace":
        no_jail = "COURSE_GRADING_SANDBOX=namespace chose it" if chosen == "namespace" else jail.available()
        return mode, (f"own mount namespace, course hidden, unprivileged uid; NO resource limits "
                      f"(no bubblewrap jail: {no_jail})")  # fmt: skip
    if chosen == "0":
        why = "COURSE_GRADING_SANDBOX=0 turned the sandbox off; unset it"
    elif sys.platform != "linux":
        why = f"{sys.platform} has no mount namespaces: grade on Linux"
    elif os.geteuid() != 0:
        why = "the grader is not root: run `coursekit grade` as root on Linux"
    elif not (shutil.which("unshare") and shutil.which("mount")):
        why = "unshare or mount (util-linux) is missing: install util-linux"
    else:
        why = "this machine cannot make mount namespaces (an unprivileged container?)"
    jail_why = f"; no bubblewrap jail: {jail.available()}" if chosen != "0" and jail.available() else ""
    return mode, f"only a fresh working folder, student code can read the course: {why}{jail_why}"


def doctor(course: Course, names: list[str], jobs: int = 1) -> list[str]:
    from coursekit.grade.diagnose import unreadable_parents
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
        blocked = unreadable_parents(where[0]) if mode == "namespace" else []
        note = f"  NOT reachable by the sandboxed kernel: {blocked}" if blocked else ""
        print(f"course_utils {where[0]}{note}")
        if blocked:
            problems.append(f"the sandboxed kernel cannot enter {', '.join(blocked)}: chmod o+x them")
    data = str(environment().data_dir or "")
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
