"""Where are we running? A notebook, fast mode (CI and nbgrader)."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path

# the values read as true and false (pydantic's set: the instructor's tools read switches alike)
_TRUE = {"1", "true", "yes", "on", "t", "y"}
_FALSE = {"0", "false", "no", "off", "f", "n"}


def in_notebook() -> bool:
    """True when running inside a Jupyter kernel (any front end, also nbclient).

    >>> in_notebook()   # in a plain script or pytest
    False
    """
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def fast_mode() -> bool:
    """True when notebooks should shrink data and epochs.

    Set by ``COURSE_FAST=1`` (CI, ``make course``) and by nbgrader while it
    autogrades (``NBGRADER_EXECUTION``), so a submission grades in seconds.

    >>> os.environ["COURSE_FAST"] = "1"; fast_mode()
    True
    >>> os.environ["COURSE_FAST"] = "0"; fast_mode()   # (outside nbgrader)
    False
    """
    if flag("COURSE_FAST"):
        return True
    return autograding()


def flag(name: str) -> bool | None:
    """Environment variable ``name`` as a switch: True, False, or None when it is unset or empty.

    Every environment variable course_utils reads is read in this module.

    >>> os.environ["COURSE_FAST"] = "yes"; flag("COURSE_FAST")
    True
    """
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return None
    if value in _TRUE | _FALSE:
        return value in _TRUE
    raise ValueError(f"{name} must be 1 or 0 (true/false, yes/no), got {value!r}: set it so, or unset it.")


def autograding() -> bool:
    """True while nbgrader executes the notebook (``NBGRADER_EXECUTION``: autograde, validate)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def data_dir() -> Path | None:
    """The course data folder, ``$COURSE_DATA_DIR`` (None when unset)."""
    value = os.environ.get("COURSE_DATA_DIR", "").strip()
    return Path(value).expanduser() if value else None


def cache_dir() -> Path:
    """Where downloads are cached: ``$XDG_CACHE_HOME/course_utils`` (default ``~/.cache``)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "course_utils"


def setting(name: str) -> str | None:
    """Environment variable ``name``, stripped; None when it is unset or empty (the module that
    uses it parses it and says what it takes)."""
    return os.environ.get(name, "").strip() or None


def fast_or(full, fast):
    """Return ``fast`` in fast mode, ``full`` otherwise.

    >>> epochs = fast_or(10, 1)   # 10 epochs for students, 1 in CI
    >>> os.environ["COURSE_FAST"] = "1"; fast_or(10, 1)
    1
    """
    return fast if fast_mode() else full


# TensorFlow's C++ lines printed before its log level applies (TF_CPP_MIN_LOG_LEVEL does not
# silence them): the absl preamble, oneDNN's note, CUDA plug-in registration on a CPU machine.
_TF_NOISE = re.compile(
    r"All log messages before absl::InitializeLog|oneDNN custom operations are on|"
    r"Unable to register cu(DNN|FFT|BLAS)|This TensorFlow binary is optimized|"
    r"TF-TRT Warning|computation placer already registered|cuda_(dnn|fft|blas)\.cc"
)


def quiet_tensorflow() -> None:
    """Import TensorFlow (Keras' default backend) without its start-up log lines.

    Call it before ``import keras``. TensorFlow's own warnings and errors still reach you: only
    the known start-up lines are dropped. It does nothing when TensorFlow is imported already,
    not installed, or Keras runs on another backend (``KERAS_BACKEND``).

    >>> quiet_tensorflow()   # then: import keras  # doctest: +SKIP
    """
    import importlib.util

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if (
        "tensorflow" in sys.modules
        or os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow"
        or importlib.util.find_spec("tensorflow") is None
    ):
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as captured:
        os.dup2(captured.fileno(), 2)  # the C++ lines go to file descriptor 2, not to sys.stderr
        try:
            import tensorflow  # noqa: F401
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = [
                line
                for line in captured.read().decode(errors="replace").splitlines()
                if line.strip() and not _TF_NOISE.search(line)
            ]
    if kept:
        print("\n".join(kept), file=sys.stderr)
