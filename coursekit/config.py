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

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.errors import CourseError

FILE = "course.toml"
ENV = "COURSEKIT_COURSE"


@dataclass(frozen=True)
class Assignment:
    """One assignment source (``assignments/<key>.py``) and the notebooks it builds."""

    key: str
    title: str = ""
    tracks: tuple[str, ...] = ()
    points: float = 0.0
    counts_at_most: float | None = None
    grading: dict = field(default_factory=dict)  # this assignment's [grading] settings
    optional: tuple[str, ...] = ()  # grade_ids of the optional parts (任意課題, bonus)
    extra_credit: bool = True  # optional points add to the score, not to the maximum

    @property
    def names(self) -> list[str]:
        """nbgrader assignment names: ``<key>_<track>`` per track, or ``<key>``."""
        return [f"{self.key}_{t}" for t in self.tracks] or [self.key]

    def track_of(self, name: str) -> str | None:
        """The track of notebook ``name`` (None for a single-notebook assignment)."""
        return name.removeprefix(f"{self.key}_") if self.tracks else None


KERAS_BACKENDS = ("torch", "tensorflow")


@dataclass(frozen=True)
class Grading:
    """Limits of ``coursekit grade`` (``[grading]`` in course.toml)."""

    cell_timeout_s: int = 300
    handin_timeout_s: int = 900
    jobs: int = 0
    output_text_bytes: int = 100_000
    output_total_bytes: int = 2_000_000
    memory_gib: float = 4
    processes: int = 512
    disk_gib: float = 1
    network: bool = False
    warm_kernels: bool = True
    keras_backend: str = "torch"
    scheduler: str = ""  # "tcp://HOST:8786": grade on that Dask scheduler's workers (README)

    def __post_init__(self):
        if self.keras_backend not in KERAS_BACKENDS:
            raise CourseError(f"[grading] keras_backend must be one of {list(KERAS_BACKENDS)}, "
                              f"got {self.keras_backend!r} (see the README, 'Grading').")  # fmt: skip


@dataclass(frozen=True)
class Course:
    """A course directory and its ``course.toml``."""

    root: Path
    id: str
    public_repo: str
    branch: str = "main"
    title: str = ""
    tracks: dict[str, str] = field(default_factory=dict)
    assignments: dict[str, Assignment] = field(default_factory=dict)
    grading: Grading = field(default_factory=Grading)

    # ---------------------------------------------------------------- loading

    @classmethod
    def from_text(cls, text: str, root: Path) -> Course:
        """Parse the text of a course.toml that lives in ``root``."""
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise CourseError(f"{root / FILE} is not valid TOML ({err}). Fix the line it names.") from None
        meta = data.get("course", {})
        for key in ("id", "public_repo"):
            if not meta.get(key):
                raise CourseError(f"{root / FILE}: [course] needs `{key} = ...` "
                                  "(see the README, 'The course configuration').")  # fmt: skip
        if meta["public_repo"].count("/") != 1:
            raise CourseError(f"{root / FILE}: public_repo must be GitHub's owner/name, "
                              f"got {meta['public_repo']!r}")  # fmt: skip
        tracks = dict(data.get("tracks", {}))
        assignments = {}
        for key, spec in data.get("assignments", {}).items():
            unknown = [t for t in spec.get("tracks", []) if t not in tracks]
            if unknown:
                raise CourseError(f"{root / FILE}: assignment {key!r} names unknown track(s) {unknown}; "
                                  f"the [tracks] table has {sorted(tracks)}")  # fmt: skip
            optional, extra = spec.get("optional", []), spec.get("extra_credit", True)
            where = f"{root / FILE}: [assignments.{key}]"
            if not (isinstance(optional, list) and all(isinstance(g, str) for g in optional)):
                raise CourseError(f"{where} optional must be a list of the grade_ids of its optional cells, "
                                  f"e.g. optional = [\"optional_c\"]; got {optional!r}")  # fmt: skip
            if not isinstance(extra, bool):
                raise CourseError(f"{where} extra_credit must be true (optional points are extra credit, "
                                  f"not in the maximum) or false; got {extra!r}")  # fmt: skip
            assignments[key] = Assignment(key=key, title=spec.get("title", ""),
                                          tracks=tuple(spec.get("tracks", ())),
                                          points=float(spec.get("points", 0)),
                                          counts_at_most=spec.get("counts_at_most"),
                                          grading=dict(spec.get("grading", {})),
                                          optional=tuple(optional), extra_credit=extra)  # fmt: skip
        known = set(Grading.__dataclass_fields__)
        for where, table in [("[grading]", data.get("grading", {})),
                             *((f"[assignments.{k}.grading]", a.grading) for k, a in assignments.items())]:
            extra = set(table) - known
            if extra:
                raise CourseError(f"{root / FILE}: unknown {where} setting(s) {sorted(extra)}; "
                                  f"known: {sorted(known)}")  # fmt: skip
        return cls(root=root, id=meta["id"], public_repo=meta["public_repo"],
                   branch=meta.get("branch", "main"), title=meta.get("title", ""), tracks=tracks,
                   assignments=assignments, grading=Grading(**data.get("grading", {})))  # fmt: skip

    @classmethod
    def load(cls, root: str | Path) -> Course:
        """The course whose ``course.toml`` is in ``root``."""
        root = Path(root).resolve()
        path = root / FILE
        if not path.is_file():
            raise CourseError(f"no {FILE} in {root}: run coursekit in a course directory, "
                              f"or pass --course DIR (or set ${ENV}).")  # fmt: skip
        return cls.from_text(path.read_text(encoding="utf-8"), root)

    @classmethod
    def find(cls, start: str | Path | None = None) -> Course:
        """The course at ``start``, ``$COURSEKIT_COURSE``, or at or above the working directory."""
        if start is not None:
            return cls.load(start)
        if os.environ.get(ENV):
            return cls.load(os.environ[ENV])
        here = Path.cwd().resolve()
        for folder in (here, *here.parents):
            if (folder / FILE).is_file():
                return cls.load(folder)
        raise CourseError(f"no {FILE} in {here} or any folder above it: cd into the course directory, "
                          f"or pass --course DIR (or set ${ENV}).")  # fmt: skip

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
        import dataclasses

        try:
            own = self.assignment_of(name).grading
        except CourseError:
            own = {}
        return dataclasses.replace(self.grading, **own)

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
