"""The kernel's jail: bubblewrap for isolation, cgroups and rlimits for resources.

Where the grader runs as root on Linux with ``bwrap`` (Debian's ``bubblewrap``), each student's
kernel starts through this module's program (``python -P -m coursekit.grade.jail ...``), which

1. puts itself into a fresh memory and pids cgroup (v1 controllers where they are mounted,
   else the v2 unified hierarchy): ``memory`` without swap, ``processes`` at most;
2. sets rlimits for what cgroups do not cover: the largest file (``RLIMIT_FSIZE``), no core files;
3. execs bubblewrap with its own mount, PID, network, IPC, UTS and cgroup namespaces, in which
   ``setpriv`` drops the kernel to an unused uid (no capabilities, no new privileges); a clean
   environment (``--clearenv``: no ``PGPASSWORD``, no gradebook URL, nothing the instructor's
   shell holds), a seccomp filter (:mod:`coursekit.grade.seccomp`: no new namespaces, no keys,
   no tracing, no bpf or io_uring), read-only binds of exactly what the kernel needs (the
   system, Python, the installed packages, ``course_utils``, the data), the home folder and
   ``/tmp`` on tmpfs of ``disk`` bytes, and ``--die-with-parent``: when the kernel ends, every
   process it started ends.

The kernel talks to the grader over Unix sockets in a folder bound into the jail (there is no
network inside). :class:`Cgroup` reads what happened (out-of-memory kills, refused forks), so
the report can say which limit stopped which cell.

This is the one place that isolates a kernel. :func:`isolation` answers whether the jail is used
here (``grade``, the Dask workers and ``doctor`` all read it); :class:`Jail` describes one
hand-in's jail, with two ways in: **cold**, bubblewrap starts the kernel command, and **warm**,
bubblewrap holds the jail and a zygote forks an already-importing kernel into it
(:mod:`coursekit.grade.warm`); :func:`kernel_manager` is the Jupyter kernel manager that takes
either way. Without the jail (only ``--trusted``) a kernel gets a fresh working folder and
nothing else.
"""

from __future__ import annotations

import argparse
import functools
import importlib.util
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from coursekit.grade import seccomp

if TYPE_CHECKING:
    from coursekit.config import Grading

CGROUP_ROOT = Path("/sys/fs/cgroup")
GIB = 1024**3
# system folders the kernel reads (Debian merges /bin, /lib into /usr: --ro-bind-try follows them)
SYSTEM = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib64",
    "/lib32",
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/fonts",
    "/etc/ssl",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/localtime",
    "/etc/matplotlibrc",
)
ENV_KEPT = (
    "NBGRADER_EXECUTION",
    "COURSE_FAST",
    "COURSE_FAST_SIZES",
    "MPLBACKEND",
    "TF_CPP_MIN_LOG_LEVEL",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
    "PYDEVD_DISABLE_FILE_VALIDATION",
    "JPY_SESSION_NAME",
)
HOME = "/home/student"
INPUT = "/home/.handin"  # the hand-in's data files, copied into HOME when the kernel starts


# CPU: each kernel at most one core's time (cfs quota / cpu.max) and a weight far above the
# machine's other processes, so a hand-in's busy loops slow neither its neighbour nor, with the
# machine under load, its own timings (grading never runs more jobs than cores)
CPU_PERIOD_US = 100_000
CPU_WEIGHT_V1, CPU_WEIGHT_V2 = 262_144, 10_000  # cpu.shares and cpu.weight maxima


@dataclass(frozen=True)
class Limits:
    """What one hand-in may use (course.toml ``[grading]``, per assignment ``[grading.<name>]``).

    No defaults here: they are :class:`coursekit.config.Grading`'s, read through :meth:`of`."""

    memory_bytes: int
    processes: int
    disk_bytes: int
    network: bool
    cpus: float

    @classmethod
    def of(cls, grading: Grading, cpus: float = 1.0) -> Limits:
        """The limits of a :class:`coursekit.config.Grading` (course.toml), with ``cpus`` cores:
        the one place a course.toml limit becomes a jail limit."""
        return cls(
            memory_bytes=int(grading.memory_gib * GIB),
            processes=grading.processes,
            disk_bytes=int(grading.disk_gib * GIB),
            network=grading.network,
            cpus=cpus,
        )

    def describe(self) -> str:
        return (
            f"memory {self.memory_bytes / GIB:g} GiB without swap, {self.processes} processes, "
            f"CPU {self.cpus:g} core(s) at top weight, "
            f"disk {self.disk_bytes / GIB:g} GiB, network {'on' if self.network else 'off'}, "
            "clean environment, seccomp filter"
        )


@functools.cache
def available() -> str | None:
    """None when the jail can be used here, else why not (said once by ``grade``, and in each row)."""
    if sys.platform != "linux":
        return f"{sys.platform} has no bubblewrap or cgroups"
    if os.geteuid() != 0:
        return "the grader is not root (cgroups and an unused uid need root)"
    if not shutil.which("bwrap"):
        return "bubblewrap is missing (apt-get install bubblewrap; `make setup` does it as root)"
    if not Cgroup.controllers():
        return "no memory and pids cgroup controllers are mounted"
    if not shutil.which("setpriv"):
        return "setpriv (util-linux) is missing"
    if why := seccomp.missing():
        return why
    probe = [
        "bwrap",
        "--unshare-pid",
        "--unshare-net",
        "--die-with-parent",
        "--ro-bind",
        "/usr",
        "/usr",
        "--ro-bind-try",
        "/bin",
        "/bin",
        "--ro-bind-try",
        "/lib",
        "/lib",
        "--ro-bind-try",
        "/lib64",
        "/lib64",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--",
        "/bin/true",
    ]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError) as err:
        return f"bubblewrap does not start here ({err})"
    if done.returncode:
        return f"bubblewrap cannot make namespaces here: {done.stderr.strip()[:200]}"
    return None


@dataclass(frozen=True)
class Isolation:
    """How kernels are isolated on this machine: the jail (``why_not`` None), or only a fresh
    working folder, and why not the jail."""

    why_not: str | None

    @property
    def jailed(self) -> bool:
        return self.why_not is None

    @property
    def mode(self) -> str:
        """``"bwrap"`` or ``"workdir"``: the name the grading report and doctor print."""
        return "bwrap" if self.jailed else "workdir"

    def describe(self, limits: Limits) -> str:
        """What a hand-in's kernel gets here, in words."""
        if self.jailed:
            return (
                "bubblewrap jail: own mount, PID, network, IPC and UTS namespaces, course hidden, an "
                f"unused uid without capabilities; limits of [grading]: {limits.describe()}"
            )
        return (
            f"NO jail ({self.why_not}): grading refuses; with --trusted only a fresh working folder, "
            "the kernel sees your environment, network and files"
        )

    def refusal(self) -> str:
        """Why grading refuses here, and the two ways out."""
        return (
            f"grading refused: the kernel jail cannot be used here ({self.why_not}). Without it a "
            "hand-in runs with your environment (passwords, gradebook URL), your network and your /proc. "
            "Fix: run as root on Linux with bubblewrap and cgroups (`make setup` installs it; "
            "`coursekit doctor` checks), or, only on a single-user machine whose secrets a hand-in "
            "may read, `coursekit grade --trusted` (every report row then says so)."
        )


def isolation() -> Isolation:
    """The one answer to "is the jail used here?": ``COURSE_GRADING_SANDBOX=0`` turns it off."""
    from coursekit.config import environment

    if environment().sandbox == "0":
        return Isolation("COURSE_GRADING_SANDBOX=0 turned the jail off; unset it")
    return Isolation(available())


class Cgroup:
    """A memory + pids cgroup for one kernel (cgroup v1 controllers, or v2)."""

    def __init__(self, name: str, limits: Limits):
        self.name, self.limits = name, limits
        self.paths: dict[str, Path] = {}

    @staticmethod
    def controllers() -> dict[str, Path]:
        """``{"memory": dir, "pids": dir}`` of this machine (v1), or both the v2 root."""
        v1 = {c: CGROUP_ROOT / c for c in ("memory", "pids") if (CGROUP_ROOT / c / "cgroup.procs").exists()}
        if len(v1) == 2:
            if (CGROUP_ROOT / "cpu" / "cpu.cfs_quota_us").exists():
                v1["cpu"] = CGROUP_ROOT / "cpu"
            return v1
        unified = CGROUP_ROOT / "cgroup.controllers"
        if unified.exists() and {"memory", "pids"} <= set(unified.read_text().split()):
            found = {"memory": CGROUP_ROOT, "pids": CGROUP_ROOT}
            if "cpu" in unified.read_text().split():
                found["cpu"] = CGROUP_ROOT
            return found
        return {}

    def create(self) -> Cgroup:
        for controller, root in self.controllers().items():
            path = root / "coursekit" / self.name
            path.mkdir(parents=True, exist_ok=True)
            self.paths[controller] = path
        mem, pids = self.paths["memory"], self.paths["pids"]
        if (mem / "memory.limit_in_bytes").exists():  # v1
            (mem / "memory.limit_in_bytes").write_text(str(self.limits.memory_bytes))
            swap = mem / "memory.memsw.limit_in_bytes"
            if swap.exists():
                swap.write_text(str(self.limits.memory_bytes))
            else:
                (mem / "memory.swappiness").write_text("0")
        else:  # v2
            (mem / "memory.max").write_text(str(self.limits.memory_bytes))
            (mem / "memory.swap.max").write_text("0")
        (pids / "pids.max").write_text(str(self.limits.processes))
        cpu = self.paths.get("cpu")
        quota = int(self.limits.cpus * CPU_PERIOD_US)
        if cpu and (cpu / "cpu.cfs_quota_us").exists():  # v1
            (cpu / "cpu.cfs_period_us").write_text(str(CPU_PERIOD_US))
            (cpu / "cpu.cfs_quota_us").write_text(str(quota))
            (cpu / "cpu.shares").write_text(str(CPU_WEIGHT_V1))
        elif cpu and (cpu / "cpu.max").exists():  # v2 (the cpu controller enabled for coursekit/)
            (cpu / "cpu.max").write_text(f"{quota} {CPU_PERIOD_US}")
            (cpu / "cpu.weight").write_text(str(CPU_WEIGHT_V2))
        return self

    def procs_files(self) -> list[str]:
        return sorted({str(p / "cgroup.procs") for p in self.paths.values()})

    def stats(self) -> dict[str, int]:
        """``{"oom_kills": n, "forks_refused": n, "memory_peak": bytes}`` so far."""
        mem, pids = self.paths.get("memory"), self.paths.get("pids")
        out = {"oom_kills": 0, "forks_refused": 0, "memory_peak": 0}
        if mem and (mem / "memory.oom_control").exists():
            fields = dict(line.split() for line in (mem / "memory.oom_control").read_text().splitlines())
            out["oom_kills"] = int(fields.get("oom_kill", 0))
            out["memory_peak"] = int((mem / "memory.max_usage_in_bytes").read_text())
        elif mem and (mem / "memory.events").exists():
            events = dict(line.split() for line in (mem / "memory.events").read_text().splitlines())
            out["oom_kills"] = int(events.get("oom_kill", 0))
        if pids and (pids / "pids.events").exists():
            events = dict(line.split() for line in (pids / "pids.events").read_text().splitlines())
            out["forks_refused"] = int(events.get("max", 0))
        return out

    def processes(self) -> list[int]:
        found: set[int] = set()
        for path in self.paths.values():
            try:
                found |= {int(p) for p in (path / "cgroup.procs").read_text().split()}
            except OSError:
                pass
        return sorted(found)

    def remove(self) -> None:
        """Kill whatever is left in the cgroup, then remove it: nothing a hand-in started survives."""
        import signal
        import time

        for _ in range(50):
            left = self.processes()
            if not left:
                break
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.1)
        for path in self.paths.values():
            try:
                path.rmdir()
            except OSError:
                pass


def own_keyring() -> None:
    """Join a new, empty session keyring (``keyctl(KEYCTL_JOIN_SESSION_KEYRING, NULL)``): the
    grader's session keyring, and any key in it, is out of the kernel's reach. Where ``keyctl``
    is not there (no such syscall, or a container's seccomp refuses it) the kernel cannot reach
    keys either, so that is no error."""
    import ctypes
    import platform

    number = {"x86_64": 250, "aarch64": 219, "ppc64le": 288, "s390x": 280}.get(platform.machine())
    if number is not None:
        ctypes.CDLL(None, use_errno=True).syscall(number, 1, None)


def drain(fd: int) -> None:
    """Copy what a kernel writes into pipe ``fd`` to this process's standard error, in a thread."""
    import threading

    def copy() -> None:
        with os.fdopen(fd, "rb") as pipe:
            for line in pipe:
                sys.stderr.write(line.decode(errors="replace"))
            sys.stderr.flush()

    threading.Thread(target=copy, daemon=True).start()


def _bwrap_args(
    workdir: str, sockets: str, keep: list[str], disk: int, network: bool, env: dict[str, str] | None = None
) -> list[str]:
    """bubblewrap, run as root (it mounts what root can read), without a user namespace: the
    kernel then drops to the unused uid with ``setpriv``, so on the host it is that uid; ``env``
    is the kernel's whole environment (:func:`kernel_env`)."""
    args = [
        "bwrap",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--unshare-cgroup-try",
    ]
    if not network:
        args.append("--unshare-net")
    for path in SYSTEM:
        args += ["--ro-bind-try", path, path]
    # /tmp first: what is kept may lie under /tmp (a course checked out there), and a later
    # tmpfs would hide it
    args += ["--perms", "1777", "--size", str(disk), "--tmpfs", "/tmp"]
    parents = sorted(
        {str(p) for path in keep for p in Path(path).parents if str(p) != "/"}, key=lambda p: p.count("/")
    )
    for folder in parents:  # bwrap would make them 0700 (like /root): the uid could not pass
        if not any(folder == s or folder.startswith(s + "/") for s in SYSTEM):
            args += ["--perms", "0755", "--dir", folder]
    for path in keep:
        args += ["--ro-bind", path, path]
    for folder in ("/home",):
        args += ["--perms", "0755", "--dir", folder]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += [
        "--perms",
        "1777",
        "--size",
        str(disk),
        "--tmpfs",
        HOME,
        "--ro-bind",
        workdir,
        INPUT,
        "--bind",
        sockets,
        sockets,
        "--chdir",
        HOME,
    ]
    for key, value in (env or {}).items():
        args += ["--setenv", key, value]
    return args


def kernel_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The kernel's whole environment: what grading sets (fast mode, threads, ``extra``: the
    Keras backend) and nothing else."""
    from coursekit.config import environment, inherited  # (not in the jail's program: no pydantic there)

    env = inherited(ENV_KEPT)
    env.update(extra or {})
    data = environment().data_dir
    if data:
        env["COURSE_DATA_DIR"] = os.path.realpath(data)
    # PYTHONSAFEPATH: the kernel's folder (the hand-in's files) is not on the import path while
    # the kernel starts, so a hand-in file named ipykernel_launcher.py cannot replace the kernel
    env.update(
        PYTHONSAFEPATH="1",
        HOME=HOME,
        USER="student",
        LOGNAME="student",
        TMPDIR="/tmp",
        LANG="C.UTF-8",
        PATH=os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]),
        MPLCONFIGDIR=f"{HOME}/.matplotlib",
        IPYTHONDIR=f"{HOME}/.ipython",
        JUPYTER_RUNTIME_DIR=f"{HOME}/.jupyter",
        XDG_CACHE_HOME=f"{HOME}/.cache",
    )
    return env


def kept_paths() -> list[str]:
    """What the kernel needs to run: Python, the installed packages, course_utils, the data.

    course_utils is found as the kernel finds it: the installed package (the grading worker runs
    with ``python -P``, so a ``course_utils/`` folder in its working directory does not count).
    """
    from coursekit.config import environment

    paths = [sys.prefix, sys.base_prefix]
    spec = importlib.util.find_spec("course_utils")
    if spec and spec.submodule_search_locations:
        paths += list(spec.submodule_search_locations)
    if environment().data_dir:
        paths.append(str(environment().data_dir))
    return [os.path.realpath(p) for p in paths if p and os.path.exists(p)]


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


class Jail:
    """One hand-in's jail: a working folder with the hand-in's data files, an unused uid, a folder
    for the kernel's sockets, a cgroup holding ``limits``, and the kernel's whole environment
    (:func:`kernel_env` plus ``extra``). Two ways in: :meth:`command` with ``hold=False`` starts
    the kernel command in it (cold); with ``hold=True`` it holds the jail and :meth:`warm_request`
    tells a zygote where to fork the kernel (warm). Unjailed (``--trusted``): the folder only.
    ``close`` ends everything it made, and whatever the hand-in started."""

    def __init__(self, source: str | None, limits: Limits, extra: dict[str, str] | None, jailed: bool):
        self.limits, self.jailed = limits, jailed
        self.env = kernel_env(extra)
        self.uid = free_uid() if jailed else None
        self.workdir = make_workdir(source, self.uid)
        self.sockets: str | None = None
        self.cgroup: Cgroup | None = None
        if jailed:
            self.sockets = tempfile.mkdtemp(prefix="course-kernel-")
            os.chown(self.sockets, self.uid, self.uid)
            os.chmod(self.sockets, 0o700)
            self.cgroup = Cgroup(f"k{os.getpid()}-{os.urandom(4).hex()}", limits).create()

    def command(self, hold: bool = False) -> list[str]:
        """The command, run as root, that builds the jail and then starts the kernel command after it
        (cold) or, with ``hold``, a holder that keeps the jail for a warm kernel."""
        cmd = [
            sys.executable,
            "-P",
            "-m",
            "coursekit.grade.jail",
            "--workdir",
            self.workdir,
            "--sockets",
            self.sockets,
            "--uid",
            str(self.uid),
            "--disk",
            str(self.limits.disk_bytes),
        ]
        for key, value in self.env.items():  # the jail's program reads no environment of its own
            cmd += ["--env", f"{key}={value}"]
        if self.limits.network:
            cmd.append("--network")
        if hold:
            cmd.append("--hold")
        for path in self.cgroup.procs_files():
            cmd += ["--cgroup-procs", path]
        for path in kept_paths():
            cmd += ["--keep", path]
        return [*cmd, "--"]

    def warm_request(self) -> dict:
        """What a zygote needs to fork a kernel into this (held) jail (:func:`coursekit.grade.warm.serve`)."""
        return {
            "cgroup_procs": self.cgroup.procs_files(),
            "disk": self.limits.disk_bytes,
            "uid": self.uid,
            "env": self.env,
            "home": HOME,
            "pidfile": os.path.join(self.sockets, "kernel.pid"),
            "connection_file": os.path.join(self.sockets, "kernel.json"),
        }

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)
        if self.cgroup is not None:
            self.cgroup.remove()  # nothing the hand-in started survives its grading
        if self.sockets:
            shutil.rmtree(self.sockets, ignore_errors=True)


def kernel_manager(jail: Jail, zygote=None, on_warm=None):
    """A Jupyter kernel manager whose kernel starts in ``jail``: cold, or forked by ``zygote``
    (:class:`coursekit.grade.warm.Zygote`); ``on_warm(zygote)`` is told after each fork."""
    from jupyter_client.manager import AsyncKernelManager

    class JailKernelManager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            # a SIGINT would reach bubblewrap, not the kernel: interrupt over the control channel
            self.kernel_spec.interrupt_mode = "message"
            return [*jail.command(hold=zygote is not None), *super().format_kernel_cmd(extra_arguments)]

        async def _async_launch_kernel(self, kernel_cmd, **kw):
            # the kernel writes its messages into a pipe, never into the worker's log file itself
            # (which it could truncate): drained into the log by a thread
            if zygote is not None:
                zygote.start()  # first: the holder below waits for a forked kernel
            read, write = os.pipe()
            kw["stdout"] = kw["stderr"] = write
            try:
                await super()._async_launch_kernel(kernel_cmd, **kw)
            finally:
                os.close(write)
            drain(read)
            if zygote is None:
                return
            import asyncio

            process = self.provisioner.process
            ready = os.path.join(jail.sockets, "ready")
            deadline = time.monotonic() + 60
            while not os.path.exists(ready):  # the holder has copied the hand-in's files
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the grading jail did not start (exit {process.poll()})")
                await asyncio.sleep(0.01)
            zygote.fork(dict(jail.warm_request(), bwrap_pid=process.pid))
            if on_warm is not None:
                on_warm(zygote)

    return JailKernelManager


# A warm kernel's holder (coursekit.grade.warm): ready once the hand-in's files are in HOME, then
# alive as long as the kernel whose pid the kernel writes; 60 s for the kernel to appear.
HOLDER = """
import os, shutil, sys, time
sockets = sys.argv[1]
try:
    shutil.copytree(sys.argv[2], sys.argv[3], dirs_exist_ok=True, symlinks=True)
except OSError:
    pass
open(os.path.join(sockets, "ready"), "w").close()
pidfile = os.path.join(sockets, "kernel.pid")
for _ in range(3000):
    if os.path.exists(pidfile) and open(pidfile).read().strip():
        break
    time.sleep(0.02)
else:
    sys.exit(3)
pid = int(open(pidfile).read())
while True:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        break
    time.sleep(0.05)
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="start a kernel in the grading jail (as root)")
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--sockets", required=True)
    parser.add_argument("--uid", type=int, required=True)
    parser.add_argument("--disk", type=int, required=True)
    parser.add_argument("--network", action="store_true")
    parser.add_argument("--hold", action="store_true", help="hold the jail for a warm kernel")
    parser.add_argument("--cgroup-procs", action="append", default=[])
    parser.add_argument("--keep", action="append", default=[])
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE, the kernel's environment")
    parser.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    for procs in args.cgroup_procs:  # from here on, this process and all it starts are counted
        Path(procs).write_text(str(os.getpid()))
    resource.setrlimit(resource.RLIMIT_FSIZE, (args.disk, args.disk))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    own_keyring()
    if "-f" in cmd:  # the connection file lies in the grader's runtime folder: copy it to the sockets
        i = cmd.index("-f") + 1
        conn = Path(args.sockets) / "kernel.json"
        shutil.copy(cmd[i], conn)
        os.chown(conn, args.uid, args.uid)
        cmd[i] = str(conn)
    drop = [
        "setpriv",
        f"--reuid={args.uid}",
        f"--regid={args.uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]
    start = ["/bin/sh", "-c", f'cp -R {INPUT}/. {HOME}/ 2>/dev/null; exec "$@"', "kernel", *cmd]
    if args.hold:
        start = [sys.executable, "-I", "-S", "-c", HOLDER, args.sockets, INPUT, HOME]
    env = dict(item.split("=", 1) for item in args.env)
    bwrap = _bwrap_args(args.workdir, args.sockets, args.keep, args.disk, args.network, env)
    full = [*bwrap, "--seccomp", str(seccomp.memfd()), "--", *drop, *start]
    os.execvp(full[0], full)


if __name__ == "__main__":
    main()
