"""LMS plugins: how hand-ins come in from a learning-management system and grades go back.

One module of this package is one LMS (:mod:`~coursekit.lms.moodle`, :mod:`~coursekit.lms.canvas`)
and defines two classes on nbgrader's own plugin interfaces (:mod:`coursekit.lms._base`):

* ``Collector``, a :class:`nbgrader.plugins.FileNameCollectorPlugin`: from a path in the LMS's
  bulk download it reads the student, the name the student gave the file and the LMS's own ids.
  It only reads names: :mod:`coursekit.handins` unpacks the zip first, with its safety checks,
  and copies plain files only;
* ``Export``, a :class:`nbgrader.plugins.ExportPlugin`: the LMS's grade-import file, from the
  gradebook and the grades of :func:`coursekit.export.grades`.

A new LMS is one new module here and its test: ``coursekit collect`` tries its collector,
``coursekit export <module name> NAME`` writes its file, and nbgrader's own
``nbgrader export --exporter coursekit.lms.<module>.Export`` works too.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def names() -> list[str]:
    """The LMSs known, by module name (listed without importing them)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def plugin(name: str) -> ModuleType:
    """The module of LMS ``name``."""
    if name not in names():
        from coursekit.errors import CourseError

        raise CourseError(f"no LMS plugin {name!r}; known: {', '.join(names())} (coursekit/lms/)")
    return importlib.import_module(f"{__name__}.{name}")


def collectors() -> list:
    """One ``Collector`` of each LMS, in name order."""
    return [plugin(name).Collector() for name in names()]
