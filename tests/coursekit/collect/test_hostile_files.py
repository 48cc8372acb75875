"""Hand-in files are data: links, hard links, FIFOs, devices and path tricks never reach a copy.

The grader runs as root. Each trick a student can leave in a hand-in folder, a zip, a tarball,
a git repository or nbgrader's exchange points at something the instructor keeps: a root-only
file, the gradebook, the assignment's source notebook (solutions and hidden tests), another
student's hand-in. For each, on real files (as root here), the secret never lands in
``submitted/``, ``autograded/``, ``feedback/`` or the grading logs, and the report names what was
skipped and why. A FIFO must not hang anything (each fast test runs under an alarm).
"""

from __future__ import annotations

import contextlib
import csv
import os
import signal
import stat
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import nbformat
import pytest

from coursekit import plainfiles
from coursekit.collect import clean_submitted, collect
from tests.helpers import kit

NAME = "matmul_timing"
ROOT_TOKEN = "ROOT-ONLY-SECRET-7f3a91"  # in a 0600 file of root's
SOURCE_TOKEN = "INSTRUCTOR-SOURCE-SECRET-c41e"  # in the assignment's source notebook
GRADEBOOK_TOKEN = "GRADEBOOK-SECRET-90b2"  # in the gradebook
VICTIM_TOKEN = "OTHER-STUDENT-HANDIN-5d6e"  # in another student's hand-in
TOKENS = (ROOT_TOKEN, SOURCE_TOKEN, GRADEBOOK_TOKEN, VICTIM_TOKEN)


@contextlib.contextmanager
def no_hang(seconds: int = 20):
    """Fail (instead of hanging the suite) when the block blocks, e.g. on a FIFO."""

    def hung(*_):
        raise TimeoutError(f"blocked for {seconds} s: a FIFO or device was opened")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _notebook(path: Path, text: str = "x = 1") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(text)]), path)
    return path


def _device(path: Path) -> bool:
    """A character device node (/dev/null's numbers) at ``path``; False where mknod is not allowed."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))
    except (PermissionError, OSError):
        return False
    return True


def _texts(folder: Path) -> str:
    """Every byte of every file below ``folder`` (never following a link), as text."""
    out = []
    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                out.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(out)


def _links_or_specials(folder: Path) -> list[str]:
    found = []
    for dirpath, dirs, files in os.walk(folder):
        for name in dirs + files:
            st = os.lstat(Path(dirpath) / name)
            if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)) or (
                stat.S_ISREG(st.st_mode) and st.st_nlink > 1
            ):
                found.append(str(Path(dirpath, name).relative_to(folder)))
    return found


@pytest.fixture
def course(tmp_path) -> dict:
    """A small course (no release) with the instructor's secrets, and a root-only file beside it."""
    root = tmp_path / "course"
    _notebook(root / "assignments" / NAME / f"{NAME}.ipynb", f"# {SOURCE_TOKEN}\n### BEGIN SOLUTION")
    (root / "gradebook.db").write_text(f"SQLite format 3 {GRADEBOOK_TOKEN}")
    victim = _notebook(root / "submitted" / "victim" / NAME / f"{NAME}.ipynb", f"# {VICTIM_TOKEN}")
    private = tmp_path / "root_only"
    private.mkdir(mode=0o700)
    secret = private / "secret.txt"
    secret.write_text(ROOT_TOKEN)
    secret.chmod(0o600)
    return {
        "root": root,
        "secret": secret,
        "victim": victim,
        "private": private,
        "source": root / "assignments" / NAME / f"{NAME}.ipynb",
        "gradebook": root / "gradebook.db",
    }


# ---------------------------------------------------------------------------- the module


def test_copy_tree_copies_plain_files_only(course, tmp_path):
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "sub").mkdir(parents=True)
    (src / "data.csv").write_text("x\n1\n")
    (src / "sub" / "more.txt").write_text("more")
    (src / "secret.txt").symlink_to(course["secret"])
    (src / "gradebook.db").symlink_to(course["gradebook"])
    (src / "friend.ipynb").symlink_to(course["victim"])
    (src / "course").symlink_to(course["root"], target_is_directory=True)
    os.link(course["secret"], src / "hard.txt")
    os.mkfifo(src / "pipe.csv")
    device = _device(src / "null.dev")
    (src / "bad\x1bname.csv").write_text("escape")
    (src / "back\\slash.csv").write_text("separator")
    (src / ".git").mkdir()
    (src / ".git" / "config").write_text("[core]")
    with no_hang():
        skipped = plainfiles.copy_tree(src, dst)
    copied = sorted(str(p.relative_to(dst)) for p in dst.rglob("*") if p.is_file())
    assert copied == ["data.csv", "sub/more.txt"]
    assert not any(token in _texts(dst) for token in TOKENS)
    why = {s.path: s.reason for s in skipped}
    for name in ("secret.txt", "gradebook.db", "friend.ipynb", "course"):
        assert why[name].startswith("a symbolic link to ") and "not followed" in why[name], why
    assert str(course["secret"]) in why["secret.txt"]
    assert why["hard.txt"].startswith("a hard link (2 names")
    assert why["pipe.csv"].startswith("a named pipe (FIFO)")
    assert why[".git/"].startswith("a git repository's history")
    assert why["'bad\\x1bname.csv'"].startswith("a name with a control character")
    assert why["back\\slash.csv"].startswith("a name with a control character or a path separator")
    if device:
        assert why["null.dev"].startswith("a character device")
    assert course["secret"].read_text() == ROOT_TOKEN  # nothing touched what the links point to
    with pytest.raises(plainfiles.NotPlain, match="symbolic link"):  # a linked folder is not walked
        plainfiles.copy_tree(src / "course", tmp_path / "dst2")
    assert not (tmp_path / "dst2").exists()


def test_open_plain_refuses_without_opening(course, tmp_path):
    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "link").symlink_to(course["secret"])
    os.link(course["secret"], tmp_path / "hard")
    with no_hang():
        for name, words in (("pipe", "FIFO"), ("link", "symbolic link"), ("hard", "hard link")):
            with pytest.raises(plainfiles.NotPlain, match=words):
                plainfiles.open_plain(tmp_path / name)
        assert plainfiles.copy_file(tmp_path / "pipe", tmp_path / "out").startswith("a named pipe")
    assert not (tmp_path / "out").exists()
    # a link planted where the copy goes is replaced, never written through
    (tmp_path / "plain.txt").write_text("student data")
    (tmp_path / "target").symlink_to(course["secret"])
    assert plainfiles.copy_file(tmp_path / "plain.txt", tmp_path / "target") is None
    assert (tmp_path / "target").read_text() == "student data" and not (tmp_path / "target").is_symlink()
    assert course["secret"].read_text() == ROOT_TOKEN
    for bad in ("..", ".", "a/b", "a\\b", "tab\there", "bell\x07", "c1\x85"):
        assert plainfiles.name_problem(bad), bad
    assert plainfiles.name_problem("山田 my_data (1).csv") is None


# --------------------------------------------------------------------------- collect


def test_collect_folder_of_hostile_handins(course, tmp_path, capsys):
    root, secret = course["root"], course["secret"]
    h = tmp_path / "handins"
    _notebook(h / f"s1__{NAME}.ipynb")
    (h / f"s1__{NAME}__data.csv").symlink_to(secret)  # a root-only file
    (h / f"s1__{NAME}__grades.db").symlink_to(course["gradebook"])  # the gradebook
    (h / f"s1__{NAME}__friend.txt").symlink_to(course["victim"])  # another student's hand-in
    (h / f"s1__{NAME}__ok.csv").write_text("x\n1\n")
    (h / f"s2__{NAME}.ipynb").symlink_to(course["source"])  # a symlinked notebook: the solutions
    (h / "s3").symlink_to(course["source"].parent, target_is_directory=True)  # a symlinked folder
    _notebook(h / f"s4__{NAME}.ipynb")
    os.link(secret, h / f"s4__{NAME}__hard.csv")  # a hard link
    _notebook(h / f"s5__{NAME}.ipynb")
    os.mkfifo(h / f"s5__{NAME}__pipe.csv")  # a FIFO
    _notebook(h / f"s6__{NAME}.ipynb")
    device = _device(h / f"s6__{NAME}__disk.img")  # a device node
    _notebook(h / f"s7__{NAME}.ipynb")
    (h / f"s7__{NAME}__bad\x1b[2Jname.csv").write_text("terminal escape")
    (h / f"s7__{NAME}__..").write_text("dot dot")  # its name in submitted/ would be ".."
    _notebook(h / "s8" / f"{NAME}.ipynb")  # a student folder that is a git repository
    (h / "s8" / "data.csv").write_text("y\n2\n")
    (h / "s8" / "link.csv").symlink_to(secret)
    (h / "s8" / ".git" / "hooks").mkdir(parents=True)
    (h / "s8" / ".git" / "config").write_text("[core]")
    with tarfile.open(h / "s9.tar.gz", "w:gz") as tar:
        tar.add(secret, arcname=f"s9__{NAME}.ipynb")
    # a link planted in submitted/ earlier: replaced, and what it points to left alone
    victim_folder = tmp_path / "elsewhere" / NAME
    victim_folder.mkdir(parents=True)
    (victim_folder / "keep.txt").write_text("keep me")
    (root / "submitted" / "s1").symlink_to(tmp_path / "elsewhere", target_is_directory=True)

    with no_hang(60):
        errors = collect(h, None, root)
    out = capsys.readouterr().out
    submitted = root / "submitted"
    collected = sorted(str(p.relative_to(submitted)) for p in submitted.rglob("*") if p.is_file())
    names = {
        s: sorted(p.name for p in (submitted / s / NAME).iterdir())
        for s in ("s1", "s4", "s5", "s6", "s7", "s8")
    }
    assert names["s1"] == [f"{NAME}.ipynb", "ok.csv", "timestamp.txt"], collected
    for s in ("s4", "s5", "s6", "s7"):
        assert names[s] == [f"{NAME}.ipynb", "timestamp.txt"], (s, collected)
    assert names["s8"] == ["data.csv", f"{NAME}.ipynb", "timestamp.txt"]
    assert not (submitted / "s2").exists() and not (submitted / "s3").exists()
    assert not _links_or_specials(submitted)
    assert not any(t in _texts(submitted / s) for s in names for t in TOKENS)
    assert (victim_folder / "keep.txt").read_text() == "keep me" and not (submitted / "s1").is_symlink()
    assert secret.read_text() == ROOT_TOKEN

    def said(*words: str) -> bool:
        return any(all(w in e for w in words) for e in errors)

    assert said(f"s1__{NAME}__data.csv", "not collected", f"a symbolic link to {secret}"), errors
    assert said(f"s1__{NAME}__grades.db", "symbolic link", "gradebook.db")
    assert said(f"s1__{NAME}__friend.txt", "symbolic link", "submitted/victim")
    assert said(f"s2__{NAME}.ipynb", "symbolic link", f"assignments/{NAME}/{NAME}.ipynb")
    assert said("s3", "symbolic link", f"assignments/{NAME}")
    assert said(f"s4__{NAME}__hard.csv", "a hard link")
    assert said(f"s5__{NAME}__pipe.csv", "a named pipe (FIFO)")
    assert not device or said(f"s6__{NAME}__disk.img", "a character device")
    assert said(f"s7__{NAME}__bad\\x1b[2Jname.csv", "control character")  # escaped, not sent to the terminal
    assert said(f"s7__{NAME}__..", "path trick")
    assert said("s8/link.csv", "symbolic link")
    assert said("s9.tar.gz", "tar archive", "zip")
    assert "s8/.git/: a git repository's history" in out and "\x1b" not in "".join(errors)


def test_tarball_is_refused_with_what_to_do(course, tmp_path):
    for name in ("handins.tar.gz", "handins.tar", "disguised.zip.bin"):
        archive = tmp_path / name
        with tarfile.open(archive, "w") as tar:
            info = tarfile.TarInfo(f"s1__{NAME}.ipynb")
            info.type, info.linkname = tarfile.SYMTYPE, str(course["secret"])
            tar.addfile(info)
        errors = collect(archive, NAME, course["root"])
        assert len(errors) == 1 and "tar archive" in errors[0] and "hand in a .zip" in errors[0], errors
    assert not (course["root"] / "submitted" / "s1").exists()


def test_zip_with_links_dotdot_and_control_characters(course, tmp_path):
    archive = tmp_path / "moodle.zip"
    link = zipfile.ZipInfo("Jane Doe_77_assignsubmission_file_/data.csv", (2025, 6, 1, 12, 0, 0))
    link.external_attr = (stat.S_IFLNK | 0o777) << 16  # a symbolic link stored in the zip
    folder_link = zipfile.ZipInfo("Jane Doe_77_assignsubmission_file_/course", (2025, 6, 1, 12, 0, 0))
    folder_link.external_attr = (stat.S_IFLNK | 0o777) << 16
    nb = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]))
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Jane Doe_77_assignsubmission_file_/matmul_timing.ipynb", nb)
        zf.writestr(link, str(course["secret"]))
        zf.writestr(folder_link, str(course["root"]))
        zf.writestr("Jane Doe_77_assignsubmission_file_/ok.csv", "x\n1\n")
        zf.writestr("../../course/submitted/victim/matmul_timing/matmul_timing.ipynb", "overwritten")
        zf.writestr("Jane Doe_78_assignsubmission_file_/bad\x1bname.ipynb", nb)
        zf.writestr("Jane Doe_79_assignsubmission_file_\\..\\..\\evil.ipynb", nb)
    with no_hang():
        errors = collect(archive, NAME, course["root"])
    target = course["root"] / "submitted" / "77" / NAME
    assert sorted(p.name for p in target.iterdir()) == [f"{NAME}.ipynb", "ok.csv", "timestamp.txt"]
    assert not any(t in _texts(course["root"] / "submitted" / "77") for t in TOKENS)
    assert VICTIM_TOKEN in course["victim"].read_text()  # not overwritten through ..
    assert not (course["root"] / "submitted" / "78").exists()
    assert sum("refused (a symbolic link in the zip" in e for e in errors) == 2, errors
    assert sum("refused (absolute path, '..' or a control character)" in e for e in errors) == 3, errors


# ------------------------------------------------------------------ before nbgrader's copy


def test_clean_submitted_refuses_links_and_removes_the_rest(course, tmp_path):
    root, secret = course["root"], course["secret"]
    sub = root / "submitted"
    (sub / "nblink" / NAME).mkdir(parents=True)
    (sub / "nblink" / NAME / f"{NAME}.ipynb").symlink_to(course["source"])  # the solutions
    (sub / "dirlink").symlink_to(sub / "victim", target_is_directory=True)  # another student's folder
    (sub / "assignlink").mkdir()
    (sub / "assignlink" / NAME).symlink_to(sub / "victim" / NAME, target_is_directory=True)
    (sub / "hardnb" / NAME).mkdir(parents=True)
    os.link(course["source"], sub / "hardnb" / NAME / f"{NAME}.ipynb")
    (sub / "pipenb" / NAME).mkdir(parents=True)
    os.mkfifo(sub / "pipenb" / NAME / f"{NAME}.ipynb")
    data = sub / "data" / NAME
    _notebook(data / f"{NAME}.ipynb")
    (data / "timestamp.txt").write_text("2025-06-01 10:00:00.000000 UTC")
    (data / "ok.csv").write_text("x\n1\n")
    (data / "secret.txt").symlink_to(secret)
    (data / "gradebook.db").symlink_to(course["gradebook"])
    (data / "course").symlink_to(root, target_is_directory=True)
    os.link(secret, data / "hard.txt")
    os.mkfifo(data / "pipe")
    (data / "nested").mkdir()
    (data / "nested" / "friend.ipynb").symlink_to(course["victim"])
    (data / ".git").mkdir()
    (data / ".git" / "HEAD").write_text("ref: refs/heads/main")
    device = _device(data / "null.dev")

    with no_hang():
        students = ("nblink", "dirlink", "assignlink", "hardnb", "pipenb", "data", "victim")
        results = {s: clean_submitted(root, s, NAME) for s in students}
    reason = {s: r for s, (r, _) in results.items()}
    assert reason["nblink"].startswith(
        f"submitted/nblink/{NAME}/{NAME}.ipynb is a symbolic link to {course['source']}: not followed"
    )
    assert reason["dirlink"].startswith(f"submitted/dirlink is a symbolic link to {sub / 'victim'}")
    assert reason["assignlink"].startswith(f"submitted/assignlink/{NAME} is a symbolic link")
    assert reason["hardnb"].startswith(f"submitted/hardnb/{NAME}/{NAME}.ipynb is a hard link")
    assert reason["pipenb"].startswith(f"submitted/pipenb/{NAME}/{NAME}.ipynb is a named pipe (FIFO)")
    assert all("coursekit collect" in reason[s] for s in ("nblink", "dirlink", "hardnb"))
    assert reason["data"] is None and results["data"][1][0].startswith("removed before grading")
    assert results["victim"] == (None, [])
    (note,) = results["data"][1]
    for name in (
        "secret.txt (a symbolic link to",
        "gradebook.db (a symbolic link",
        "course (a symbolic link",
        "hard.txt (a hard link",
        "pipe (a named pipe",
        "nested/friend.ipynb (a symbolic link",
        ".git/ (a git repository",
    ):
        assert name in note, (name, note)
    assert not device or "null.dev (a character device" in note
    assert sorted(p.name for p in data.iterdir()) == [f"{NAME}.ipynb", "nested", "ok.csv", "timestamp.txt"]
    # what the links pointed to is untouched
    assert secret.read_text() == ROOT_TOKEN and course["root"].is_dir() and course["victim"].is_file()
    assert os.lstat(secret).st_nlink == 1  # only the hand-in's extra name of it was removed


# ---------------------------------------------------------------- nbgrader's exchange collect


def test_nbgrader_collect_from_the_exchange_copies_plain_files_only(make_course, tmp_path):
    root = make_course([])
    secret = tmp_path / "secret.txt"
    secret.write_text(ROOT_TOKEN)
    secret.chmod(0o600)
    inbound = root / "exchange" / "deep-learning-lab" / "inbound"
    stamp = "2025-06-01 10:00:00.000000 UTC"
    good = inbound / f"good+{NAME}+{stamp}+abc123"
    _notebook(good / f"{NAME}.ipynb")
    (good / "timestamp.txt").write_text(stamp)
    (good / "data.csv").write_text("x\n1\n")
    (good / "secret.csv").symlink_to(secret)
    (good / "source.ipynb").symlink_to(root / "assignments" / NAME / f"{NAME}.ipynb")
    (good / "course").symlink_to(root, target_is_directory=True)
    os.link(secret, good / "hard.csv")
    os.mkfifo(good / "pipe.csv")
    (good / ".git").mkdir()
    (good / ".git" / "config").write_text("[core]")
    linked = inbound / f"linked+{NAME}+{stamp}+def456"
    linked.symlink_to(root / "assignments" / NAME, target_is_directory=True)
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}")
    result = subprocess.run(
        [str(bin_dir / "nbgrader"), "collect", NAME],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log
    got = root / "submitted" / "good" / NAME
    assert sorted(p.name for p in got.iterdir()) == ["data.csv", f"{NAME}.ipynb", "timestamp.txt"], log
    assert not _links_or_specials(root / "submitted")
    assert ROOT_TOKEN not in _texts(root / "submitted")
    assert not (root / "submitted" / "linked" / NAME / f"{NAME}.ipynb").exists()
    for words in (
        "secret.csv (a symbolic link to",
        "source.ipynb (a symbolic link",
        "course (a symbolic link",
        "hard.csv (a hard link",
        "pipe.csv (a named pipe",
        ".git/ (a git repository",
        f"Not collected: the submission linked+{NAME}",
    ):
        assert words in log, (words, log)


# ------------------------------------------------------------------------- a grading run


SPY = """
import os
names = sorted(n for n in os.listdir(".") if not n.startswith("."))  # the kernel's own .ipython aside
print("SPY-LISTING", names)
for name in names:
    try:
        print("SPY", name, open(name, "rb").read(4000).decode("utf-8", "replace"))
    except Exception as err:
        print("SPY", name, type(err).__name__)
"""


@pytest.mark.slow
def test_grading_never_reads_through_a_link(make_course, tmp_path):
    """Hand-ins left in submitted/ with links (as `cp -r` or an exchange leaves them) are graded
    on plain files only: a linked notebook or folder is "not graded" with the link named."""
    env = dict(os.environ, COURSE_GRADING_TIMEOUT="20", COURSE_DATA_DIR="/tmp/nodata")
    root = make_course([NAME], env=env)
    secret = tmp_path / "secret.txt"
    secret.write_text(ROOT_TOKEN)
    secret.chmod(0o600)
    release = nbformat.read(root / "release" / NAME / f"{NAME}.ipynb", as_version=4)
    sub = root / "submitted"

    def handin(student: str, first_answer: str) -> Path:
        nb = nbformat.from_dict(release)
        cell = next(
            c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"
        )
        cell.source = first_answer
        path = sub / student / NAME / f"{NAME}.ipynb"
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
        return path

    victim = handin("victim", f"# {VICTIM_TOKEN}")
    thief = handin("thief", SPY).parent
    (thief / "secret.txt").symlink_to(secret)
    (thief / "gradebook.db").symlink_to(root / "gradebook.db")
    (thief / "friend.txt").symlink_to(victim)
    (thief / "source.txt").symlink_to(root / "assignments" / NAME / f"{NAME}.ipynb")
    (thief / "course").symlink_to(root, target_is_directory=True)
    os.link(secret, thief / "hard.txt")
    os.mkfifo(thief / "pipe.csv")
    (thief / "data.csv").write_text("x\n1\n")
    (sub / "nblink" / NAME).mkdir(parents=True)
    (sub / "nblink" / NAME / f"{NAME}.ipynb").symlink_to(root / "assignments" / NAME / f"{NAME}.ipynb")
    (sub / "dirlink").symlink_to(sub / "victim", target_is_directory=True)
    (sub / "assignlink").mkdir()
    (sub / "assignlink" / NAME).symlink_to(sub / "victim" / NAME, target_is_directory=True)
    (sub / "hardnb" / NAME).mkdir(parents=True)
    os.link(root / "solutions" / f"{NAME}.ipynb", sub / "hardnb" / NAME / f"{NAME}.ipynb")

    graded = kit(root, "grade", NAME, "--no-canary", env=env, timeout=900)
    with open(root / "grading_report.csv", newline="") as f:
        report = {r["student_id"]: r for r in csv.DictReader(f)}
    print(graded.stdout[-4000:], graded.stderr[-2000:])
    assert set(report) == {"victim", "thief", "nblink", "dirlink", "assignlink", "hardnb"}, report
    assert report["victim"]["status"] == "graded", report["victim"]
    assert report["thief"]["status"] == "graded", report["thief"]
    for name in (
        "secret.txt (a symbolic link to",
        "gradebook.db (a symbolic link",
        "friend.txt (a symbolic",
        "source.txt (a symbolic",
        "course (a symbolic",
        "hard.txt (a hard link",
        "pipe.csv (a named",
    ):
        assert name in report["thief"]["notes"], (name, report["thief"]["notes"])
    expected = {
        "nblink": f"submitted/nblink/{NAME}/{NAME}.ipynb is a symbolic link",
        "dirlink": "submitted/dirlink is a symbolic link",
        "assignlink": f"submitted/assignlink/{NAME} is a symbolic link",
        "hardnb": f"submitted/hardnb/{NAME}/{NAME}.ipynb is a hard link",
    }
    for student, words in expected.items():
        row = report[student]
        assert row["status"] == "not graded" and row["reason"].startswith(words), row
        assert row["score"] == "", row
    # the spy ran, and saw only the plain data file
    spied = nbformat.read(root / "autograded" / "thief" / NAME / f"{NAME}.ipynb", as_version=4)
    shown = "".join(
        o.get("text", "") for c in spied.cells if c.cell_type == "code" for o in c.get("outputs", [])
    )
    assert "SPY-LISTING ['data.csv']" in shown, shown[:2000]
    for token in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "SQLite format 3", VICTIM_TOKEN, ROOT_TOKEN):
        assert token not in shown, token  # the source notebook, the gradebook, the victim, root's file
    everything = "\n".join(_texts(root / d) for d in ("autograded", "feedback", "grading_logs"))
    assert ROOT_TOKEN not in everything and "BEGIN SOLUTION" not in everything
    assert "BEGIN HIDDEN TESTS" not in _texts(root / "feedback")  # (autograded/ has them: nbgrader's copy)
    assert VICTIM_TOKEN not in _texts(root / "autograded" / "thief") + _texts(root / "feedback" / "thief")
    assert not (root / "autograded" / "nblink").exists() and not (root / "autograded" / "hardnb").exists()
    assert secret.read_text() == ROOT_TOKEN


LAUNCHER = """import pathlib, sys
pathlib.Path("HIJACKED").write_text("the hand-in's file ran as the kernel")
print("-".join(["HIJACKED", "KERNEL"]))  # the joined word appears only if this runs
sys.exit(0)
"""


@pytest.mark.parametrize("warm", ["false", "true"])
def test_a_handin_file_cannot_replace_the_kernel(make_course, perfect_handin, warm):
    """A hand-in carrying ``ipykernel_launcher.py`` (and ``ipykernel/``), which a kernel started
    in the hand-in's folder would import instead of its own, is data: the kernel starts as
    always, the file never runs, and the perfect answers keep full marks (cold and warm kernels)."""
    from coursekit.grade import jail

    if jail.available() is not None:
        pytest.skip(f"no jail here: {jail.available()}")
    env = dict(os.environ, COURSE_GRADING_TIMEOUT="60", COURSE_DATA_DIR="/tmp/nodata")
    root = make_course([NAME], env=env)
    toml = root / "course.toml"
    setting = f"grading = {{ cell_timeout_s = 60, warm_kernels = {warm} }}"
    toml.write_text(toml.read_text().replace("grading = { cell_timeout_s = 60 }", setting))
    for student in ("plain", "hijack"):  # the same answers, without and with the files
        (root / "submitted" / student / NAME).mkdir(parents=True)
        nbformat.write(perfect_handin(root, NAME), root / "submitted" / student / NAME / f"{NAME}.ipynb")
    folder = root / "submitted" / "hijack" / NAME
    (folder / "ipykernel_launcher.py").write_text(LAUNCHER)
    (folder / "ipykernel").mkdir()
    (folder / "ipykernel" / "__init__.py").write_text(LAUNCHER)
    graded = kit(root, "grade", NAME, "--no-canary", env=env, timeout=900)
    with open(root / "grading_report.csv", newline="") as f:
        report = {r["student_id"]: r for r in csv.DictReader(f)}
    row = report["hijack"]
    assert row["status"] == "graded", (row, graded.stdout[-3000:], graded.stderr[-3000:])
    assert ("warm kernel" in row["notes"]) == (warm == "true"), row["notes"]
    assert float(row["score"]) == float(report["plain"]["score"]) > 0, report
    everything = _texts(root / "autograded") + _texts(root / "grading_logs")
    assert "HIJACKED-KERNEL" not in everything
    assert not list((root / "autograded").rglob("HIJACKED"))
