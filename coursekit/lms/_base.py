"""The two plugin classes an LMS module fills in, on nbgrader's interfaces (see :mod:`coursekit.lms`)."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path
from typing import ClassVar

from nbgrader.plugins import ExportPlugin, FileNameCollectorPlugin
from traitlets import Bool, Unicode


class Collector(FileNameCollectorPlugin):
    """Names of an LMS's bulk download. ``named_regexp`` has the groups ``student_id`` and
    ``file_id`` (the name the student gave the file) and may have ``late`` (the LMS marked the
    hand-in late); :meth:`ids` says which groups the LMS needs back to match a grade."""

    lms: ClassVar[str] = ""

    def ids(self, groups: dict[str, str]) -> dict[str, str]:
        """The LMS's own ids of a hand-in, kept in lms_ids.csv for the export (``name`` included)."""
        return {}

    def skipped(self, path: str) -> str | None:
        """Why a path of this LMS holds no file hand-in (an online-text answer), else None."""
        return None

    def ambiguous(self, path: str) -> str | None:
        """Why ``path`` could name more than one student (a file or display name posing as
        another student's LMS name), else None; such a hand-in is refused, never guessed."""
        return None

    def identify(self, path: str) -> dict | None:
        """``{"student_id", "file_id", "late", "ids"}`` of ``path`` (relative to the download, a
        folder ending in ``/``), whatever its extension; None when the name is not this LMS's."""
        found = re.match(self.named_regexp, path, re.S)
        if not found or self.ambiguous(path):  # collect reports it; no caller may guess whose it is
            return None
        groups = {k: v or "" for k, v in found.groupdict().items()}
        return {
            "student_id": groups["student_id"],
            "file_id": groups["file_id"],
            "late": bool(groups.get("late")),
            "ids": {"lms": self.lms, **self.ids(groups)},
        }

    def collect(self, submitted_file: str) -> dict | None:
        """nbgrader's entry point: :meth:`identify` of a file with a valid extension (``.ipynb``)."""
        if os.path.splitext(submitted_file)[1] not in self.valid_ext:
            return None
        return self.identify(submitted_file)


class Export(ExportPlugin):
    """An LMS's grade-import file. A module fills in :meth:`header`, :meth:`row` and, if its LMS
    needs a setting changed first, :meth:`advice`; the rest is the same for every LMS."""

    lms: ClassVar[str] = ""
    maximum_field: ClassVar[str] = "the assignment's maximum"  # where the LMS keeps the maximum
    pending = Bool(
        False, help="post the autograded part while manual grading is pending (marked partial)"
    ).tag(config=True)
    column = Unicode("", help="the title of the grade's column, where the LMS matches on it").tag(config=True)

    def header(self, name: str, maximum: str) -> list[list[str]]:
        raise NotImplementedError

    def row(self, ids: dict[str, str], shown: str, maximum: str, comment: str) -> list[str]:
        """One student's row: ``shown`` is the grade ("" for none), ``comment`` what they read."""
        raise NotImplementedError

    def advice(self, above: list[str]) -> list[str]:
        """What to set in the LMS before the upload (``above``: students above the maximum)."""
        return []

    def export(self, gradebook) -> None:
        """Write ``to`` for each of ``assignment`` (nbgrader's options), from the course in the
        current folder; what each file holds, and what the instructor must check, is printed."""
        from coursekit.config import Course

        course = Course.load(Path(self.parent.coursedir.root if self.parent else os.getcwd()))
        for name in self.assignment:
            self.write(course, gradebook, name, Path(self.to or f"lms_export/{self.lms}_{name}.csv"))

    def write(self, course, gradebook, name: str, out: Path) -> None:
        from coursekit.collect import read_lms_ids
        from coursekit.errors import CourseError
        from coursekit.export import Posted, grades, number

        ids = [r for r in read_lms_ids(course.root) if r["assignment"] == name and r["lms"] == self.lms]
        if not ids:
            raise CourseError(
                f"no {self.lms} hand-ins of {name} were collected (lms_ids.csv): collect "
                f"the {self.lms} zip with `coursekit collect ZIP --assignment {name}` "
                "first"
            )
        scores, top = grades(course, name, self.pending, gradebook)
        out.parent.mkdir(parents=True, exist_ok=True)
        missing, above, partial = [], [], []
        with open(out, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerows(self.header(self.column or name, number(top)))
            for row in ids:
                unknown = Posted(None, top, "not graded: not in grading_report.csv")
                posted = scores.get(row["student_id"]) or unknown
                shown, most = ("" if posted.score is None else number(posted.score)), number(posted.maximum)
                if posted.score is None:
                    missing.append(f"{row['student_id']}: {posted.note}")
                    comment = posted.note
                else:
                    comment = f"{shown} of {most} points" + (f" ({posted.note})" if posted.note else "")
                    if posted.score > posted.maximum:
                        above.append(row["student_id"])
                    if posted.partial:
                        partial.append(f"{row['student_id']}: {posted.note}")
                writer.writerow(self.row(row, shown, most, comment))
        print(
            f"wrote {out} ({len(ids)} student(s); {len(missing)} without a grade, {len(partial)} partial, "
            f"{len(above)} above the maximum of {number(top)} with extra credit)"
        )
        print(
            f"  the maximum of {name} is {number(top)} points: the LMS's must be the same "
            f"({self.maximum_field})"
        )
        for line in missing:
            print(f"  no grade: {line}")
        for line in partial:
            print(f"  PARTIAL grade posted: {line}")
        for line in self.advice(above):
            print(f"  {line}")
