"""Colab's runtime as a target: its published package list, the install cell, and a stand-in.

Colab publishes the packages of its runtime in github.com/googlecolab/backend-info
(``pip-freeze.txt``, ``os-info.txt``). ``colab/pip-freeze.txt`` keeps a copy, headed with its
source, commit, date and Python version; ``coursekit colab refresh`` replaces it.

* :func:`install_code` is the first code cell of every notebook: on Colab it installs
  course_utils from the students' repository (``public_repo`` at ``branch``) and changes nothing
  Colab pins. Sources say where it goes with a line ``# {{install}}``.
* :func:`build_standin` makes a virtual environment with the packages the course touches at
  Colab's versions and a kernel named ``colab`` in which ``google.colab`` is imported, as on
  Colab (``coursekit colab standin``; CI's Colab job and ``tests/colab`` run in it).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from coursekit.config import Course
from coursekit.errors import CourseError

FREEZE = Path("colab") / "pip-freeze.txt"
SOURCE_REPO = "googlecolab/backend-info"
PACKAGE = "course-utils"  # the students' distribution (pyproject.toml [tool.coursekit.student-package])
# What a track's notebooks import that Colab does not ship, installed by their first cell
# (extras of the students' package).
TRACK_EXTRAS = {"pytorch": ("torchinfo",)}
# The packages google-colab itself pins (googlecolab/colabtools, setup.py): the stand-in's
# google-colab pins them at the versions of Colab's list, so pip sees the same conflicts as on Colab.
COLABTOOLS_PINS = (
    "google-auth",
    "ipykernel",
    "ipyparallel",
    "ipython",
    "notebook",
    "pandas",
    "portpicker",
    "requests",
    "tornado",
)
# The packages the course touches (imports, runs its kernel with, tests with), at Colab's versions;
# pydantic: the tests run their kernels through coursekit.execute, which reads coursekit's configuration.
STANDIN_PACKAGES = (
    "pip",
    "ipython",
    "ipykernel",
    "jupyter-client",
    "traitlets",
    "ipywidgets",
    "numpy",
    "pandas",
    "matplotlib",
    "pillow",
    "scipy",
    "tensorflow",
    "keras",
    "torchsummary",
    "requests",
    "pytest",
    "pydantic",
)
# Colab's torch is a CPU wheel of download.pytorch.org, which this project cannot install; the
# stand-in takes the project's torch and torchvision (requirements.txt), with what that torch
# requires at its own versions: its CUDA libraries and setuptools>=77 (Colab has 75.2).
SUBSTITUTED = re.compile(r"^(torch|torchvision|torchaudio|torchcodec|triton|setuptools|nvidia-.*|cuda-.*)$")
KERNEL = "colab"


def canonical(name: str) -> str:
    """A distribution name as pip compares them (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass(frozen=True)
class Runtime:
    """Colab's published runtime: ``{canonical name: version}`` and where it was read."""

    packages: dict[str, str]
    python: str
    source: str
    date: str

    def version(self, name: str) -> str | None:
        return self.packages.get(canonical(name))


def _version_of(spec: str) -> str:
    """The version in a ``name @ URL`` line (a wheel's or sdist's file name); "" for a git URL."""
    if spec.startswith("git+"):
        return ""
    filename = urllib.parse.unquote(spec.rsplit("/", 1)[-1]).split("#")[0]
    stem = re.sub(r"(\.tar\.gz|\.zip|\.whl)$", "", filename)
    parts = stem.split("-")
    return parts[1] if len(parts) > 1 else ""


def parse_freeze(text: str) -> dict[str, str]:
    """``{canonical name: version}`` of a ``pip freeze`` listing (``==`` and ``@`` lines)."""
    packages = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-")):
            continue
        if " @ " in line:
            name, spec = line.split(" @ ", 1)
            packages[canonical(name)] = _version_of(spec.strip())
        elif "==" in line:
            name, version = line.split("==", 1)
            packages[canonical(name)] = version.strip()
    return packages


def read_runtime(root: Path) -> Runtime:
    """Colab's runtime as ``colab/pip-freeze.txt`` of the course at ``root`` records it."""
    path = root / FREEZE
    if not path.exists():
        raise CourseError(f"{path} is missing: run `coursekit colab refresh` to fetch Colab's package list.")
    text = path.read_text(encoding="utf-8")
    header = dict(re.findall(r"^# (source|date|python): (.+)$", text, flags=re.M))
    return Runtime(
        parse_freeze(text),
        python=header.get("python", ""),
        source=header.get("source", ""),
        date=header.get("date", ""),
    )


def refresh(root: Path, source: str | None = None) -> list[str]:
    """Write ``colab/pip-freeze.txt`` from a backend-info checkout (folder) or, by default, GitHub."""
    if source and Path(source).is_dir():  # a clone of backend-info, with or without a work tree
        gitdir = Path(source) / ".git" if (Path(source) / ".git").exists() else Path(source)
        git = ["git", f"--git-dir={gitdir}"]

        def read(name: str) -> str:
            if (Path(source) / name).exists():
                return (Path(source) / name).read_text(encoding="utf-8")
            shown = subprocess.run([*git, "show", f"HEAD:{name}"], capture_output=True, text=True)
            if shown.returncode:
                raise CourseError(f"{source} has no {name}: name a clone of github.com/{SOURCE_REPO}")
            return shown.stdout

        freeze, os_info = read("pip-freeze.txt"), read("os-info.txt")
        log = subprocess.run(
            [*git, "log", "-1", "--format=%H %cs", "--", "pip-freeze.txt"], capture_output=True, text=True
        )
        commit, _, day = (log.stdout.strip() or f"unknown {date.today()}").partition(" ")
    else:
        base = source or f"https://raw.githubusercontent.com/{SOURCE_REPO}/main"
        try:
            freeze, os_info = (
                urllib.request.urlopen(f"{base}/{name}", timeout=30).read().decode()
                for name in ("pip-freeze.txt", "os-info.txt")
            )
        except OSError as err:
            return [
                f"could not read Colab's package list from {base} ({err}); without internet, "
                f"clone github.com/{SOURCE_REPO} elsewhere and run `coursekit colab refresh FOLDER`"
            ]
        commit, day = "main", f"{date.today()} (retrieved)"
    python = re.search(r"^Python (\S+)", os_info, flags=re.M)
    header = [
        "# Colab's runtime (CPU), as Google publishes it; `coursekit colab refresh` rewrites this file.",
        f"# source: https://github.com/{SOURCE_REPO}/blob/{commit}/pip-freeze.txt",
        f"# date: {day}",
        f"# python: {python.group(1) if python else 'unknown'}",
        "# --- the published pip-freeze.txt follows, unchanged ---",
    ]
    path = root / FREEZE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(header) + "\n" + freeze, encoding="utf-8")
    runtime = read_runtime(root)
    print(f"wrote {FREEZE}: {len(runtime.packages)} packages, Python {runtime.python}, {runtime.date}")
    return []


# ------------------------------------------------------------------ the install cell

INSTALL = """\
import importlib.util
import subprocess
import sys

# On Colab: install the course helpers (course_utils) once per runtime. Elsewhere: nothing to do.
if "google.colab" in sys.modules:
    if all(importlib.util.find_spec(module) for module in {modules}):
        print("course_utils is installed already.")
    else:
        PACKAGE = "{requirement}"
        pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", PACKAGE],
                             capture_output=True, text=True)
        if pip.returncode:
            raise RuntimeError(pip.stderr[-1500:] + "\\nCould not install the course helpers "
                               "(pip's last lines above). Is this runtime online? Reconnect it "
                               "(Runtime > Disconnect and delete runtime), then run this cell again.")
        importlib.invalidate_caches()
        print("Installed course_utils from github.com/{repo} (branch {branch}).")"""


def requirement(course: Course, track: str | None) -> str:
    """What the install cell gives pip: the students' package at ``branch``, with the track's extras."""
    extras = TRACK_EXTRAS.get(track or "", ())
    name = f"{PACKAGE}[{','.join(extras)}]" if extras else PACKAGE
    return f"{name} @ {course.install_url}"


def install_code(course: Course, track: str | None) -> str:
    """The install cell's code for a notebook of ``track`` (``None``: an assignment without tracks)."""
    modules = ["course_utils", *TRACK_EXTRAS.get(track or "", ())]
    return INSTALL.format(
        requirement=requirement(course, track),
        repo=course.public_repo,
        branch=course.branch,
        modules=json.dumps(modules),
    )


# ------------------------------------------------------------------ the stand-in


def _pinned(root: Path, name: str) -> str:
    """``name==version`` as requirements.txt pins it."""
    for line in (root / "requirements.txt").read_text().splitlines():
        if canonical(line.split("==")[0].strip()) == canonical(name):
            return line.split("#")[0].strip()
    raise CourseError(f"requirements.txt pins no {name}")


def _stub(folder: Path, runtime: Runtime) -> Path:
    """A ``google-colab`` distribution with google-colab's own pins and an empty ``google.colab``."""
    pins = [f"{name}=={runtime.version(name)}" for name in COLABTOOLS_PINS if runtime.version(name)]
    (folder / "google" / "colab").mkdir(parents=True, exist_ok=True)
    (folder / "google" / "colab" / "__init__.py").write_text(
        '"""Stand-in for Colab\'s google.colab: the course tests only that it is imported."""\n'
    )
    (folder / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "google-colab"\nversion = "{runtime.version("google-colab") or "1.0.0"}"\n'
        f"dependencies = {json.dumps(pins)}\n\n"
        '[tool.setuptools.packages.find]\ninclude = ["google*"]\nnamespaces = true\n'
    )
    return folder


def standin_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def stamp_of(root: Path) -> str:
    """What decides the stand-in: Colab's list, the project's torch pins, what it installs."""
    digest = hashlib.sha256((root / FREEZE).read_bytes())
    what = [
        _pinned(root, "torch"),
        _pinned(root, "torchvision"),
        *STANDIN_PACKAGES,
        *COLABTOOLS_PINS,
        SUBSTITUTED.pattern,
        KERNEL,
    ]
    digest.update(json.dumps(what).encode())
    return digest.hexdigest()[:16]


def build_standin(course: Course, venv: Path) -> list[str]:
    """A virtual environment that stands in for Colab's runtime (see the module's docstring)."""
    root = course.root
    runtime = read_runtime(root)
    venv = venv.resolve()
    stamp = venv / ".colab-standin"
    if stamp.exists() and stamp.read_text().strip() == stamp_of(root):
        print(f"the Colab stand-in in {venv} is up to date")
        return []
    shutil.rmtree(venv, ignore_errors=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = standin_python(venv)
    constraints = venv / "colab-constraints.txt"
    pins = sorted(runtime.packages.items())
    constraints.write_text(
        "".join(f"{name}=={version}\n" for name, version in pins if version and not SUBSTITUTED.match(name))
    )
    stub = _stub(venv / "google-colab-standin", runtime)
    wanted = [str(stub), *STANDIN_PACKAGES, _pinned(root, "torch"), _pinned(root, "torchvision")]
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "-c", str(constraints)]
    done = subprocess.run([*pip, *wanted])
    if done.returncode:
        return [f"pip could not build the Colab stand-in in {venv} (see pip's output above)"]
    # as in `make setup`: triton crashes a process that imported TensorFlow first; Colab's CPU torch has none
    subprocess.run([str(python), "-m", "pip", "uninstall", "-q", "-y", "triton"], capture_output=True)
    kernel = venv / "share" / "jupyter" / "kernels" / KERNEL
    kernel.mkdir(parents=True, exist_ok=True)
    launch = "import google.colab; from ipykernel import kernelapp; kernelapp.launch_new_instance()"
    (kernel / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [str(python), "-c", launch, "-f", "{connection_file}"],
                "display_name": "Colab stand-in",
                "language": "python",
            },
            indent=1,
        )
    )
    problems = differences(runtime, freeze(python))
    for line in problems:
        print(f"  differs from Colab: {line}")
    version = subprocess.run(
        [str(python), "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True
    ).stdout.strip()
    print(
        f"Colab stand-in in {venv}: Python {version} (Colab: {runtime.python}; the project's torch "
        f"wheels are built for this Python), Colab's list of {runtime.date}, kernel '{KERNEL}'"
    )
    stamp.write_text(stamp_of(root) + "\n")
    return []


def freeze(python: Path) -> dict[str, str]:
    """``{canonical name: version}`` of what ``python``'s environment has installed."""
    out = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {canonical(p["name"]): p["version"] for p in json.loads(out)}


def differences(runtime: Runtime, installed: dict[str, str]) -> list[str]:
    """Packages installed at another version than Colab's, but for the substituted torch family."""
    return [
        f"{name} {version} (Colab {runtime.packages[name]})"
        for name, version in sorted(installed.items())
        if name in runtime.packages
        and runtime.packages[name]
        and version != runtime.packages[name]
        and not SUBSTITUTED.match(name)
    ]


# ------------------------------------------------------------------ imports


def _guarded(handlers: list) -> bool:
    """True when a ``try`` catches a failed import (``ImportError``, its subclass, or broader)."""
    import ast

    names = set()
    for handler in handlers:
        if handler.type is None:
            return True
        for node in ast.walk(handler.type):
            if isinstance(node, ast.Name):
                names.add(node.id)
    return bool(names & {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"})


def imported_modules(nb) -> set[str]:
    """Top-level names of the modules a notebook's code cells need (IPython syntax understood).

    An import inside a ``try`` that catches its failure is optional (cupy where a GPU is) and
    not counted.
    """
    import ast

    from IPython.core.inputtransformer2 import TransformerManager

    modules: set[str] = set()

    def visit(node) -> None:
        if isinstance(node, ast.Try) and _guarded(node.handlers):
            for child in [*node.handlers, *node.orelse, *node.finalbody]:
                visit(child)
            return
        if isinstance(node, ast.Import):
            modules.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    for cell in nb.cells:
        if cell.cell_type == "code":
            visit(ast.parse(TransformerManager().transform_cell(cell.source)))
    return modules - set(sys.stdlib_module_names) - {"__future__"}


def installed_by(nb) -> set[str]:
    """The modules a notebook's install cell provides (its ``for module in [...]`` list)."""
    for cell in nb.cells:
        found = re.search(r"for module in (\[[^\]]*\])", cell.source) if cell.cell_type == "code" else None
        if found:
            return set(json.loads(found.group(1)))
    return set()


def missing_on_colab(nb, runtime: Runtime, provides: dict[str, list[str]] | None = None) -> list[str]:
    """The imports of ``nb`` that neither Colab ships nor its install cell installs.

    ``provides``: ``{module: [distribution, ...]}`` (default: this environment's
    ``importlib.metadata.packages_distributions()``), to find the distribution of a module.
    """
    from importlib.metadata import packages_distributions

    provides = provides if provides is not None else packages_distributions()
    missing = []
    for module in sorted(imported_modules(nb) - installed_by(nb)):
        dists = [canonical(d) for d in provides.get(module, [])] + [canonical(module)]
        if not any(d in runtime.packages for d in dists):
            shown = ", ".join(dists) or "no distribution known here"
            missing.append(
                f"{module} ({shown}) is not in Colab's list of {runtime.date} and the "
                "install cell does not install it: use what Colab ships, or add it to "
                "TRACK_EXTRAS in coursekit/colab.py and an extra of the students' package"
            )
    return missing
