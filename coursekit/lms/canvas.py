"""Canvas: "Download Submissions" in, a gradebook import CSV out.

**In.** The ``submissions.zip`` of an assignment (Canvas LMS as of 2024): flat files
``<name>_[LATE_]<user id>_<submission id>_<original name>``, e.g.
``s2301234_LATE_4521_998877_matmul_timing.ipynb`` (names as in instructure/canvas-lms#2406).
The student id is the part before the user id: the student's sortable name, lower case,
without spaces or punctuation (``doejane``), or the student number where the names in Canvas
are student numbers. ``LATE`` is kept and printed by collect. A resubmitted file may carry
Canvas's ``-1`` suffix (``matmul_timing-1.ipynb``).

**Out.** A gradebook import (Grades → Import): ``Student``, ``ID`` (Canvas' user id, how Canvas
matches a row), ``SIS User ID``, ``SIS Login ID``, ``Section`` and one column named after the
assignment (``<name> (<Canvas assignment id>)`` as a gradebook export titles it: ``--canvas-column``);
its second row, ``Points Possible``, is read-only for Canvas. Canvas takes no comment from it.
"""

from __future__ import annotations

from traitlets import Unicode

from coursekit.lms._base import Collector as _Collector
from coursekit.lms._base import Export as _Export


class Collector(_Collector):
    lms = "canvas"
    named_regexp = Unicode(
        r"^(?P<student_id>[A-Za-z0-9][A-Za-z0-9.-]*?)_(?P<late>LATE_)?(?P<user_id>\d+)_"
        r"(?P<submission_id>\d+)_(?P<file_id>[^/]+)$"
    ).tag(config=True)

    def ids(self, groups: dict[str, str]) -> dict[str, str]:
        return {
            "user_id": groups["user_id"],
            "submission_id": groups["submission_id"],
            "name": groups["student_id"],
        }


class Export(_Export):
    lms = "canvas"
    maximum_field = "Canvas: the assignment's Points Possible"
    FIXED = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]

    def header(self, name: str, maximum: str) -> list[list[str]]:
        return [[*self.FIXED, name], ["Points Possible", "", "", "", "", maximum]]

    def row(self, ids: dict[str, str], shown: str, maximum: str, comment: str) -> list[str]:
        return [ids["name"], ids["user_id"], "", ids["name"], "", shown]
