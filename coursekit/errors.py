"""The one error class of coursekit: :class:`CourseError`, for everything it reports to a user.

Raise it, or a subclass (``SourceError``, ``SiteError``), for what the instructor can fix, with
a message that names the file or setting and says what to do. The ``coursekit`` command prints
``coursekit: error: <message>`` and exits with status 2, as argparse does for a wrong command
line, without a traceback; ``coursekit --debug ...`` prints the traceback as well. What a job
finds while it runs (a notebook out of date, a hand-in not graded) is returned as lines instead,
printed as ``FAILED: <line>`` with status 1.
"""

from __future__ import annotations


class CourseError(RuntimeError):
    """What the instructor can fix, with a message that says how.

    The CLI prints its message without a traceback (``coursekit --debug ...`` shows it).
    """
