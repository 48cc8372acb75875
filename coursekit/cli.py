"""``coursekit``: the instructor's one command, a thin subcommand per job.

    coursekit build                 lessons, lecture solutions and assignments from their sources
    coursekit check                 fail if a built notebook differs from its source
    coursekit execute [NOTEBOOK…]   run notebooks top to bottom (fast mode)
    coursekit release [NAME…]       nbgrader's student versions into release/
    coursekit collect HANDINS       hand-ins (folder, Moodle or Canvas zip) into submitted/
    coursekit grade [NAME…]         the canary (worked solutions), then autograde each hand-in,
                                    feedback/, grades.csv, grading_report.csv (--scheduler: on the
                                    workers of a Dask cluster; --resume: only what has no grade)
    coursekit feedback [NAME…]      after manual grading: feedback/ and grades.csv again
    coursekit selfcheck [NAME…]     the worked solutions get full marks in a scratch course
    coursekit doctor [NAME…]        can this machine grade? jail, packages, data, then the selfcheck
    coursekit export LMS NAME       grades back to the LMS the hand-ins came from
    coursekit publish DEST          the students' repository and its website, scanned for leaks
    coursekit site [OUT]            the course website alone (default: _build/site/html)
    coursekit colab refresh|standin Colab's package list; a stand-in of Colab's runtime to test in

Each subcommand forwards to the module that does its job (``coursekit.release``,
``coursekit.collect``, ``coursekit.grade.batch``, ...), as otter's CLI forwards to
``otter.assign`` and ``otter.grade``. Every subcommand works on the course directory: the
nearest folder holding ``course.toml`` (or ``--course DIR``).
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path

from coursekit import lms
from coursekit.config import Course, environment, export
from coursekit.errors import CourseError


def _build(course: Course, args) -> list[str]:
    from coursekit import assignments, notebooks

    status = notebooks.build(course, check=args.check) | assignments.build(course, check=args.check)
    return ["notebooks out of date"] if status else []


def _check(course: Course, args) -> list[str]:
    args.check = True
    return _build(course, args)


def _execute(course: Course, args) -> list[str]:
    from coursekit.execute import execute_all

    return ["execute"] if execute_all(course.root, args.notebooks) else []


def _release(course: Course, args) -> list[str]:
    from coursekit.release import release

    return release(course, args.names)


def _collect(course: Course, args) -> list[str]:
    from coursekit.collect import collect

    return collect(args.handins, args.assignment, course.root)


def _grade(course: Course, args) -> list[str]:
    from coursekit.grade.batch import grade, graded_names
    from coursekit.selfcheck import selfcheck

    jobs = _jobs(course, args)
    if args.trusted:  # read by coursekit.grade.batch and by the grading workers it starts
        export(COURSE_GRADING_TRUSTED="1")
    scheduler = args.scheduler or course.grading.scheduler
    if scheduler and not args.feedback_only:  # each Dask worker runs the canary before it takes a hand-in
        try:
            from coursekit.grade.cluster import grade_on_cluster
        except ImportError as err:
            return [
                f"--scheduler needs Dask ({err}): pip install -r requirements.txt, or the `cluster` "
                "extra (pip install -e '.[cluster]')"
            ]
        return grade_on_cluster(args.names, course.root, scheduler, resume=args.resume)
    if not args.feedback_only and not args.no_canary:
        names = args.names or graded_names(course.root)
        print(
            f"canary: grading the worked solution of {', '.join(names) or 'no assignment'} first, "
            "in the same sandbox, with the same limits",
            flush=True,
        )
        problems = selfcheck(course, names, jobs=jobs)
        if problems:
            return [f"canary: {p}" for p in problems] + [
                "the grading machine cannot grade correctly: no grade was written. Fix the cause above "
                "(`coursekit doctor` prints the checks), then run `coursekit grade` again."
            ]
    return grade(args.names, course.root, autograde=not args.feedback_only, jobs=jobs, resume=args.resume)


def _doctor(course: Course, args) -> list[str]:
    from coursekit.doctor import doctor

    return doctor(course, args.names, jobs=_jobs(course, args))


def _feedback(course: Course, args) -> list[str]:
    from coursekit.grade.batch import grade

    return grade(args.names, course.root, autograde=False)


def _selfcheck(course: Course, args) -> list[str]:
    from coursekit.selfcheck import selfcheck

    if args.trusted:
        export(COURSE_GRADING_TRUSTED="1")
    return selfcheck(course, args.names, jobs=_jobs(course, args))


def _publish(course: Course, args) -> list[str]:
    from coursekit.publish import publish

    return publish(course, args.dest, force=args.force, site=not args.no_site)


def _site(course: Course, args) -> list[str]:
    """``coursekit site``: publish into a temporary folder (unless ``--from``), then build the website."""
    import tempfile

    from coursekit.publish import publish
    from coursekit.site import build_site

    fast = not args.full and environment().fast is not False
    out = args.out or course.root / "_build" / "site" / "html"
    if args.published is not None:
        return build_site(course, args.published, out, fast=fast)
    with tempfile.TemporaryDirectory(prefix="course-public-") as folder:  # publish writes outside the master
        failed = publish(course, Path(folder) / "public", site=False)
        return failed or build_site(course, Path(folder) / "public", out, fast=fast)


def _colab(course: Course, args) -> list[str]:
    from coursekit import colab

    if args.action == "refresh":
        return colab.refresh(course.root, args.target)
    return colab.build_standin(course, Path(args.target or course.root / ".venv-colab"))


def _export(course: Course, args) -> list[str]:
    from coursekit.export import export

    return export(course, args.lms, args.name, args.out, args.column, pending=args.pending)


def _jobs(course: Course, args) -> int:
    """``--jobs``, ``$COURSE_GRADING_JOBS``, course.toml's ``[grading] jobs``, or one per core."""
    return args.jobs or environment().jobs or course.grading.jobs or os.cpu_count() or 1


def parser() -> argparse.ArgumentParser:
    """The command line: one subparser per job."""
    top = argparse.ArgumentParser(
        prog="coursekit", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    top.add_argument("--debug", action="store_true", help="show an error's traceback, not only its message")
    top.add_argument(
        "--course",
        type=Path,
        default=None,
        help="course directory (default: the nearest "
        "folder at or above the working directory with a course.toml)",
    )
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, run: Callable, text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=text, description=text)
        p.set_defaults(run=run)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        return p

    p = add("build", _build, "write notebooks/, solutions/, assignments/ from lessons/*.py, assignments/*.py")
    p.add_argument("--check", action="store_true", help="only compare, write nothing (exit 1 when stale)")
    add("check", _check, "fail when a built notebook differs from its source (coursekit build --check)")
    p = add("execute", _execute, "run notebooks top to bottom in fast mode, in fresh kernels")
    p.add_argument("notebooks", nargs="*", type=Path, help="default: every lesson notebook")
    p = add("release", _release, "build the assignments, then nbgrader's student versions in release/")
    p.add_argument("names", nargs="*", help="assignments (default: all of course.toml)")
    p = add("collect", _collect, "copy hand-ins into submitted/<student>/<assignment>/ and repair them")
    p.add_argument("handins", type=Path, help="a folder or an LMS zip (Moodle, Canvas; coursekit.handins)")
    p.add_argument(
        "--assignment",
        default=None,
        help="for <student>.ipynb, per-student folders, Moodle and Canvas downloads",
    )
    for name, run, text in (
        ("grade", _grade, "autograde submitted/, write feedback/ and grades.csv"),
        ("selfcheck", _selfcheck, "autograde the worked solutions in a scratch course"),
    ):
        p = add(name, run, text)
        p.add_argument("names", nargs="*", help="assignments (default: all with hand-ins)")
        p.add_argument(
            "--jobs",
            "-j",
            type=int,
            default=0,
            help="hand-ins graded at once (default: $COURSE_GRADING_JOBS, course.toml, cores)",
        )
        if name == "grade":
            p.add_argument(
                "--feedback-only",
                action="store_true",
                help="no autograde: feedback and grades.csv again, after manual grading",
            )
            p.add_argument(
                "--no-canary",
                action="store_true",
                help="skip grading the worked solutions first (not recommended)",
            )
            p.add_argument(
                "--resume",
                action="store_true",
                help="grade only the hand-ins without a grade yet (after a stopped run)",
            )
            p.add_argument(
                "--scheduler",
                default="",
                metavar="tcp://HOST:8786",
                help="grade on the workers of this Dask scheduler (default: course.toml's "
                "[grading] scheduler; none: on this machine)",
            )
        p.add_argument(
            "--trusted",
            action="store_true",
            help="grade without the kernel jail (no bubblewrap/root): only on a one-user "
            "machine whose environment and network a hand-in may see (said in each row)",
        )
    p = add(
        "doctor",
        _doctor,
        "check the grading machine (sandbox, packages, data) and grade the worked "
        "solutions, without grading anyone",
    )
    p.add_argument("names", nargs="*", help="assignments (default: all)")
    p.add_argument("--jobs", "-j", type=int, default=0)
    p = add("feedback", _feedback, "after manual grading: feedback/ and grades.csv again")
    p.add_argument("names", nargs="*")
    p = add("export", _export, "grades back to the LMS: Moodle's grading worksheet, Canvas' gradebook CSV")
    p.add_argument("lms", choices=lms.names(), help="an LMS plugin of coursekit/lms/")
    p.add_argument("name", help="the assignment, as collected from that LMS's zip")
    p.add_argument("--out", type=Path, default=None, help="default: lms_export/<lms>_<name>.csv")
    p.add_argument(
        "--column",
        "--canvas-column",
        default=None,
        help="the grade column's title where the LMS matches on it "
        "(Canvas: 'Name (assignment id)' as a gradebook export has it)",
    )
    p.add_argument(
        "--pending",
        action="store_true",
        help="post hand-ins whose manual grading is not done with their autograded points, "
        "marked partial (default: no grade for them, the comment says why)",
    )
    p = add("publish", _publish, "write the students' repository into DEST and scan it for leaks")
    p.add_argument("dest", type=Path, help="folder of the students' repository (created if missing)")
    p.add_argument("--force", action="store_true", help="replace what DEST holds (its .git is kept)")
    p.add_argument("--no-site", action="store_true", help="leave the website (DEST/docs) out")
    p = add(
        "site",
        _site,
        "the course website: a page per lesson with a synced tab per track, the "
        "assignments, the course_utils reference (Sphinx, MyST, sphinx-design)",
    )
    p.add_argument("out", nargs="?", type=Path, default=None, help="default: _build/site/html")
    p.add_argument(
        "--from",
        dest="published",
        type=Path,
        default=None,
        help="a tree `coursekit publish` wrote (default: publish into a temporary folder first)",
    )
    p.add_argument("--full", action="store_true", help="outputs of full-mode runs (COURSE_FAST=0)")
    p = add(
        "colab",
        _colab,
        "Colab's runtime: refresh colab/pip-freeze.txt from googlecolab/backend-info, "
        "or build a stand-in virtual environment with Colab's versions (default: .venv-colab)",
    )
    p.add_argument("action", choices=["refresh", "standin"])
    p.add_argument(
        "target",
        nargs="?",
        default=None,
        help="refresh: a clone of googlecolab/backend-info or a base URL (default: GitHub); "
        "standin: the virtual environment's folder",
    )
    return top


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand: status 0, 1 with a ``FAILED:`` line per problem it found, or 2 with
    ``coursekit: error: <message>`` for a :class:`~coursekit.errors.CourseError` (as argparse
    reports a wrong command line), its traceback only with ``--debug``."""
    args = parser().parse_args(argv)
    try:
        course = Course.find(args.course)
        failed = args.run(course, args)
    except CourseError as err:  # the one error class: its message says what to do
        if args.debug:
            traceback.print_exc()
        print(f"coursekit: error: {err}", file=sys.stderr)
        return 2
    for line in failed:
        print("FAILED:", line, file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":  # python -m coursekit.cli
    sys.exit(main())
