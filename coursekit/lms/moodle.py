"""Moodle (mod_assign): "Download all submissions" in, the offline grading worksheet out.

**In.** With "Download submissions in folders" (Moodle 3.x and 4.x), one folder per student,
``<Full Name>_<participant id>_assignsubmission_file_/<file>`` (``Participant_<id>_...`` with
blind marking); without it, flat files ``<Full Name>_<id>_assignsubmission_file_<file>``. The
student id is the participant id, a number Moodle gives each student of the assignment. Folders
of other submission plugins (``..._assignsubmission_onlinetext_``) hold no notebook and are
skipped with a note. Names as built by mod/assign/locallib.php (``download_submissions``:
``clean_filename(fullname . '_' . uniqueid) . '_' . subtype . '_' . type . '_'``).

**Out.** The grading worksheet (Assignment → View all submissions → Grading action "Upload
grading worksheet", offline grading worksheets enabled): Moodle matches a row on
``Identifier`` (``Participant 123456``), takes ``Grade``, and shows ``Feedback comments``.
"""

from __future__ import annotations

import re

from traitlets import Unicode

from coursekit.lms._base import Collector as _Collector
from coursekit.lms._base import Export as _Export

MARK = re.compile(r"_(\d+)_assignsubmission_")
NAME = re.compile(r"^(?P<name>.*)_(?P<id>\d+)_assignsubmission_(?P<plugin>[a-z]+)_(?P<rest>.*)$", re.S)


class Collector(_Collector):
    lms = "moodle"
    named_regexp = Unicode(
        r"^(?P<name>.*)_(?P<student_id>\d+)_assignsubmission_file_/?"
        r"(?P<file_id>[^/]*)$"
    ).tag(config=True)

    def ids(self, groups: dict[str, str]) -> dict[str, str]:
        return {"identifier": f"Participant {groups['student_id']}", "name": groups["name"]}

    def ambiguous(self, path: str) -> str | None:
        ids = MARK.findall(path)
        if len(ids) < 2:
            return None
        return (
            f"{path}: not collected: the name holds {len(ids)} Moodle participant ids "
            f"({', '.join(ids)}), so a student's file or display name may pose as another student; "
            "look up in Moodle whose hand-in it is, rename it in the download so that only its "
            "owner's _<id>_assignsubmission_file_ is left, and collect again"
        )

    def skipped(self, path: str) -> str | None:
        found = NAME.match(path.rstrip("/"))
        if found and path.endswith("/") and (found["plugin"] != "file" or found["rest"]):
            return f"{path} not a file submission of Moodle: skipped"
        return None


class Export(_Export):
    lms = "moodle"
    maximum_field = "Moodle: the assignment's Maximum grade"
    HEADER = [
        "Identifier",
        "Full name",
        "Email address",
        "Status",
        "Grade",
        "Maximum Grade",
        "Grade can be changed",
        "Last modified (submission)",
        "Last modified (grade)",
        "Feedback comments",
    ]

    def header(self, name: str, maximum: str) -> list[list[str]]:
        return [self.HEADER]

    def row(self, ids: dict[str, str], shown: str, maximum: str, comment: str) -> list[str]:
        return [ids["identifier"], ids["name"], "", "", shown, maximum, "Yes", "", "", comment]

    def advice(self, above: list[str]) -> list[str]:
        if not above:
            return []
        return [
            f"extra credit: {', '.join(above)} scored above the maximum; Moodle accepts such a grade "
            "only with Site administration > Grades > General settings > Unlimited grades on: turn it on "
            "before the upload"
        ]
