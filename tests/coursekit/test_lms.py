"""LMS plugins (coursekit.lms): nbgrader's plugin interfaces, and a new LMS is one file."""

from __future__ import annotations

import csv
import sys
import textwrap

import nbformat
from nbgrader.plugins import ExportPlugin, FileNameCollectorPlugin

from coursekit import handins, lms
from coursekit.collect import remember_lms_ids
from coursekit.config import Course
from coursekit.export import export
from tests.coursekit.test_export import _course, _gradebook, _gradebook_env  # noqa: F401 - its fixture

KNOWN = ["matmul_timing", "param_study_keras"]

# Brightspace's "Download" of an assignment's submissions, as a made-up plugin would read it:
# "<org id>-<user id> - <Last>, <First>- <date> - <file>"
BRIGHTSPACE = '''
"""Brightspace (test)."""
from traitlets import Unicode

from coursekit.lms._base import Collector as _Collector
from coursekit.lms._base import Export as _Export


class Collector(_Collector):
    lms = "brightspace"
    named_regexp = Unicode(r"^(?P<org>\\d+)-(?P<student_id>\\d+) - (?P<name>[^-]+)- [^-]+ - "
                           r"(?P<file_id>[^/]+)$")

    def ids(self, groups):
        return {"org_defined_id": groups["student_id"], "name": groups["name"].strip()}


class Export(_Export):
    lms = "brightspace"

    def header(self, name, maximum):
        return [["OrgDefinedId", f"{name} Points Grade", "End-of-Line Indicator"]]

    def row(self, ids, shown, maximum, comment):
        return ["#" + ids["org_defined_id"], shown, "#"]
'''


def _notebook(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), path)


def test_each_lms_is_a_pair_of_nbgrader_plugins():
    assert lms.names() == ["canvas", "moodle"]
    for name in lms.names():
        module = lms.plugin(name)
        assert issubclass(module.Collector, FileNameCollectorPlugin) and module.Collector.lms == name
        assert issubclass(module.Export, ExportPlugin) and module.Export.lms == name


def test_collectors_answer_as_nbgrader_asks():
    """``collect(path)``: student_id and file_id of a notebook, None for another extension or LMS."""
    moodle, canvas = lms.plugin("moodle").Collector(), lms.plugin("canvas").Collector()
    got = moodle.collect("Jane Doe_123456_assignsubmission_file_/matmul_timing.ipynb")
    assert (got["student_id"], got["file_id"]) == ("123456", "matmul_timing.ipynb")
    assert got["ids"] == {"lms": "moodle", "identifier": "Participant 123456", "name": "Jane Doe"}
    assert moodle.collect("Jane Doe_123456_assignsubmission_file_/data.csv") is None  # not a notebook
    assert moodle.collect("s2301234_4521_998877_matmul_timing.ipynb") is None
    got = canvas.collect("s2301235_LATE_4522_998879_matmul_timing-1.ipynb")
    assert (got["student_id"], got["file_id"], got["late"]) == ("s2301235", "matmul_timing-1.ipynb", True)
    assert got["ids"] == {"lms": "canvas", "user_id": "4522", "submission_id": "998879", "name": "s2301235"}
    assert moodle.skipped("Jane Doe_123456_assignsubmission_onlinetext_/") is not None


def test_a_new_lms_is_one_file(tmp_path, monkeypatch):
    """A module dropped into the package: collect reads its names, export writes its file."""
    package = tmp_path / "plugins"
    package.mkdir()
    (package / "brightspace.py").write_text(textwrap.dedent(BRIGHTSPACE))
    monkeypatch.setattr(lms, "__path__", [*lms.__path__, str(package)])
    monkeypatch.delitem(sys.modules, "coursekit.lms.brightspace", raising=False)
    assert lms.names() == ["brightspace", "canvas", "moodle"]

    download = tmp_path / "download"
    _notebook(download / "6606-2301234 - Doe, Jane- Jun 1, 2026 1012 AM - matmul_timing.ipynb")
    (download / "6606-2301234 - Doe, Jane- Jun 1, 2026 1012 AM - timings.csv").write_text("n,s\n")
    _notebook(download / "s2301299_4521_998877_matmul_timing.ipynb")  # Canvas still works beside it
    plan = handins.plan_folder(download, None, KNOWN)
    found = {h.student: h for h in plan.handins}
    assert plan.errors == [] and set(found) == {"2301234", "s2301299"}
    jane = found["2301234"]
    assert (jane.assignment, jane.layout) == ("matmul_timing", "brightspace")
    assert [name for _, name in jane.extras] == ["timings.csv"]
    assert jane.lms == {"lms": "brightspace", "org_defined_id": "2301234", "name": "Doe, Jane"}

    root = _course(tmp_path)  # a gradebook in which Jane's matmul_timing is fully graded
    _gradebook(root, "matmul_timing", {"2301234": {"auto": True, "manual": 99, "optional": 0.0}})
    (root / "grading_report.csv").write_text(
        "student_id,assignment,status,reason\n2301234,matmul_timing,graded,\n"
    )
    remember_lms_ids(root, plan.handins)
    with open(root / "lms_ids.csv", newline="") as f:
        rows = {r["student_id"]: r for r in csv.DictReader(f)}
    assert rows["2301234"]["org_defined_id"] == "2301234" and rows["s2301299"]["user_id"] == "4521"
    assert export(Course.load(root), "brightspace", "matmul_timing") == []
    with open(root / "lms_export" / "brightspace_matmul_timing.csv", newline="") as f:
        written = list(csv.reader(f))
    assert written[0] == ["OrgDefinedId", "matmul_timing Points Grade", "End-of-Line Indicator"]
    assert written[1:] == [["#2301234", "16", "#"]]  # 16 of 16: Part C is extra credit


def test_a_name_posing_as_another_student_is_refused(tmp_path):
    """Moodle's flat names end in the student's own file name, and a display name sits in front of
    the id: either can carry a second ``_<id>_assignsubmission_file_``. Eve (participant 4999)
    names her file so that the greedy reading would credit it to Alice (4521); Mallory's display
    name tries the same in a folder. Both are refused, naming both ids; Alice is collected once."""
    download = tmp_path / "download"
    _notebook(download / "Alice Ang_4521_assignsubmission_file_matmul_timing.ipynb")
    eve = "Eve Evil_4999_assignsubmission_file_" + "_4521_assignsubmission_file_matmul_timing.ipynb"
    _notebook(download / eve)
    mallory = "Mallory_4521_assignsubmission_file_" + "_4998_assignsubmission_file_"
    _notebook(download / mallory / "matmul_timing.ipynb")
    (download / "Alice Ang_4521_assignsubmission_file_timings.csv").write_text("n,s\n")
    (download / eve.replace("matmul_timing.ipynb", "timings.csv")).write_text("n,s\n0,0\n")  # into Alice's?
    plan = handins.plan_folder(download, None, KNOWN)
    assert [(h.student, h.assignment) for h in plan.handins] == [("4521", "matmul_timing")]
    assert plan.handins[0].lms["name"] == "Alice Ang"
    assert [(path.name, name) for path, name in plan.handins[0].extras] == [
        ("Alice Ang_4521_assignsubmission_file_timings.csv", "timings.csv")
    ]  # not Eve's
    assert len(plan.errors) == 3, plan.errors
    assert any(e.startswith("Eve Evil_4999") and e.split(":")[0].endswith("timings.csv") for e in plan.errors)
    assert any(e.startswith("Eve Evil_4999") and "(4999, 4521)" in e for e in plan.errors)
    assert any(e.startswith("Mallory_4521") and "(4521, 4998)" in e for e in plan.errors)
    assert all("rename it in the download" in e for e in plan.errors)
