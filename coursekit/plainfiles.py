"""Hand-in files are data: walk and copy only plain regular files, never follow anything.

The grader runs as root, and a hand-in is whatever a student (or an LMS, or a zip) made it.
A symbolic link in a hand-in would make a root copy read the instructor's source notebook, the
gradebook, another student's hand-in or a root-only file; a FIFO would block the copy forever;
a device node would read a disk; a hard link is someone else's file under a student's name.
So every file is opened with ``O_NOFOLLOW | O_NONBLOCK`` relative to its folder's own file
descriptor (a folder swapped for a link half-way is not followed either), and ``fstat`` must
say a regular file with one name (``st_nlink == 1``) before a byte is read. Folders are
entered the same way. What is not copied is returned as :class:`Skipped`, with the reason, so
the caller names it; nothing is skipped silently.

    skipped = copy_tree(src, dst)                     # the plain files of src, below dst
    problem = copy_file(src, dst)                     # one file; None, or why it was refused
    removed = clean_tree(folder)                      # remove every link and special file in place
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

NOT_COPIED_DIRS = (".git",)  # a git repository's history and hooks: not hand-in data
_OPEN_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_BAD_NAME = re.compile(r"[\x00-\x1f\x7f-\x9f/\\]")  # control characters (C0, DEL, C1), separators
_CHUNK = 1 << 20


@dataclass(frozen=True)
class Skipped:
    """One thing not copied (or removed): its path (relative to what was walked) and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path} ({self.reason})"


class NotPlain(OSError):
    """Raised by :func:`open_plain` for anything but a plain regular file with one name."""


def shown(name: str) -> str:
    """A name as it can be printed in one report line (control characters escaped)."""
    return name if name.isprintable() else ascii(name)


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a file name in a hand-in (``..``, a separator, a control character)."""
    if name in ("", ".", ".."):
        return f"the name {name!r} is a path trick"
    if _BAD_NAME.search(name):
        return "a name with a control character or a path separator"
    return None


def describe(st: os.stat_result, link: str | None = None) -> str | None:
    """Why a file with this ``lstat`` is not a plain file with one name (None: it is one)."""
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return "a symbolic link" + (f" to {shown(link)}" if link is not None else "") + ": not followed"
    if stat.S_ISREG(mode):
        if st.st_nlink > 1:
            return (
                f"a hard link ({st.st_nlink} names for one file, which may be someone else's): hand in a copy"
            )
        return None
    if stat.S_ISDIR(mode):
        return None
    kinds = {
        stat.S_ISFIFO: "a named pipe (FIFO)",
        stat.S_ISCHR: "a character device",
        stat.S_ISBLK: "a block device",
        stat.S_ISSOCK: "a socket",
    }
    kind = next((text for test, text in kinds.items() if test(mode)), "not a regular file")
    return f"{kind}, not a file: not read"


def _readlink(name: str, dir_fd: int | None) -> str | None:
    try:
        return os.readlink(name, dir_fd=dir_fd)
    except OSError:
        return None


def why_not(path: str | os.PathLike, dir_fd: int | None = None) -> str | None:
    """Why ``path`` (not followed) is not a plain file or a real folder; None when it is one."""
    st = os.stat(path, dir_fd=dir_fd, follow_symlinks=False)
    link = _readlink(os.fspath(path), dir_fd) if stat.S_ISLNK(st.st_mode) else None
    return describe(st, link)


def open_plain(path: str | os.PathLike, dir_fd: int | None = None) -> tuple[int, os.stat_result]:
    """``(fd, fstat)`` of a plain regular file with one name, opened without following a link
    or blocking on a FIFO; raises :class:`NotPlain` (with the reason) for anything else."""
    name = os.fspath(path)
    before = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    problem = describe(before, _readlink(name, dir_fd) if stat.S_ISLNK(before.st_mode) else None)
    if problem or not stat.S_ISREG(before.st_mode):  # a device is not even opened
        raise NotPlain(problem or "a folder, not a file")
    try:
        fd = os.open(name, _OPEN_FILE, dir_fd=dir_fd)
    except OSError as err:  # ELOOP: it became a link since
        raise NotPlain(f"cannot open it without following a link ({err.strerror})") from err
    st = os.fstat(fd)
    problem = describe(st) if stat.S_ISREG(st.st_mode) else "it changed into something else than a file"
    if problem is None and (st.st_dev, st.st_ino) != (before.st_dev, before.st_ino):
        problem = "it was replaced while being read"
    if problem:
        os.close(fd)
        raise NotPlain(problem)
    return fd, st


def _copy_fd(fd: int, st: os.stat_result, dst: str | os.PathLike, dst_dir_fd: int | None = None) -> None:
    """Copy an open file into a new file ``dst`` (never through a link there), keeping its times."""
    out = os.open(
        dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644, dir_fd=dst_dir_fd
    )
    try:
        os.set_blocking(fd, True)
        while chunk := os.read(fd, _CHUNK):
            view = memoryview(chunk)
            while view:
                view = view[os.write(out, view) :]
        os.utime(out, ns=(st.st_atime_ns, st.st_mtime_ns))
    finally:
        os.close(out)


def copy_file(src: str | os.PathLike, dst: str | os.PathLike, src_dir_fd: int | None = None) -> str | None:
    """Copy one plain file to a new file ``dst`` (its times kept); None, or why it was not copied."""
    try:
        fd, st = open_plain(src, dir_fd=src_dir_fd)
    except NotPlain as err:
        return str(err)
    except OSError as err:
        return f"cannot read it ({err.strerror})"
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(dst)  # replaced, never written through (a link planted at the target)
        _copy_fd(fd, st, dst)
    finally:
        os.close(fd)
    return None


@dataclass
class Entry:
    """A plain file or a real folder met by :func:`walk`: its path relative to the root, the file
    descriptor of its folder (valid while the walk is at it), its name and ``lstat``."""

    rel: str
    dir_fd: int
    name: str
    st: os.stat_result

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.st.st_mode)


def open_dir(path: str | os.PathLike, follow: bool = False, dir_fd: int | None = None) -> int:
    """A file descriptor of a real folder (``follow``: the path may be a link, e.g. a folder the
    instructor named); raises :class:`NotPlain` when it is a link or not a folder."""
    try:
        flags = _OPEN_DIR & ~os.O_NOFOLLOW if follow else _OPEN_DIR
        return os.open(path, flags, dir_fd=dir_fd)
    except OSError as err:
        try:
            problem = why_not(path, dir_fd)
        except OSError:
            raise err from None
        raise NotPlain(problem or f"not a folder ({err.strerror})") from err


Ignore = Callable[[str, os.stat_result], bool]  # (relative path, its lstat) -> pass over it silently


def walk(
    root: str | os.PathLike,
    skipped: list[Skipped],
    *,
    follow_root: bool = False,
    recursive: bool = True,
    ignore: Ignore | None = None,
) -> Iterator[Entry]:
    """The plain files and real folders below ``root`` (a folder before its contents, names sorted).

    Links, FIFOs, devices, sockets, hard-linked files, bad names and ``.git`` folders are not
    yielded (nor entered) but appended to ``skipped``. ``ignore(rel, lstat)``: entries to pass
    over silently (the caller's own rules). ``follow_root``: ``root`` itself may be a link.
    Raises :class:`NotPlain` when ``root`` is a link (without ``follow_root``) or not a folder.
    """
    fd = open_dir(root, follow=follow_root)
    try:
        yield from _walk(fd, "", skipped, recursive, ignore)
    finally:
        os.close(fd)


def _listing(fd: int, prefix: str) -> Iterator[tuple[str, os.DirEntry, os.stat_result]]:
    """``(path below the root, entry, its own lstat)`` of the folder ``fd``, by name; entries gone
    since they were listed are left out."""
    with os.scandir(fd) as it:
        entries = sorted(it, key=lambda e: e.name)
    for e in entries:
        try:
            st = e.stat(follow_symlinks=False)
        except OSError:
            continue  # gone since it was listed
        yield prefix + e.name, e, st


def _walk(
    fd: int, prefix: str, skipped: list[Skipped], recursive: bool, ignore: Ignore | None
) -> Iterator[Entry]:
    for rel, e, st in _listing(fd, prefix):
        if (problem := name_problem(e.name)) is not None:
            skipped.append(Skipped(shown(rel), problem))
            continue
        is_dir = stat.S_ISDIR(st.st_mode)
        if ignore and ignore(rel, st):
            continue
        if is_dir and e.name in NOT_COPIED_DIRS:
            skipped.append(Skipped(rel + "/", "a git repository's history, not hand-in data: not copied"))
            continue
        link = _readlink(e.name, fd) if stat.S_ISLNK(st.st_mode) else None
        if (problem := describe(st, link)) is not None:
            skipped.append(Skipped(rel, problem))
            continue
        yield Entry(rel, fd, e.name, st)
        if is_dir and recursive:
            try:
                sub = open_dir(e.name, dir_fd=fd)
            except OSError as err:  # NotPlain: swapped for a link since it was listed
                skipped.append(Skipped(rel + "/", str(err) if isinstance(err, NotPlain) else err.strerror))
                continue
            try:
                yield from _walk(sub, rel + "/", skipped, recursive, ignore)
            finally:
                os.close(sub)


def copy_tree(
    src: str | os.PathLike, dst: str | os.PathLike, *, follow_root: bool = False, ignore: Ignore | None = None
) -> list[Skipped]:
    """Copy the plain files below ``src`` to ``dst`` (a new or empty folder; folders and file times kept).

    Returns what was not copied and why (links, FIFOs, devices, hard links, bad names, ``.git``).
    Raises :class:`NotPlain` when ``src`` is itself a link (without ``follow_root``).
    """
    skipped: list[Skipped] = []
    dst = Path(dst)
    root = open_dir(src, follow=follow_root)  # before dst exists: a refused source leaves nothing behind
    try:
        dst.mkdir(parents=True, exist_ok=True)
        for entry in _walk(root, "", skipped, True, ignore):
            target = dst / entry.rel
            if entry.is_dir:
                target.mkdir(exist_ok=True)
                continue
            try:
                fd, st = open_plain(entry.name, dir_fd=entry.dir_fd)
            except OSError as err:  # NotPlain, or unreadable
                skipped.append(Skipped(entry.rel, str(err) if isinstance(err, NotPlain) else err.strerror))
                continue
            try:
                _copy_fd(fd, st, target)
            finally:
                os.close(fd)
    finally:
        os.close(root)
    return skipped


def clean_tree(root: str | os.PathLike) -> list[Skipped]:
    """Remove every link, FIFO, device, socket, hard-linked file, badly named entry and ``.git``
    folder below the real folder ``root``, in place (the entry itself, never what a link points
    to); what was removed and why. Raises :class:`NotPlain` when ``root`` is a link."""
    removed: list[Skipped] = []
    fd = open_dir(root)
    try:
        _clean(fd, "", removed)
    finally:
        os.close(fd)
    return removed


def _clean(fd: int, prefix: str, removed: list[Skipped]) -> None:
    import shutil

    for rel, e, st in _listing(fd, prefix):
        is_dir = stat.S_ISDIR(st.st_mode)
        problem = name_problem(e.name)
        if problem is None and is_dir and e.name in NOT_COPIED_DIRS:
            problem = "a git repository's history, not hand-in data"
        if problem is None:
            problem = describe(st, _readlink(e.name, fd) if stat.S_ISLNK(st.st_mode) else None)
        if problem is not None:
            removed.append(Skipped(shown(rel) + ("/" if is_dir else ""), problem))
            if is_dir:
                shutil.rmtree(e.name, dir_fd=fd)  # fd-based: follows no link inside
            else:
                os.unlink(e.name, dir_fd=fd)
        elif is_dir:
            sub = open_dir(e.name, dir_fd=fd)
            try:
                _clean(sub, rel + "/", removed)
            finally:
                os.close(sub)
