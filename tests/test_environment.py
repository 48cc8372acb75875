"""The environment: pins agree, the package is light, both frameworks share one process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib

from tests.helpers import ROOT


def _pins_from_requirements() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            pins[name.lower()] = version
    return pins


def _pins_from_environment_yml() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        m = re.match(r"^\s*-\s*([A-Za-z0-9_.\-]+)\s*==?\s*([0-9][^\s#]*)", line)
        if m and m.group(1).lower() != "python":
            pins[m.group(1).lower()] = m.group(2)
    return pins


def test_environment_yml_matches_requirements():
    req, env = _pins_from_requirements(), _pins_from_environment_yml()
    assert req, "requirements.txt has no pins"
    drift = {k: (req.get(k), env.get(k)) for k in set(req) | set(env) if req.get(k) != env.get(k)}
    assert not drift, f"requirements.txt and environment.yml disagree (name: (req, yml)): {drift}"


def test_installed_versions_are_the_pins():
    """What ``make setup`` installed is what requirements.txt pins (an upgrade by another package's
    install, or a pin edited without ``make setup``, is caught here, not in a slower test)."""
    from importlib.metadata import PackageNotFoundError, version

    wrong = {}
    for name, pin in _pins_from_requirements().items():
        try:
            installed = version(name)
        except PackageNotFoundError:
            installed = None
        if installed != pin:
            wrong[name] = (pin, installed)
    assert not wrong, f"pinned, installed (run `make setup`): {wrong}"


def test_core_install_pulls_no_framework():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project, student = meta["project"], meta["tool"]["coursekit"]["student-package"]
    for deps in (project["dependencies"], student["dependencies"]):
        core = " ".join(deps).lower()
        for heavy in ("torch", "tensorflow", "keras"):
            assert heavy not in core, f"{heavy} must stay an extra: Colab has it preinstalled"
    assert {"torch", "keras", "postgres", "dev"} <= set(project["optional-dependencies"])
    # torch / keras for a local install; torchinfo for the PyTorch notebooks' install cell on Colab
    assert {"torch", "keras", "torchinfo"} == set(student["optional-dependencies"])
    # what students install is part of what the master installs (one set of version ranges)
    assert set(student["dependencies"]) <= set(project["dependencies"])
    assert student["optional-dependencies"]["torch"] == project["optional-dependencies"]["torch"]
    assert student["optional-dependencies"]["keras"] == project["optional-dependencies"]["keras"]


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"},
    )


def test_import_course_utils_imports_no_framework():
    result = _python(
        "import sys, course_utils, course_utils.viz, course_utils.timing, course_utils.models;"
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_tensorflow_then_torch_then_adam_in_one_process():
    # With triton installed this order segfaults (triton/knobs.py); setup removes triton.
    result = _python(
        "import tensorflow, torch\n"
        "m = torch.nn.Linear(3, 2); opt = torch.optim.Adam(m.parameters())\n"
        "m(torch.ones(4, 3)).sum().backward(); opt.step(); print('ok')"
    )
    assert result.returncode == 0, f"exit {result.returncode}: {result.stderr[-2000:]}"
    assert result.stdout.strip().endswith("ok")


def test_nbformat_imports_without_building_a_grammar_and_still_validates():
    # make setup uninstalls rfc3987-syntax: its import builds a parser, and `import nbformat` takes
    # 3.0 s with it, 0.3 s without (README, "Both frameworks in one kernel")
    result = _python(
        "import importlib.util, sys, nbformat\n"
        "print(importlib.util.find_spec('rfc3987_syntax') is None, 'rfc3987_syntax' in sys.modules)\n"
        "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1')])\n"
        "nbformat.validate(nb)\n"
        "nb.cells[0]['outputs'] = 'not a list'\n"
        "try:\n    nbformat.validate(nb)\nexcept nbformat.ValidationError:\n    print('refused')"
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "False", "refused"], result.stdout


def test_layout():
    for name in (
        "notebooks",
        "assignments",
        "solutions",
        "course_utils",
        "environment.yml",
        "README.md",
        "nbgrader_config.py",
        "pyproject.toml",
        "Makefile",
        "tests",
        "benchmarks",
        ".ci/run",
    ):
        assert (ROOT / name).exists(), f"missing top-level {name}"
    readme = (ROOT / "README.md").read_text()
    assert "make course" in readme and "make test" in readme
