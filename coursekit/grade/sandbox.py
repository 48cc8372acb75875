"""Run a student's kernel where it cannot read what it must not (used by ``GuardedExecute``).

nbgrader starts the kernel in ``autograded/<student>/<assignment>``, as the grader's user:
student code can read ``../../../assignments`` (solutions and hidden tests), the gradebook
and every other student's folder. ``SandboxKernelManager`` starts it instead

* in a fresh temporary directory holding only the submission's data files (not the notebook);
* on Linux, when the grader runs as root and ``unshare`` exists: in its own mount namespace,
  where the course directory, root's home, ``/tmp``, ``/var/tmp`` and ``/dev/shm`` are
  replaced by empty file systems and only what the kernel needs is mounted back, read-only
  (the Python installation, the ``course_utils`` package, ``COURSE_DATA_DIR``), plus the
  working directory; then as an unprivileged user of its own (no capabilities, no new
  privileges), so it can neither undo the mounts nor write outside its directory.

Elsewhere (not root, macOS) only the working directory changes; ``mode()`` says which, and
the grading report records it. ``COURSE_GRADING_SANDBOX=0`` turns the namespace off.

This module is also the program that sets the namespace up (``python -m
coursekit.grade.sandbox --workdir DIR --uid N --hide P --keep P -- kernel command``), started
through ``unshare``.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager

from coursekit.config import environment, inherited

HIDDEN_ALWAYS = ("/tmp", "/var/tmp", "/dev/shm")
_STAGE = "/mnt"  # a private tmpfs inside the namespace, to carry what is mounted back


@functools.cache
def _namespaces_work() -> bool:
    """Can this machine give a process its own mounts? (Not in an unprivileged container.)"""
    probe = [shutil.which("unshare"), "--mount", "--propagation", "private", "--",
             "mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", _STAGE]  # fmt: skip
    try:
        return subprocess.run(probe, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


def mode() -> str:
    """``"bwrap"`` (:mod:`coursekit.grade.jail`: bubblewrap, cgroups), ``"namespace"`` (hidden course,
    own user, no resource limits) or ``"workdir"`` (only a fresh directory).

    ``COURSE_GRADING_SANDBOX``: ``0`` = workdir, ``namespace`` = no bubblewrap; default: the best here.
    """
    chosen = environment().sandbox
    if chosen == "0":
        return "workdir"
    if chosen != "namespace":
        from coursekit.grade import jail

        if jail.available() is None:
            return "bwrap"
    tools = shutil.which("unshare") and shutil.which("mount")
    if sys.platform != "linux" or os.geteuid() != 0 or not tools:
        return "workdir"
    return "namespace" if _namespaces_work() else "workdir"


def kept_paths() -> list[str]:
    """What the kernel needs to run: Python, the installed packages, course_utils, the data.

    course_utils is found as the kernel finds it: the installed package (the grading worker runs
    with ``python -P``, so a ``course_utils/`` folder in its working directory does not count).
    """
    paths = [sys.prefix, sys.base_prefix]
    spec = importlib.util.find_spec("course_utils")
    if spec and spec.submodule_search_locations:
        paths += list(spec.submodule_search_locations)
    if environment().data_dir:
        paths.append(str(environment().data_dir))
    return [os.path.realpath(p) for p in paths if p and os.path.exists(p)]


def hidden_paths(course_root: Path) -> list[str]:
    """The course directory, the grader's home and the shared temporary folders."""
    return [os.path.realpath(p) for p in (course_root, Path.home(), *HIDDEN_ALWAYS) if os.path.isdir(p)]


def make_workdir(source: str | None, uid: int | None) -> str:
    """A fresh directory with the submission's files except notebooks (data a student brings)."""
    from coursekit import plainfiles

    workdir = tempfile.mkdtemp(prefix="course-grading-")
    if source and os.path.isdir(source):
        # plain files only: no link, FIFO, device or hard link is followed as root (coursekit.plainfiles)
        def passed_over(rel: str, st: os.stat_result) -> bool:  # notebooks and dot files at the top
            return "/" not in rel and (rel.endswith(".ipynb") or rel.startswith("."))

        plainfiles.copy_tree(source, workdir, ignore=passed_over)
    if uid is not None:
        for folder, dirs, files in os.walk(workdir):
            for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                os.chown(name, uid, uid)
        os.chmod(workdir, 0o700)
    return workdir


def free_uid() -> int:
    """A user id nobody has (one per kernel: parallel kernels cannot signal each other)."""
    import pwd

    while True:
        uid = random.randint(61000, 64999)
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid


def course_root(path: str | None) -> str:
    """The course directory: three levels above ``autograded/<student>/<assignment>``."""
    if path and (Path(path).resolve().parents[2] / "course.toml").exists():
        return str(Path(path).resolve().parents[2])
    return os.getcwd()


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel command is wrapped by this module (see the docstring)."""

    sandbox_workdir: str | None = None
    sandbox_uid: int | None = None
    sandbox_course_root: str | None = None

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        cmd = super().format_kernel_cmd(extra_arguments)
        if self.sandbox_uid is None or not self.sandbox_workdir:
            return cmd
        wrapper = [shutil.which("unshare"), "--mount", "--propagation", "private", "--",
                   sys.executable, "-P", "-m", "coursekit.grade.sandbox", "--workdir", self.sandbox_workdir,
                   "--uid", str(self.sandbox_uid)]  # fmt: skip
        for path in hidden_paths(Path(self.sandbox_course_root or os.getcwd())):
            wrapper += ["--hide", path]
        for path in kept_paths():
            wrapper += ["--keep", path]
        return [*wrapper, "--", *cmd]


# ------------------------------------------------------------- inside the namespace


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True)


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip("/") + "/")


def _no_new_privileges() -> None:
    """prctl(PR_SET_NO_NEW_PRIVS): set-uid programs (su, mount) give no privileges back."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


def enter(workdir: str, uid: int, hide: list[str], keep: list[str], cmd: list[str]) -> None:
    """Set the namespace up, drop to ``uid`` and exec the kernel (never returns)."""
    # kept folders are mounted back at their real paths: a symlink on the way may be hidden
    data = os.path.realpath(environment().data_dir) if environment().data_dir else None
    # the connection file lies in the grader's (hidden) runtime folder: copy it into workdir
    i = cmd.index("-f") + 1 if "-f" in cmd else None
    if i is not None:
        conn = Path(workdir) / ".kernel.json"
        shutil.copy(cmd[i], conn)
        os.chown(conn, uid, uid)
        cmd[i] = str(conn)
    _mount("-t", "tmpfs", "-o", "size=1m,mode=700", "tmpfs", _STAGE)
    staged = []
    for k, path in enumerate([workdir, *keep]):
        stage = os.path.join(_STAGE, str(k))
        os.mkdir(stage)
        _mount("--bind", path, stage)
        staged.append((path, stage))
    for folder in hide:
        if os.path.isdir(folder):  # (a folder inside an already hidden one is gone already)
            _mount("-t", "tmpfs", "-o", "mode=755", "tmpfs", folder)
    for k, (path, stage) in enumerate(staged):
        if not any(_under(path, folder) for folder in hide):
            continue  # still visible: nothing to mount back
        os.makedirs(path, exist_ok=True)
        _mount("--bind", stage, path)
        if k > 0:  # everything but the working directory is read-only
            _mount("-o", "remount,bind,ro", path)
    subprocess.run(["umount", "-l", _STAGE], check=False)
    for folder in HIDDEN_ALWAYS:
        if os.path.isdir(folder):
            os.chmod(folder, 0o1777)
    os.chdir(workdir)
    home = {"MPLCONFIGDIR": ".matplotlib", "IPYTHONDIR": ".ipython", "JUPYTER_RUNTIME_DIR": ".jupyter",
            "XDG_CACHE_HOME": ".cache"}  # fmt: skip
    env = dict(inherited(), HOME=workdir, USER="student", LOGNAME="student", TMPDIR="/tmp",
               **{var: os.path.join(workdir, sub) for var, sub in home.items()})  # fmt: skip
    if data:
        env["COURSE_DATA_DIR"] = data
    for name in ("COURSE_GRADING_STATUS", "COURSE_GRADEBOOK_URL"):
        env.pop(name, None)  # the grader's own settings are none of the kernel's business
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)  # from root: drops every capability; the mounts cannot be undone now
    _no_new_privileges()
    os.execvpe(cmd[0], cmd, env)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="start a kernel in a grading sandbox")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--uid", type=int, required=True)
    parser.add_argument("--hide", action="append", default=[])
    parser.add_argument("--keep", action="append", default=[])
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    enter(args.workdir, args.uid, args.hide, args.keep, cmd)


if __name__ == "__main__":
    main()
