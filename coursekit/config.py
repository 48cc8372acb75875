"""The course configuration, ``course.toml`` at the root of the course directory.

The course directory is found like git finds its repository: ``--course DIR``, else
``$COURSEKIT_COURSE``, else the nearest folder at or above the working directory that holds a
``course.toml``. Every tool reads the course id, the public repository, the tracks, the
assignments and the grading limits from here.

>>> course = Course.from_text('''
... [course]
... id = "dl"
... public_repo = "me/dl-course"
... [tracks]
... keras = "Keras"
... [assignments.hello]
... points = 2
... ''', root=Path("/srv/dl"))
>>> course.notebook_names()
['hello']
>>> course.colab_url("notebooks/keras/01.ipynb")
'https://colab.research.google.com/github/me/dl-course/blob/main/notebooks/keras/01.ipynb'
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from coursekit.errors import CourseError

FILE = "course.toml"
ENV = "COURSEKIT_COURSE"
KERAS_BACKENDS = ("torch", "tensorflow")
HELP = "see the README, 'The course configuration'"


class _Table(BaseModel):
    """A table of course.toml: known keys only, values of the declared type (no guessing)."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Grading(_Table):
    """Limits of ``coursekit grade`` (``[grading]`` in course.toml; an assignment's own
    ``grading = {...}`` changes any of them). A new limit is one field here."""

    cell_timeout_s: int = Field(300, gt=0, description="seconds per cell")
    handin_timeout_s: int = Field(900, gt=0, description="seconds for all cells of one hand-in")
    jobs: int = Field(0, ge=0, description="hand-ins graded at once; 0 = one per core")
    output_text_bytes: int = Field(100_000, gt=0, description="text a cell may print before it is cut")
    output_total_bytes: int = Field(2_000_000, gt=0, description="all outputs of one cell")
    memory_gib: float = Field(4, gt=0, description="memory of the kernel and all it starts")
    processes: int = Field(512, ge=16, description="processes and threads at once")
    disk_gib: float = Field(1, gt=0, description="the kernel's home and /tmp, and its largest file")
    network: bool = False
    warm_kernels: bool = True
    keras_backend: Literal["torch", "tensorflow"] = "torch"
    # "tcp://HOST:8786": grade on that Dask scheduler's workers (README, 'Grading on a cluster')
    scheduler: str = Field("", pattern=r"^$|^[a-z][a-z0-9+.-]*://\S+$")


class Assignment(_Table):
    """One assignment source (``assignments/<key>.py``) and the notebooks it builds."""

    key: str
    title: str = ""
    tracks: tuple[str, ...] = Field((), strict=False)  # TOML has lists, not tuples
    points: float = Field(0.0, ge=0)
    counts_at_most: float | None = Field(None, ge=0)
    grading: dict = Field(default_factory=dict)  # this assignment's own [grading] settings
    optional: tuple[str, ...] = Field((), strict=False)  # grade_ids of the optional parts (任意課題, bonus)
    extra_credit: bool = True  # optional points add to the score, not to the maximum

    @property
    def names(self) -> list[str]:
        """nbgrader assignment names: ``<key>_<track>`` per track, or ``<key>``."""
        return [f"{self.key}_{t}" for t in self.tracks] or [self.key]

    def track_of(self, name: str) -> str | None:
        """The track of notebook ``name`` (None for a single-notebook assignment)."""
        return name.removeprefix(f"{self.key}_") if self.tracks else None


class _Meta(_Table):
    id: str = Field(min_length=1)
    public_repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    branch: str = "main"
    title: str = ""


class _File(_Table):
    """The whole of course.toml."""

    course: _Meta
    tracks: dict[str, str] = Field(default_factory=dict)
    assignments: dict[str, dict] = Field(default_factory=dict)
    grading: Grading = Field(default_factory=Grading)


_WHAT = {
    "public_repo": "GitHub's owner/name of the students' repository, e.g. \"me/dl-course\"",
    "scheduler": 'a Dask scheduler\'s address, e.g. "tcp://host:8786", or "" to grade here',
    "keras_backend": f"one of {list(KERAS_BACKENDS)}",
    "id": 'a name for nbgrader\'s course_id, e.g. "dl"',
    "extra_credit": "true (optional points add to the score, not to the maximum) or false",
    "optional": 'a list of the grade_ids of its optional cells, e.g. ["optional_c"]',
}


_KINDS = {
    "bool_type": "true or false (without quotes)",
    "int_type": "a whole number (without quotes)",
    "float_type": "a number (without quotes)",
    "string_type": "a string (in quotes)",
}


def _explain(err: ValidationError, where: str, prefix: tuple = ()) -> CourseError:
    """One CourseError naming every wrong key of ``where`` (a file) and what it should be."""
    lines = []
    for e in err.errors():
        loc = [*prefix, *e["loc"]]
        key = ".".join(str(k) for k in loc)
        if e["type"] == "missing":
            lines.append(f"`{key}` is missing: add it ({_WHAT.get(str(loc[-1]), 'see the README')})")
        elif e["type"] == "extra_forbidden":
            table = ".".join(str(k) for k in loc[:-1]) or "the top level"
            known = f" (known: {', '.join(Grading.model_fields)})" if loc[-2:-1] == ["grading"] else ""
            lines.append(f"unknown setting `{key}` in [{table}]: remove it or fix its spelling{known}")
        else:
            name, got = str(loc[-1]), e.get("input")
            if name in _WHAT:
                should = _WHAT[name]
            elif e["type"] in _KINDS:
                should = _KINDS[e["type"]]
            elif e["type"] in ("tuple_type", "list_type"):
                should = 'a list, e.g. ["a", "b"]'
            else:
                should = e["msg"].removeprefix("Input should be ").removeprefix("input should be ")
            lines.append(f"`{key}` = {got!r} should be {should}")
    return CourseError(f"{where}: " + "; ".join(lines) + f" ({HELP}).")


class Course(BaseModel):
    """A course directory and its ``course.toml``."""

    model_config = ConfigDict(frozen=True)

    root: Path
    id: str
    public_repo: str
    branch: str = "main"
    title: str = ""
    tracks: dict[str, str] = Field(default_factory=dict)
    assignments: dict[str, Assignment] = Field(default_factory=dict)
    grading: Grading = Field(default_factory=Grading)

    # ---------------------------------------------------------------- loading

    @classmethod
    def from_text(cls, text: str, root: Path) -> Course:
        """Parse and validate the text of a course.toml that lives in ``root``."""
        where = str(root / FILE)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise CourseError(f"{where} is not valid TOML ({err}). Fix the line it names.") from None
        try:
            file = _File.model_validate(data)
        except ValidationError as err:
            raise _explain(err, where) from None
        assignments = {}
        for key, spec in file.assignments.items():
            try:
                assignment = Assignment.model_validate({**spec, "key": key})
            except ValidationError as err:
                raise _explain(err, where, ("assignments", key)) from None
            unknown = [t for t in assignment.tracks if t not in file.tracks]
            if unknown:
                raise CourseError(
                    f"{where}: assignment {key!r} names unknown track(s) {unknown}; "
                    f"the [tracks] table has {sorted(file.tracks)}"
                )
            try:  # its own limits, checked now rather than when its first hand-in is graded
                Grading.model_validate({**file.grading.model_dump(), **assignment.grading})
            except ValidationError as err:
                raise _explain(err, where, ("assignments", key, "grading")) from None
            assignments[key] = assignment
        meta = file.course
        return cls(
            root=root,
            id=meta.id,
            public_repo=meta.public_repo,
            branch=meta.branch,
            title=meta.title,
            tracks=file.tracks,
            assignments=assignments,
            grading=file.grading,
        )

    @classmethod
    def load(cls, root: str | Path) -> Course:
        """The course whose ``course.toml`` is in ``root``."""
        root = Path(root).resolve()
        path = root / FILE
        if not path.is_file():
            raise CourseError(
                f"no {FILE} in {root}: run coursekit in a course directory, "
                f"or pass --course DIR (or set ${ENV})."
            )
        return cls.from_text(path.read_text(encoding="utf-8"), root)

    @classmethod
    def find(cls, start: str | Path | None = None) -> Course:
        """The course at ``start``, ``$COURSEKIT_COURSE``, or at or above the working directory."""
        if start is not None:
            return cls.load(start)
        if environment().course:
            return cls.load(environment().course)
        here = Path.cwd().resolve()
        for folder in (here, *here.parents):
            if (folder / FILE).is_file():
                return cls.load(folder)
        raise CourseError(
            f"no {FILE} in {here} or any folder above it: cd into the course directory, "
            f"or pass --course DIR (or set ${ENV})."
        )

    # ------------------------------------------------------------- questions

    def notebook_names(self) -> list[str]:
        """Every nbgrader assignment name, in the order of course.toml."""
        return [name for a in self.assignments.values() for name in a.names]

    def assignment_of(self, name: str) -> Assignment:
        """The assignment whose source builds notebook ``name``."""
        for a in self.assignments.values():
            if name in a.names:
                return a
        raise CourseError(f"unknown assignment {name!r}; course.toml has {', '.join(self.notebook_names())}")

    def grading_for(self, name: str) -> Grading:
        """The grading limits of notebook ``name``: [grading], then its assignment's own settings."""
        try:
            own = self.assignment_of(name).grading
        except CourseError:
            own = {}
        return Grading.model_validate({**self.grading.model_dump(), **own})

    def colab_url(self, path: str) -> str:
        """The "Open in Colab" address of ``path`` in the students' public repository."""
        return f"https://colab.research.google.com/github/{self.public_repo}/blob/{self.branch}/{path}"

    @property
    def site_url(self) -> str:
        """Where GitHub Pages serves the course website (the ``docs/`` folder that publish writes)."""
        owner, name = self.public_repo.split("/", 1)
        return f"https://{owner}.github.io/{name}/"

    @property
    def install_url(self) -> str:
        """What ``pip install`` takes on Colab: the students' repository at ``branch``."""
        return f"git+https://github.com/{self.public_repo}@{self.branch}"


# ------------------------------------------------------------------ environment variables


def _unset_if_empty(value):
    return None if isinstance(value, str) and not value.strip() else value


def _first_count(value):
    """OpenMP's ``4,2`` (threads per nesting level): the first level's count."""
    value = _unset_if_empty(value)
    return value.split(",")[0].strip() if isinstance(value, str) else value


def _switch(value):
    return _unset_if_empty(value.strip().lower() if isinstance(value, str) else value)


Flag = Annotated[bool | None, BeforeValidator(_switch)]  # 1/0, true/false, yes/no, on/off


class Environment(BaseModel):
    """Every environment variable coursekit reads, read here and nowhere else.

    An empty variable counts as unset; a value of the wrong kind is a :class:`CourseError` naming
    the variable and what it takes.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    course: Annotated[Path | None, BeforeValidator(_unset_if_empty)] = Field(None, alias=ENV)
    fast: Flag = Field(None, alias="COURSE_FAST", description="fast mode (default: on)")
    data_dir: Annotated[Path | None, BeforeValidator(_unset_if_empty)] = Field(None, alias="COURSE_DATA_DIR")
    jobs: Annotated[int | None, BeforeValidator(_unset_if_empty)] = Field(
        None, ge=0, alias="COURSE_GRADING_JOBS", description="hand-ins graded at once"
    )
    trusted: Flag = Field(None, alias="COURSE_GRADING_TRUSTED", description="grade without the jail")
    sandbox: Literal["1", "0"] = Field(
        "1", alias="COURSE_GRADING_SANDBOX", description="0: no jail (grading then refuses unless trusted)"
    )
    cell_timeout_s: Annotated[int | None, BeforeValidator(_unset_if_empty)] = Field(
        None, gt=0, alias="COURSE_GRADING_TIMEOUT", description="seconds per cell, over course.toml's"
    )
    status_file: Annotated[str | None, BeforeValidator(_unset_if_empty)] = Field(
        None, alias="COURSE_GRADING_STATUS"
    )
    gradebook_url: Annotated[str, BeforeValidator(lambda v: (v or "").strip())] = Field(
        "", alias="COURSE_GRADEBOOK_URL"
    )
    cluster_wait_s: float = Field(300.0, gt=0, alias="COURSE_CLUSTER_WAIT_S")
    threads: Annotated[int | None, BeforeValidator(_first_count)] = Field(
        None, gt=0, alias="OMP_NUM_THREADS", description="threads of one grading kernel"
    )


_TAKES = {
    "COURSE_FAST": "1 or 0 (true/false, yes/no)",
    "COURSE_GRADING_TRUSTED": "1 or 0",
    "COURSE_GRADING_JOBS": "a whole number, 1 or more (0: one per core)",
    "COURSE_GRADING_SANDBOX": "1 (the jail) or 0 (no jail: with --trusted only)",
    "COURSE_GRADING_TIMEOUT": "whole seconds, more than 0",
    "COURSE_CLUSTER_WAIT_S": "seconds",
    "OMP_NUM_THREADS": "a whole number, 1 or more",
}


def environment() -> Environment:
    """The environment variables coursekit reads, typed and checked, as they are now."""
    try:
        return Environment.model_validate(dict(os.environ))
    except ValidationError as err:
        wrong = []
        for e in err.errors():
            name = str(e["loc"][0])
            wrong.append(f"{name}={e.get('input')!r} is not {_TAKES.get(name, e['msg'].lower())}")
        raise CourseError("; ".join(wrong) + ": set it to such a value, or unset it") from None


def inherited(names: Iterable[str] | None = None, drop: Iterable[str] = ()) -> dict[str, str]:
    """A copy of this process's environment for a child process: all of it, or only ``names``,
    without ``drop``."""
    keep = None if names is None else set(names)
    return {k: v for k, v in os.environ.items() if (keep is None or k in keep) and k not in set(drop)}


def export(**values: str | None) -> None:
    """Set (or, with None, remove) variables for this process and what it starts."""
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@contextlib.contextmanager
def without(name: str) -> Iterator[None]:
    """This process's environment without variable ``name`` for a while."""
    saved = os.environ.pop(name, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[name] = saved
