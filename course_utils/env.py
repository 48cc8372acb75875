"""Where are we running? A notebook, fast mode (CI and nbgrader)."""

from __future__ import annotations

import os
import sys

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
