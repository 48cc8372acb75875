"""Where the nbgrader gradebook lives: SQLite in the course directory, or a database server.

One grader on one machine: ``sqlite:///<course>/gradebook.db`` (the default). Several
graders, or a formgrader on JupyterHub: set ``COURSE_GRADEBOOK_URL`` to an SQLAlchemy URL,
for example ``postgresql://user:password@host/gradebook`` (driver: psycopg2-binary, in the
``grading`` extra). nbgrader_config.py and coursekit grade both read it from here, so
``nbgrader autograde`` and the tool's own gradebook access always use the same database.

A bare ``postgresql://`` (or ``postgres://``) URL is given the psycopg2 driver explicitly:
SQLAlchemy 2.1 picks psycopg 3 for it by default, which the course does not install.
An explicit driver (``postgresql+psycopg://``, ``mysql+pymysql://``, ...) is kept.
"""

from __future__ import annotations

import random
import time
from pathlib import Path

from coursekit.config import environment

ENV = "COURSE_GRADEBOOK_URL"
_BARE_POSTGRES = ("postgresql://", "postgres://")


def gradebook_url(root: Path) -> str:
    """``$COURSE_GRADEBOOK_URL`` if set (and not empty), else ``sqlite:///<root>/gradebook.db``."""
    url = environment().gradebook_url
    return with_driver(url) if url else f"sqlite:///{Path(root).resolve() / 'gradebook.db'}"


def with_driver(url: str) -> str:
    """``url`` with the psycopg2 driver named when it is a bare ``postgresql://`` URL.

    >>> with_driver("postgresql://grader:secret@db.example.org/gradebook")
    'postgresql+psycopg2://grader:secret@db.example.org/gradebook'
    """
    for prefix in _BARE_POSTGRES:
        if url.startswith(prefix):
            return "postgresql+psycopg2://" + url[len(prefix) :]
    return url


def locked(err: BaseException | str) -> bool:
    return "database is locked" in str(err)


def retry_locked(fn, *args, tries: int = 5):
    """Run ``fn(*args)``, again after a pause when SQLite says another grader holds the lock."""
    for attempt in range(tries):
        try:
            return fn(*args)
        except Exception as err:
            if not locked(err) or attempt == tries - 1:
                raise
            time.sleep(0.5 + random.random() * 2)
