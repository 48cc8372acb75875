"""Warm kernels: each hand-in's kernel forked from a process that has already imported the
framework, then moved into that hand-in's own jail.

A fresh kernel per hand-in spends most of its seconds importing what every hand-in imports
(TensorFlow about 3.5 s, PyTorch about 2 s, IPython 0.5 s on this course's 2-core machine). A
*zygote* process, one per grading worker and assignment, imports those modules once (the ones
the assignment's locked setup cells import, read from the instructor's release notebook) and
waits. For each hand-in:

1. :mod:`coursekit.grade.jail` starts bubblewrap exactly as for a cold kernel (the same
   cgroup, rlimits, namespaces, binds, tmpfs and clean environment), but the command inside is
   a *holder*: it copies the hand-in's files into the home folder, says it is ready, and lives
   as long as the kernel does, so the kernel manager sees the kernel die when it dies;
2. the zygote forks; the child enters the hand-in's cgroup, sets the same rlimits, joins the
   holder's IPC, UTS, network, cgroup, PID and mount namespaces (``setns``), forks once more
   so the kernel is inside the PID namespace, and there drops to the hand-in's unused uid
   with no capabilities, ``no_new_privs``, the jail's clean environment, and starts the
   IPython kernel on the hand-in's connection file.

Every hand-in still has its own fresh kernel process, jail, cgroup and uid; what it shares with
the others is only the read-only state of the modules imported before the fork (copy-on-write
memory). The zygote holds no secret: it starts with the jail's clean environment and no file
of the course open. ``[grading] warm_kernels = false`` in course.toml turns this off.
"""

from __future__ import annotations

import ast
import atexit
import ctypes
import functools
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from coursekit.grade import seccomp  # imported here: inside the jail coursekit is not there
from coursekit.grade.jail import own_keyring

# always imported: the kernel itself
KERNEL_MODULES = (
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "IPython.core.interactiveshell",
    "matplotlib_inline.backend_inline",
)
NAMESPACES = ("ipc", "uts", "net", "cgroup", "pid", "mnt")  # mnt last: it changes the root
PR_SET_PDEATHSIG, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 24, 38
FILTER = b""  # the jail's seccomp program (serve builds it)


@functools.lru_cache(maxsize=16)
def setup_modules(release: Path | str, mtime: float = 0.0) -> tuple[str, ...]:
    """The modules the released notebook of an assignment imports, in any of its code cells (the
    instructor's notebook: setup, the given code of the answers, the tests). Read once per
    notebook and ``mtime`` (its modification time), not once per hand-in."""
    import nbformat

    return notebook_modules(nbformat.read(release, as_version=4).cells)


def notebook_modules(cells) -> tuple[str, ...]:
    """The modules that the top-level import statements of these notebook cells name."""
    found: list[str] = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        try:
            source = cell.get("source", "")
            lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
            tree = ast.parse("\n".join(lines))
        except (SyntaxError, ValueError, RecursionError, MemoryError):  # a hand-in's cell Python cannot
            continue  # parse (nested too deeply: RecursionError, MemoryError) fails in the kernel, not here
        for node in tree.body:
            if isinstance(node, ast.Import):
                found += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.append(node.module)
    return tuple(dict.fromkeys(found))


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    return libc


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _holder_pid(bwrap_pid: int) -> int:
    """The holder's pid: bwrap's child is the namespace's init, whose child is the holder."""
    pid = bwrap_pid
    for _ in range(2):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if not children:
            raise OSError(f"process {pid} of the jail has no child yet")
        pid = int(children[0])
    return pid


def _kernel_child(request: dict) -> None:
    """In the zygote's child: into the hand-in's jail, then the kernel (never returns)."""
    libc = _libc()
    status = 1
    try:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # the zygote's stdin and stdout are its pipes to the grader
        os.dup2(2, 1)
        os.closerange(3, 65536)
        for procs in request["cgroup_procs"]:  # from here on counted and limited
            Path(procs).write_text(str(os.getpid()))
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (request["disk"], request["disk"]))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        holder = _holder_pid(request["bwrap_pid"])
        fds = {
            ns: os.open(f"/proc/{holder}/ns/{ns}", os.O_RDONLY)
            for ns in NAMESPACES
            if os.path.exists(f"/proc/{holder}/ns/{ns}")
        }
        for ns, fd in fds.items():
            _check(libc.setns(fd, 0), f"setns {ns}")
            os.close(fd)
        pid = os.fork()  # the kernel: inside the PID namespace
        if pid == 0:
            _start_kernel(libc, request)
        status = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])
    except BaseException as err:  # any: reported on the grader's log, then exit
        print(f"warm kernel: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
    finally:
        os._exit(status if isinstance(status, int) and status >= 0 else 1)


def _start_kernel(libc, request: dict) -> None:
    status = 1
    try:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        uid = request["uid"]
        for cap in range(64):  # no capability can come back, whatever is executed
            if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
                break
        own_keyring()  # not the grader's session keyring
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        _check(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        seccomp.install(FILTER)  # the same filter bubblewrap loads for a cold kernel
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["home"])
        Path(request["pidfile"]).write_text(str(os.getpid()))  # the holder waits on this pid
        _reseed()
        sys.argv = ["ipykernel_launcher", "-f", request["connection_file"]]
        from ipykernel.kernelapp import IPKernelApp

        app = IPKernelApp.instance()
        before = sys.stdout, sys.stderr
        app.initialize(sys.argv[1:])
        _rebind_log_streams(*before)
        app.start()
        status = 0
    except SystemExit as done:
        status = done.code if isinstance(done.code, int) else 0
    except BaseException as err:
        print(f"warm kernel: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
    finally:
        os._exit(status)


def _reseed() -> None:
    """Forked processes share the zygote's random state: give each kernel its own, as a fresh one has."""
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    if "torch" in sys.modules:
        sys.modules["torch"].seed()


def _undo_import_setup() -> None:
    """What a module decided at import from the zygote's own situation, to be decided again in
    the kernel: TensorFlow's logger writes to stdout in an interactive kernel and to stderr in a
    plain process, and nbgrader fails a test cell that printed to stderr."""
    tf_logging = sys.modules.get("tensorflow.python.platform.tf_logging")
    if tf_logging is not None and tf_logging._logger is not None:
        for handler in list(tf_logging._logger.handlers):
            tf_logging._logger.removeHandler(handler)
        tf_logging._logger = None


def _rebind_log_streams(stdout, stderr) -> None:
    """Logging handlers made before the fork write to the zygote's streams: point them at the
    kernel's, as if the module had been imported in the kernel."""
    import logging

    loggers = [
        logging.getLogger(),
        *[lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)],
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
                if handler.stream is stdout:
                    handler.setStream(sys.stdout)
                elif handler.stream is stderr:
                    handler.setStream(sys.stderr)


def serve(modules: list[str]) -> int:
    """The zygote: import ``modules``, then fork a kernel per request line on stdin."""
    global FILTER
    FILTER = seccomp.program()  # built before any hand-in: the child only loads it
    loaded, failed = [], []
    for name in (*KERNEL_MODULES, *modules):
        try:
            importlib.import_module(name)
            loaded.append(name)
        except BaseException as err:  # any: the kernel imports it itself, or fails there
            failed.append(f"{name} ({type(err).__name__})")
    _undo_import_setup()
    answers = sys.stdout
    answers.write(json.dumps({"ready": True, "loaded": loaded, "failed": failed}) + "\n")
    answers.flush()
    for line in sys.stdin:
        while True:  # reap the children of earlier hand-ins
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            _kernel_child(request)
        answers.write(json.dumps({"pid": pid}) + "\n")
        answers.flush()
    return 0


class Zygote:
    """The grader's handle on one zygote process (started on first use, restarted if it died)."""

    def __init__(self, modules: Sequence[str], env: dict[str, str]):
        self.modules, self.env = list(modules), env
        self.proc: subprocess.Popen | None = None
        self.loaded: list[str] = []
        self.failed: list[str] = []
        self.start_s = 0.0  # seconds the last fork() spent starting this zygote (0: it was running)
        self._lock = threading.Lock()
        self._config = tempfile.mkdtemp(prefix="course-zygote-")

    def _start(self) -> None:
        env = dict(self.env, MPLCONFIGDIR=self._config, HOME=self._config, XDG_CACHE_HOME=self._config)
        cmd = [sys.executable, "-P", "-m", "coursekit.grade.warm", *self.modules]
        read, write = os.pipe()  # its kernels' messages: a pipe, not the worker's log file
        try:
            self.proc = subprocess.Popen(
                cmd,
                env=env,
                cwd="/",
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=write,
                text=True,
                close_fds=True,
            )
        finally:
            os.close(write)
        from coursekit.grade.jail import drain

        drain(read)
        hello = json.loads(self.proc.stdout.readline() or "{}")
        if not hello.get("ready"):
            raise OSError("the warm-kernel process did not start (see the grading worker's log)")
        self.loaded, self.failed = hello["loaded"], hello["failed"]

    def start(self) -> None:
        """Start this zygote unless it runs: before the hand-in's jail starts, whose holder waits
        only a minute for its kernel (importing TensorFlow on a loaded machine can take longer)."""
        with self._lock:
            self.start_s = 0.0
            if self.proc is None or self.proc.poll() is not None:
                started = time.perf_counter()
                self._start()
                self.start_s = time.perf_counter() - started

    def fork(self, request: dict) -> int:
        """Fork a kernel into the jail described by ``request``; the child's pid on this host."""
        with self._lock:
            if self.proc is None or self.proc.poll() is not None:
                started = time.perf_counter()
                self._start()
                self.start_s += time.perf_counter() - started
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
            answer = self.proc.stdout.readline()
        if not answer:
            raise OSError("the warm-kernel process died")
        return int(json.loads(answer)["pid"])

    def close(self) -> None:
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=10)
            except Exception:  # any: then it is killed
                self.proc.kill()
            self.proc = None
        import shutil

        shutil.rmtree(self._config, ignore_errors=True)


_ZYGOTES: dict[tuple, Zygote] = {}
KEPT = 2  # zygotes a worker keeps: one assignment at a time, on up to two Keras backends


@atexit.register
def _close_all() -> None:
    """Close this process's zygotes when it exits; each removes its folder (``course-zygote-*``)."""
    while _ZYGOTES:
        _ZYGOTES.popitem()[1].close()


def zygote(modules: Sequence[str], env: dict[str, str]) -> Zygote:
    """This process's zygote for these modules and environment (one per assignment, Keras
    backend and grading worker; the least recently used beyond :data:`KEPT` is closed)."""
    key = (tuple(modules), tuple(sorted(env.items())))
    found = _ZYGOTES.pop(key, None) or Zygote(modules, env)
    _ZYGOTES[key] = found  # now the most recently used
    while len(_ZYGOTES) > KEPT:
        _ZYGOTES.pop(next(iter(_ZYGOTES))).close()
    return found


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1:]))
