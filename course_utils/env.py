"""Where are we running? A notebook, fast mode (CI and nbgrader)."""

from __future__ import annotations

import os
import re
import sys
import tempfile

_TRUE = {"1", "true", "yes", "on"}


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
    if os.environ.get("COURSE_FAST", "").strip().lower() in _TRUE:
        return True
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def fast_or(full, fast):
    """Return ``fast`` in fast mode, ``full`` otherwise.

    >>> epochs = fast_or(10, 1)   # 10 epochs for students, 1 in CI
    >>> os.environ["COURSE_FAST"] = "1"; fast_or(10, 1)
    1
    """
    return fast if fast_mode() else full


# TensorFlow's C++ lines printed before its log level applies (TF_CPP_MIN_LOG_LEVEL does not
# silence them): the absl preamble, oneDNN's note, CUDA plug-in registration on a CPU machine.
_TF_NOISE = re.compile(r"All log messages before absl::InitializeLog|oneDNN custom operations are on|"
                       r"Unable to register cu(DNN|FFT|BLAS)|This TensorFlow binary is optimized|"
                       r"TF-TRT Warning|computation placer already registered|cuda_(dnn|fft|blas)\.cc")


def quiet_tensorflow() -> None:
    """Import TensorFlow (Keras' default backend) without its start-up log lines.

    Call it before ``import keras``. TensorFlow's own warnings and errors still reach you: only
    the known start-up lines are dropped. It does nothing when TensorFlow is imported already,
    not installed, or Keras runs on another backend (``KERAS_BACKEND``).

    >>> quiet_tensorflow()   # then: import keras  # doctest: +SKIP
    """
    import importlib.util

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if ("tensorflow" in sys.modules or os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow"
            or importlib.util.find_spec("tensorflow") is None):  # fmt: skip
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
            kept = [line for line in captured.read().decode(errors="replace").splitlines()
                    if line.strip() and not _TF_NOISE.search(line)]  # fmt: skip
    if kept:
        print("\n".join(kept), file=sys.stderr)
