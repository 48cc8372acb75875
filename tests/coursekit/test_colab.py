"""Colab's runtime as a target: its package list, the install cell, and the published course in a stand-in.

The stand-in (``coursekit colab standin``, ``.venv-colab``; ``make colab``) has the packages the
course touches at the versions of Colab's published list and a kernel ``colab`` that imports
``google.colab`` first, as Colab does. CI builds it and sets ``COURSE_REQUIRE_COLAB=1``: there a
missing stand-in fails these tests instead of skipping them. The published tree is a git
repository at course.toml's ``branch``, and the install cell runs exactly as the notebooks have
it, with only its GitHub address pointed at that repository.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import nbformat
import pytest

from coursekit import colab
from coursekit.config import Course
from tests.helpers import ROOT, autograded_scores, grade_batch, kit, perfect_submission, read, scratch_course

RUNTIME = colab.read_runtime(ROOT)
STANDIN = Path(os.environ.get("COURSE_COLAB_VENV", ROOT / ".venv-colab"))
PUBLISHED_NOTEBOOKS = sorted(p.relative_to(ROOT) for p in ROOT.glob("notebooks/*/[0-9][0-9]_*.ipynb"))
ASSIGNMENTS = Course.load(ROOT).notebook_names()
# what the install cells may add to Colab's runtime; nothing else may change
ADDED = {"course-utils", "torchinfo"}
# TensorFlow's start-up lines a student must not see (absl, oneDNN, CUDA probing, XLA)
TF_NOISE = (
    "oneDNN",
    "absl::",
    "cuda_",
    "Unable to register",
    "TF-TRT",
    "computation placer",
    "This TensorFlow binary is optimized",
    "E0000",
    "W0000",
    "I0000",
)


# ------------------------------------------------------------ the list, the cell, the imports


def test_colab_list_names_its_source_date_and_python():
    assert RUNTIME.source.startswith("https://github.com/googlecolab/backend-info/blob/")
    assert RUNTIME.date and RUNTIME.python.startswith("3.")
    for name in ("ipython", "ipywidgets", "numpy", "pandas", "matplotlib", "keras", "tensorflow", "torch"):
        assert RUNTIME.version(name), f"Colab's list has no {name}"
    assert RUNTIME.version("torch").endswith("+cpu")  # read from the wheel's address


def test_parse_freeze_reads_pins_and_addresses():
    text = (
        "# comment\nNumPy==2.1.3\ntorch @ https://x/cpu/torch-2.11.0%2Bcpu-cp313-cp313-linux.whl\n"
        "google-colab @ file:///colabtools/dist/google_colab-1.0.0.tar.gz\n"
        "kernel_gateway @ git+https://github.com/g/k@b13\n-e .\n"
    )
    assert colab.parse_freeze(text) == {
        "numpy": "2.1.3",
        "torch": "2.11.0+cpu",
        "google-colab": "1.0.0",
        "kernel-gateway": "",
    }


def test_students_package_accepts_colabs_versions():
    """Every dependency of course_utils is satisfied by the version Colab ships: pip changes nothing."""
    import tomllib

    from packaging.requirements import Requirement

    student = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["coursekit"]["student-package"]
    for line in [*student["dependencies"], *student["optional-dependencies"]["torchinfo"]]:
        req = Requirement(line)
        version = RUNTIME.version(req.name)
        if version:
            assert req.specifier.contains(version), f"{line} would replace Colab's {req.name} {version}"
        else:
            assert req.name in ADDED, f"{req.name} is not on Colab: the install cell would add it"


def test_install_cell_follows_course_toml(tmp_path):
    text = (
        (ROOT / "course.toml")
        .read_text()
        .replace('public_repo = "course-kit/dl-course"', 'public_repo = "uni/dl-2027"')
    )
    course = Course.from_text(text.replace('branch = "main"', 'branch = "spring"'), tmp_path)
    code = colab.install_code(course, "pytorch")
    assert "course-utils[torchinfo] @ git+https://github.com/uni/dl-2027@spring" in code
    assert "github.com/uni/dl-2027 (branch spring)" in code
    assert "torchinfo" not in colab.install_code(course, "keras")
    compile(code, "install cell", "exec")


RELEASED = [Path("assignments") / n / f"{n}.ipynb" for n in ASSIGNMENTS]


@pytest.mark.parametrize("path", [*PUBLISHED_NOTEBOOKS, *RELEASED], ids=str)
def test_every_import_resolves_on_colab(path):
    nb = read(ROOT / path)
    assert colab.installed_by(nb) >= {"course_utils"}, f"{path} has no install cell"
    assert colab.missing_on_colab(nb, RUNTIME) == []


def test_import_check_catches_what_colab_lacks():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import torchinfo\nimport sklearn\n"
                "try:\n    import cupy\nexcept ImportError:\n    cupy = None\n"
                "%matplotlib inline\nfrom made_up_package import thing"
            )
        ]
    )
    provides = {"sklearn": ["scikit-learn"], "torchinfo": ["torchinfo"]}
    missing = colab.missing_on_colab(nb, RUNTIME, provides)
    assert [m.split()[0] for m in missing] == ["made_up_package", "torchinfo"]  # cupy: optional
    nb.cells.insert(0, nbformat.v4.new_code_cell(colab.install_code(Course.load(ROOT), "pytorch")))
    assert [m.split()[0] for m in colab.missing_on_colab(nb, RUNTIME, provides)] == ["made_up_package"]


def test_lessons_that_train_ask_colab_for_a_gpu():
    """Decided from the lesson's source (either track calls ``pick_device()``), the same in both tracks."""
    gpu = {}
    for path in PUBLISHED_NOTEBOOKS:
        nb = read(ROOT / path)
        uses = any("pick_device()" in c.source for c in nb.cells)
        runtime = (nb.metadata["accelerator"], nb.metadata["colab"].get("gpuType"), uses)
        gpu.setdefault(path.name, set()).add(runtime)
    for name, seen in gpu.items():
        assert len({(a, g) for a, g, _ in seen}) == 1, f"{name}: the tracks ask for different runtimes"
        (accelerator, gpu_type), uses = next(iter({(a, g) for a, g, _ in seen})), any(u for *_, u in seen)
        assert (accelerator, gpu_type) == (("GPU", "T4") if uses else ("None", None)), name
    trains_cnns = {n for n in gpu if n[:2] in {"05", "06", "07", "08"}}
    assert all(next(iter(gpu[n]))[0] == "GPU" for n in trains_cnns) and len(trains_cnns) == 4


# ------------------------------------------------------------------ the stand-in


@pytest.fixture(scope="module")
def standin() -> Path:
    python = colab.standin_python(STANDIN)
    if not python.exists():
        message = f"no Colab stand-in in {STANDIN}: run `make colab` (coursekit colab standin)"
        if os.environ.get("COURSE_REQUIRE_COLAB"):
            pytest.fail(message)
        pytest.skip(message)
    return STANDIN


def run_in_colab(standin: Path, nb, cwd: Path, env: dict | None = None, timeout: int = 600):
    """Execute ``nb`` in the stand-in's ``colab`` kernel (google.colab imported first), in place."""
    from coursekit.execute import run_notebook

    # Colab's kernel has neither this test session's quiet TensorFlow nor its Agg backend
    base = {k: v for k, v in os.environ.items() if k not in {"TF_CPP_MIN_LOG_LEVEL", "MPLBACKEND"}}
    return run_notebook(
        nb,
        cwd,
        timeout,
        env={**base, **(env or {})},
        kernel=colab.KERNEL,
        kernel_dirs=[str(standin / "share" / "jupyter" / "kernels")],
    )


def outputs(nb, kind: str | None = None) -> list:
    return [o for c in nb.cells for o in c.get("outputs", []) if kind is None or o.get("output_type") == kind]


def text_of(nb, stream: str) -> str:
    return "".join(o.get("text", "") for o in outputs(nb, "stream") if o.get("name") == stream)


def test_standin_has_colabs_versions(standin):
    installed = colab.freeze(colab.standin_python(standin))
    assert colab.differences(RUNTIME, installed) == []
    for name in (
        "ipython",
        "ipykernel",
        "ipywidgets",
        "jupyter-client",
        "numpy",
        "pandas",
        "matplotlib",
        "keras",
        "tensorflow",
        "google-colab",
    ):
        assert installed.get(name) == RUNTIME.version(name), name


@pytest.mark.slow
def test_course_utils_tests_pass_on_colabs_versions(standin, data_dir):
    """The other end of course_utils' ranges: its own tests with Colab's IPython 7.34, numpy 2.1, ..."""
    pytest_cmd = [
        str(colab.standin_python(standin)),
        "-m",
        "pytest",
        "tests/course_utils",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    done = subprocess.run(pytest_cmd, cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-4000:]
    passed = re.search(r"(\d+) passed", done.stdout.splitlines()[-1])
    assert passed and int(passed.group(1)) >= 40, done.stdout[-2000:]
    print("course_utils' tests on the Colab stand-in:", done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def published(standin, tmp_path_factory) -> Path:
    """The students' repository as `coursekit publish` writes it, committed on course.toml's branch."""
    tmp = tmp_path_factory.mktemp("colab")
    root = scratch_course(tmp / "course")
    dest = tmp / "students"
    done = kit(root, "publish", str(dest), "--no-site")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    branch = Course.load(root).branch
    git = ["git", "-C", str(dest), "-c", "user.name=t", "-c", "user.email=t@t"]
    for args in (["init", "-q", "-b", branch], ["add", "-A"], ["commit", "-q", "-m", "published"]):
        subprocess.run([*git, *args], check=True)
    return dest


def install_cell(published: Path, notebook: str) -> nbformat.NotebookNode:
    """The install cell of a published notebook, its GitHub address pointed at ``published``."""
    nb = read(published / notebook)
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and "for module in" in c.source]
    course = Course.load(ROOT)
    assert f"git+https://github.com/{course.public_repo}@" in cell.source
    cell.source = cell.source.replace(f"https://github.com/{course.public_repo}", f"file://{published}")
    return nbformat.v4.new_notebook(cells=[cell])


def uninstall(standin: Path) -> None:
    subprocess.run(
        [str(colab.standin_python(standin)), "-m", "pip", "uninstall", "-q", "-y", *ADDED],
        capture_output=True,
    )


@pytest.fixture(scope="module")
def installed(standin, published, tmp_path_factory):
    """The install cells run as on Colab: offline first, then online, then again; pip list around them."""
    python = colab.standin_python(standin)
    content = tmp_path_factory.mktemp("content")  # Colab's working folder, /content: no course_utils in it
    uninstall(standin)
    before = colab.freeze(python)
    # offline: the unchanged cell, with every connection refused
    offline_nb = read(published / PUBLISHED_NOTEBOOKS[0])
    (cell,) = [c for c in offline_nb.cells if c.cell_type == "code" and "for module in" in c.source]
    refused = {
        "https_proxy": "http://127.0.0.1:9",
        "http_proxy": "http://127.0.0.1:9",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }
    offline = nbformat.v4.new_notebook(cells=[cell])
    with pytest.raises(Exception) as offline_error:
        run_in_colab(standin, offline, content, env=refused)
    seconds, runs = {}, {}
    keras, pytorch = "notebooks/keras/05_mnist.ipynb", "notebooks/pytorch/05_mnist.ipynb"
    for label, notebook in (("keras", keras), ("pytorch", pytorch), ("pytorch again", pytorch)):
        nb = install_cell(published, notebook)
        started = time.perf_counter()
        runs[label] = run_in_colab(standin, nb, content)
        seconds[label] = time.perf_counter() - started
    after = colab.freeze(python)
    report = ROOT / "_build" / "colab" / "install_cell_seconds.txt"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("".join(f"{k}: {v:.1f} s\n" for k, v in seconds.items()))
    print("install cell on the Colab stand-in:", ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items()))
    return {
        "before": before,
        "after": after,
        "offline": offline_error.value,
        "offline_nb": offline,
        "runs": runs,
        "seconds": seconds,
    }


def test_install_cell_changes_no_colab_pin(installed):
    before, after = installed["before"], installed["after"]
    changed = {n: (before[n], after.get(n)) for n in before if after.get(n) != before[n]}
    assert changed == {}, f"the install cells changed Colab's packages (name: before, after): {changed}"
    assert set(after) - set(before) == ADDED
    assert not (ADDED & set(RUNTIME.packages)), "an added package is one Colab already pins"


def test_install_cell_says_one_line_and_is_quiet(installed):
    runs = installed["runs"]
    for label, nb in runs.items():
        assert text_of(nb, "stderr") == "" and not outputs(nb, "error"), label
        lines = text_of(nb, "stdout").splitlines()
        assert len(lines) == 1, (label, lines)
    course = Course.load(ROOT)
    installed_line = f"Installed course_utils from github.com/{course.public_repo}"
    assert text_of(runs["keras"], "stdout").startswith(installed_line)
    assert f"(branch {course.branch})" in text_of(runs["keras"], "stdout")
    assert text_of(runs["pytorch"], "stdout").startswith("Installed")  # torchinfo was still missing
    assert text_of(runs["pytorch again"], "stdout") == "course_utils is installed already.\n"
    assert installed["seconds"]["pytorch again"] < installed["seconds"]["pytorch"]


def test_install_cell_offline_says_what_to_do(installed):
    error = outputs(installed["offline_nb"], "error")
    assert error, "the offline install raised no error in the notebook"
    assert "Could not install the course helpers" in error[0]["evalue"]
    assert "online" in error[0]["evalue"] and "run this cell again" in error[0]["evalue"]


@pytest.mark.slow
@pytest.mark.parametrize("notebook", PUBLISHED_NOTEBOOKS, ids=str)
def test_published_lesson_runs_on_colab(notebook, installed, published, standin, data_dir):
    nb = read(published / notebook)
    run_in_colab(standin, nb, (published / notebook).parent, env={"COURSE_FAST": "1"})
    assert not outputs(nb, "error")
    assert "is installed already" in text_of(nb, "stdout")
    stderr = text_of(nb, "stderr")
    noise = [line for line in stderr.splitlines() if any(word in line for word in TF_NOISE)]
    assert not noise, f"TensorFlow's log lines reach the student: {noise[:5]}"


@pytest.mark.slow
@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_released_assignment_setup_runs_on_colab(name, installed, published, standin, data_dir):
    """The cells of the student version up to the first answer: the setup every student runs first."""
    nb = read(published / "assignments" / name / f"{name}.ipynb")
    first = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution"))
    nb.cells = nb.cells[:first]
    run_in_colab(standin, nb, published / "assignments" / name, env={"COURSE_FAST": "1"})
    assert not outputs(nb, "error") and any(c.get("outputs") for c in nb.cells)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["fc_vs_conv_pytorch", "param_study_keras"])
def test_worked_solution_made_on_colab_grades_full(name, installed, published, standin, tmp_path, data_dir):
    """A student's notebook answered and run on Colab, downloaded, collected and graded: full marks."""
    release = published / "assignments" / name / f"{name}.ipynb"
    nb = perfect_submission(release, ROOT / "solutions" / f"{name}.ipynb")
    run_in_colab(standin, nb, published / "assignments" / name, env={"COURSE_FAST": "1"})
    assert not outputs(nb, "error")
    root = scratch_course(tmp_path / "course", [name])
    handins = tmp_path / "handins"
    handins.mkdir()
    nbformat.write(nb, handins / f"colabstudent__{name}.ipynb")
    collected = kit(root, "collect", str(handins))
    assert collected.returncode == 0, collected.stdout + collected.stderr
    graded = grade_batch(root, name)
    assert graded["grade"].returncode == 0, graded["grade"].stdout[-3000:] + graded["grade"].stderr[-3000:]
    assert graded["report"]["colabstudent"]["status"] == "graded", graded["report"]["colabstudent"]
    scores = autograded_scores(root, name, "colabstudent")
    assert scores, "nothing was autograded"
    lost = {cell: s for cell, s in scores.items() if s[0] != s[1]}
    assert not lost, f"the worked solution made on Colab lost points in {lost}"
