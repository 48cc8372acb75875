"""LMS downloads (Moodle, Canvas, zip files) and Colab-saved notebooks in ``make collect``.

Fast tests: the naming conventions of ``coursekit.handins`` and the safety of zip extraction,
on files generated in tmp folders. One slow test collects a Moodle zip and a Canvas zip of
Colab-saved hand-ins (nbformat 4.0, Colab metadata) into a copy of the course and grades them.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import subprocess
import time
import zipfile
from pathlib import Path

import nbformat
import pytest

from coursekit import handins, repair
from coursekit.collect import collect, handed_in
from tests.helpers import KIT, ROOT, answers_of, fill, grade_batch

NAME = "matmul_timing"
KNOWN = ["fc_vs_conv_keras", "matmul_timing", "param_study_keras"]
AUTO = 10  # autograded points of matmul_timing (of 21)
MAXIMUM = 16  # what the LMS gets as matmul_timing's maximum: 21 less the optional Part C (extra credit)


def _gid(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _notebook(path: Path, text: str = "x = 1") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(text)]), path)
    return path


def _plan(folder: Path, assignment: str | None = None):
    plan = handins.plan_folder(folder, assignment, KNOWN)
    return {h.student: h for h in plan.handins}, plan


# ------------------------------------------------------------------------ naming


def test_ours_plain_and_folders(tmp_path):
    _notebook(tmp_path / "s1__matmul_timing.ipynb")
    (tmp_path / "s1__matmul_timing__data.csv").write_text("x\n1\n")
    _notebook(tmp_path / "s3" / "matmul_timing (1).ipynb")  # a student folder, notebook named as downloaded
    (tmp_path / "s3" / "notes.txt").write_text("hi")
    found, plan = _plan(tmp_path)
    assert found["s1"].assignment == NAME and found["s1"].layout == "ours"
    assert [(p.name, name) for p, name in found["s1"].extras] == [("s1__matmul_timing__data.csv", "data.csv")]
    assert found["s3"].assignment == NAME and [n for _, n in found["s3"].extras] == ["notes.txt"]
    assert plan.errors == []

    _notebook(tmp_path / "s4.ipynb")
    found, plan = _plan(tmp_path)
    assert "s4" not in found and any(e.startswith("s4.ipynb") and "ASSIGNMENT" in e for e in plan.errors)
    found, plan = _plan(tmp_path, "fc_vs_conv_keras")
    assert found["s4"].assignment == found["s3"].assignment == "fc_vs_conv_keras"


def test_moodle_download_all_submissions(tmp_path):
    _notebook(tmp_path / "Jane Doe_123456_assignsubmission_file_" / "matmul_timing.ipynb")
    (tmp_path / "Jane Doe_123456_assignsubmission_file_" / "my_data.csv").write_text("x\n")
    _notebook(tmp_path / "山田 太郎_123457_assignsubmission_file_" / "Copy of notebook.ipynb")
    _notebook(tmp_path / "Participant_123458_assignsubmission_file_" / "matmul_timing.ipynb")  # blind marking
    (tmp_path / "Jane Doe_123456_assignsubmission_onlinetext_").mkdir()
    (tmp_path / "Jane Doe_123456_assignsubmission_onlinetext_" / "onlinetext.html").write_text("<p>hi</p>")
    _notebook(tmp_path / "Ann Lee_123459_assignsubmission_file_matmul_timing.ipynb")  # "in folders" off
    found, plan = _plan(tmp_path)
    assert {s: (h.assignment, h.layout) for s, h in found.items()} == {
        "123456": (NAME, "moodle"),
        "123458": (NAME, "moodle"),
        "123459": (NAME, "moodle"),
    }
    assert [name for _, name in found["123456"].extras] == ["my_data.csv"]
    assert found["123456"].label == "Jane Doe_123456_assignsubmission_file_/matmul_timing.ipynb"
    assert any(e.startswith("山田 太郎_123457") and "ASSIGNMENT" in e for e in plan.errors), plan.errors
    assert any("onlinetext" in n and "skipped" in n for n in plan.notes)
    found, plan = _plan(tmp_path, NAME)
    assert found["123457"].notebook.name == "Copy of notebook.ipynb" and plan.errors == []


def test_canvas_download_submissions(tmp_path):
    _notebook(tmp_path / "s2301234_4521_998877_matmul_timing.ipynb")
    (tmp_path / "s2301234_4521_998878_my_data.csv").write_text("x\n")
    _notebook(tmp_path / "s2301235_LATE_4522_998879_matmul_timing-1.ipynb")  # resubmitted, late
    _notebook(tmp_path / "doejane_4523_998880_Untitled0.ipynb")
    found, plan = _plan(tmp_path)
    assert found["s2301234"].layout == "canvas" and not found["s2301234"].late
    assert [name for _, name in found["s2301234"].extras] == ["my_data.csv"]
    assert found["s2301235"].assignment == NAME and found["s2301235"].late
    assert "doejane" not in found and any("Untitled0" in e and "ASSIGNMENT" in e for e in plan.errors)
    found, plan = _plan(tmp_path, NAME)
    assert found["doejane"].assignment == NAME and plan.errors == []


def test_invalid_student_id_and_unknown_assignment(tmp_path):
    _notebook(tmp_path / "bad id__matmul_timing.ipynb")
    _notebook(tmp_path / "s1__nonsense.ipynb")
    found, plan = _plan(tmp_path)
    assert found == {}
    assert any("'bad id'" in e for e in plan.errors) and any("'nonsense'" in e for e in plan.errors)


def test_two_hand_ins_keep_the_newest_and_say_so(tmp_path):
    old = _notebook(tmp_path / "s1__matmul_timing.ipynb", "old = 1")
    new = _notebook(tmp_path / "s1" / "matmul_timing.ipynb", "new = 1")
    os.utime(old, (time.time() - 3600,) * 2)
    found, plan = _plan(tmp_path, NAME)
    assert found["s1"].notebook == new
    (note,) = plan.notes
    assert "s1 matmul_timing: two hand-ins" in note and "skipped s1__matmul_timing.ipynb" in note
    os.utime(new, (time.time() - 7200,) * 2)
    found, _ = _plan(tmp_path, NAME)
    assert found["s1"].notebook == old


# --------------------------------------------------------------------------- zip


def _zip(path: Path, members: dict[str, bytes], dates: dict[str, tuple] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, (dates or {}).get(name, (2025, 6, 1, 12, 0, 0))), data)
    return path


def _nb_bytes(text: str = "x = 1") -> bytes:
    return nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(text)])).encode()


def test_zip_extraction_is_safe(tmp_path):
    archive = _zip(
        tmp_path / "download.zip",
        {
            "../evil.ipynb": _nb_bytes(),
            "/tmp/abs_evil.ipynb": _nb_bytes(),
            "C:/evil.ipynb": _nb_bytes(),
            "a/../../evil2.ipynb": _nb_bytes(),
            "__MACOSX/._s1__matmul_timing.ipynb": b"\0\0",
            ".hidden.ipynb": _nb_bytes(),
            "s2/.DS_Store": b"\0",
            "s1__matmul_timing.ipynb": _nb_bytes(),
            "s2/matmul_timing.ipynb": _nb_bytes(),
        },
    )
    target = tmp_path / "out"
    target.mkdir()
    problems = handins.extract_zip(archive, target)
    assert len(problems) == 4 and all("refused" in p for p in problems), problems
    assert not list(tmp_path.rglob("evil*")) and not Path("/tmp/abs_evil.ipynb").exists()
    written = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert written == ["s1__matmul_timing.ipynb", "s2/matmul_timing.ipynb"]
    assert time.localtime((target / "s1__matmul_timing.ipynb").stat().st_mtime)[:6] == (2025, 6, 1, 12, 0, 0)


def test_zip_wrapper_folder_dates_and_errors(tmp_path):
    older, newer = (2025, 6, 1, 9, 0, 0), (2025, 6, 2, 9, 0, 0)
    archive = _zip(
        tmp_path / "submissions.zip",
        {
            "submissions/s2301234_4521_1_matmul_timing.ipynb": _nb_bytes("old = 1"),
            "submissions/s2301234_4521_2_matmul_timing-1.ipynb": _nb_bytes("new = 1"),
            "submissions/s9__matmul_timing.ipynb": _nb_bytes(),
        },
        {
            "submissions/s2301234_4521_1_matmul_timing.ipynb": newer,
            "submissions/s2301234_4521_2_matmul_timing-1.ipynb": older,
        },
    )
    with handins.opened(archive) as (folder, problems):
        assert folder is not None and folder.name == "submissions" and problems == []
        plan = handins.plan_folder(folder, None, KNOWN)
        found = {h.student: h for h in plan.handins}
        assert set(found) == {"s2301234", "s9"}
        assert "old = 1" in found["s2301234"].notebook.read_text()  # the newer zip entry wins
        assert any("skipped s2301234_4521_2_matmul_timing-1.ipynb" in n for n in plan.notes)
    assert not folder.exists()  # the temporary folder is gone
    (tmp_path / "notes.txt").write_text("hello")
    cases = ((tmp_path / "notes.txt", "neither a folder nor a zip"), (tmp_path / "none", "not a folder"))
    for path, words in cases:
        with handins.opened(path) as (folder, problems):
            assert folder is None and words in problems[0]


def test_collect_from_zip_without_release(tmp_path):
    """``coursekit.collect.collect`` on a zip, in a course without release/ (checks, no repair)."""
    root = tmp_path / "course"
    _notebook(root / "assignments" / NAME / f"{NAME}.ipynb")
    archive = _zip(
        tmp_path / "moodle.zip",
        {
            "Jane Doe_77_assignsubmission_file_/matmul_timing.ipynb": _nb_bytes(),
            "Jane Doe_77_assignsubmission_file_/data.csv": b"x\n1\n",
            "../escape.ipynb": _nb_bytes(),
        },
    )
    errors = collect(archive, None, root)
    assert len(errors) == 1 and "refused" in errors[0]
    assert (root / "submitted" / "77" / NAME / f"{NAME}.ipynb").is_file()
    assert (root / "submitted" / "77" / NAME / "data.csv").read_text() == "x\n1\n"
    assert not (tmp_path / "escape.ipynb").exists()
    # the zip entry's date (local time, as zip files keep it) becomes nbgrader's timestamp.txt
    stamp = (root / "submitted" / "77" / NAME / "timestamp.txt").read_text()
    assert stamp == handed_in(time.mktime((2025, 6, 1, 12, 0, 0, 0, 0, -1)))
    assert stamp.endswith(" UTC") and stamp.startswith("2025-06-")


# ------------------------------------------------------------------------- Colab


def colab_saved(nb, strip_nbgrader: bool = False, delete: str | None = None) -> str:
    """A notebook as Colab's File → Download → .ipynb writes it: nbformat 4.0, no cell ids,
    ``metadata.id``, ``outputId``, ``executionInfo``, a notebook ``colab`` section."""
    nb = copy.deepcopy(nb)
    if delete:
        nb.cells = [c for c in nb.cells if _gid(c) != delete]  # Colab ignores deletable: false
    data = json.loads(nbformat.writes(nb))
    data["nbformat_minor"] = 0
    data["metadata"] = {
        "colab": {"provenance": [], "name": f"{NAME}.ipynb", "toc_visible": True},
        "kernelspec": {"name": "python3", "display_name": "Python 3"},
        "language_info": {"name": "python"},
        "accelerator": "GPU",
    }
    for k, cell in enumerate(data["cells"]):
        cell.pop("id", None)
        if strip_nbgrader:
            cell["metadata"].pop("nbgrader", None)
        cell["metadata"]["id"] = f"Xy{k:04d}colab"
        if cell["cell_type"] == "code":
            cell["metadata"]["colab"] = {"base_uri": "https://localhost:8080/"}
            cell["metadata"]["outputId"] = f"3f2a9c{k:02d}-aaaa-bbbb-cccc-0123456789ab"
            cell["metadata"]["executionInfo"] = {
                "status": "ok",
                "timestamp": 1748736000000 + k,
                "user_tz": -540,
                "elapsed": 12,
            }
    return json.dumps(data, indent=2, ensure_ascii=False)


@pytest.mark.parametrize("strip", [False, True])
def test_repair_colab_nbformat_40_with_deleted_test_cell(tmp_path, strip):
    source = ROOT / "assignments" / NAME / f"{NAME}.ipynb"  # stands in for release/ (same cells)
    path = tmp_path / "handin.ipynb"
    path.write_text(colab_saved(nbformat.read(source, as_version=4), strip, delete="test_matmul"))
    fixed = repair.repair_in_place(path, source)
    assert fixed.ok, fixed.reason
    assert any("test cell 'test_matmul' (2 points) was deleted: re-inserted" in n for n in fixed.notes)
    assert any("lost their nbgrader metadata" in n for n in fixed.notes) == strip
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, 0) and not any("id" in c for c in nb.cells)
    released = nbformat.read(source, as_version=4).cells
    assert [_gid(c) for c in nb.cells if _gid(c)] == [_gid(c) for c in released if _gid(c)]
    assert path.with_name("handin.ipynb.orig").is_file()


def test_repair_leaves_an_intact_colab_notebook_alone(tmp_path):
    source = ROOT / "assignments" / NAME / f"{NAME}.ipynb"
    path = tmp_path / "handin.ipynb"
    path.write_text(colab_saved(nbformat.read(source, as_version=4)))
    fixed = repair.repair_in_place(path, source)
    assert fixed.ok and fixed.notes == [] and not fixed.changed
    assert not path.with_name("handin.ipynb.orig").exists()


# -------------------------------------------------------------------------- slow


@pytest.fixture(scope="module")
def lms_course(make_course):
    env = dict(os.environ, COURSE_GRADING_TIMEOUT="20")
    root = make_course([NAME], env=env)
    run = dict(cwd=root, capture_output=True, text=True, timeout=600, env=env)
    tool = KIT
    release = nbformat.read(root / "release" / NAME / f"{NAME}.ipynb", as_version=4)
    solution = nbformat.read(root / "solutions" / f"{NAME}.ipynb", as_version=4)
    perfect = fill(release, answers_of(solution))
    day1, day2 = (2025, 6, 1, 10, 0, 0), (2025, 6, 2, 10, 0, 0)
    moodle = _zip(
        root / "moodle.zip",
        {
            "Jane Doe_123456_assignsubmission_file_/matmul_timing.ipynb": colab_saved(perfect).encode(),
            "山田 太郎_123457_assignsubmission_file_/Copy of matmul_timing.ipynb": colab_saved(
                perfect, strip_nbgrader=True
            ).encode(),
            "Jane Doe_123456_assignsubmission_onlinetext_/onlinetext.html": b"<p>see the notebook</p>",
        },
    )
    canvas = _zip(
        root / "submissions.zip",
        {
            "s2301234_4521_998877_matmul_timing.ipynb": colab_saved(perfect, delete="test_matmul").encode(),
            "s2301234_4521_998001_matmul_timing.ipynb": colab_saved(release).encode(),  # an older, blank one
            "s2301235_LATE_4522_998878_matmul_timing-1.ipynb": colab_saved(perfect).encode(),
        },
        {"s2301234_4521_998877_matmul_timing.ipynb": day2, "s2301234_4521_998001_matmul_timing.ipynb": day1},
    )
    collected = [
        subprocess.run([*tool, "collect", str(zipped), "--assignment", NAME], **run)
        for zipped in (moodle, canvas)
    ]
    n_nbgrader = sum("nbgrader" in cell.metadata for cell in release.cells)  # what Colab strips
    return {
        "root": root,
        "collect": collected,
        "n_nbgrader": n_nbgrader,
        **grade_batch(root, NAME, env, timeout=600),
    }


@pytest.mark.slow
def test_moodle_and_canvas_zips_of_colab_notebooks_are_graded(lms_course):
    moodle, canvas = lms_course["collect"]
    print(moodle.stdout, canvas.stdout, lms_course["grade"].stdout[-3000:], sep="\n")
    print(f"grade took {lms_course['seconds']:.0f} s")
    for result in (moodle, canvas):
        assert result.returncode == 0, result.stdout + result.stderr
    assert "onlinetext" in moodle.stdout and "skipped" in moodle.stdout
    assert "LATE (Canvas)" in canvas.stdout
    assert "two hand-ins, kept the newer s2301234_4521_998877_matmul_timing.ipynb" in canvas.stdout
    report = lms_course["report"]
    assert set(report) == {"123456", "123457", "s2301234", "s2301235"}, report
    for row in report.values():
        assert row["status"] == "graded" and float(row["score"]) == AUTO, row
        assert float(row["max_score"]) == 21, row
    for student in ("123456", "s2301235"):  # perfect: nothing to repair
        assert "restored" not in report[student]["notes"] and "deleted" not in report[student]["notes"]
    n = lms_course["n_nbgrader"]
    assert f"{n} cell(s) had lost their nbgrader metadata, restored" in report["123457"]["notes"]
    assert "test cell 'test_matmul' (2 points) was deleted: re-inserted" in report["s2301234"]["notes"]
    with open(lms_course["root"] / "grades.csv", newline="") as f:
        grades = {r["student_id"]: float(r["score"]) for r in csv.DictReader(f)}
    assert grades == {s: AUTO for s in report}


@pytest.mark.slow
def test_grades_go_back_to_moodle_and_canvas(lms_course):
    """The ids collect read from the zips come back in each LMS's import format."""
    root = lms_course["root"]
    # the hand-graded cells of matmul_timing are not graded yet: no partial grade is posted silently
    result = subprocess.run([*KIT, "export", "moodle", NAME], cwd=root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    with open(root / "lms_export" / f"moodle_{NAME}.csv", newline="", encoding="utf-8") as f:
        refused = list(csv.DictReader(f))
    assert refused and all(r["Grade"] == "" for r in refused), refused
    assert all(
        "manual grading pending" in r["Feedback comments"] and "--pending" in r["Feedback comments"]
        for r in refused
    )
    assert "without a grade" in result.stdout and "manual grading pending" in result.stdout
    for lms in ("moodle", "canvas"):  # --pending: the autograded part now, marked partial
        result = subprocess.run(
            [*KIT, "export", lms, NAME, "--pending"], cwd=root, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "PARTIAL grade posted" in result.stdout
    with open(root / "lms_export" / f"moodle_{NAME}.csv", newline="", encoding="utf-8") as f:
        moodle = list(csv.DictReader(f))
    # Moodle's offline grading worksheet: matched on "Identifier", grade in "Grade"
    assert list(moodle[0]) == [
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
    by_id = {r["Identifier"]: r for r in moodle}
    assert set(by_id) == {"Participant 123456", "Participant 123457"}
    assert by_id["Participant 123456"]["Full name"] == "Jane Doe"
    assert by_id["Participant 123457"]["Full name"] == "山田 太郎"
    assert all(float(r["Grade"]) == AUTO and float(r["Maximum Grade"]) == MAXIMUM for r in moodle)
    assert all("still to be graded by hand" in r["Feedback comments"] for r in moodle)
    with open(root / "lms_export" / f"canvas_{NAME}.csv", newline="", encoding="utf-8") as f:
        canvas = list(csv.reader(f))
    # Canvas' gradebook import: Student, ID (the user id Canvas matches on), SIS columns, Section, assignment
    assert canvas[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", NAME]
    assert canvas[1][0] == "Points Possible" and float(canvas[1][5]) == MAXIMUM
    rows = {r[1]: r for r in canvas[2:]}
    assert set(rows) == {"4521", "4522"}  # the user ids of s2301234 and s2301235
    assert rows["4521"][0] == "s2301234" and float(rows["4521"][5]) == AUTO


def test_cap_of_course_toml():
    from coursekit.config import Course
    from coursekit.export import capped

    course = Course.load(ROOT)
    assert capped(9, course, "param_study_keras") == 8  # 課題4: at most 8 of 9 points count
    assert capped(21, course, "matmul_timing") == 21
