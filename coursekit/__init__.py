"""coursekit: the instructor's tools of the course kit (build, release, collect, grade, publish).

The students' runtime is the other package, ``course_utils``; this one is never published to
students. Its one entry point is the ``coursekit`` command (:mod:`coursekit.cli`).
"""

__version__ = "0.2.0"
