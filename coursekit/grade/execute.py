"""nbgrader's Execute step, hardened for grading (configured in nbgrader_config.py).

``GuardedExecute`` replaces ``nbgrader.preprocessors.Execute`` in
``Autograde.autograde_preprocessors``. It executes the notebook exactly as nbgrader does,
and in addition

* before the first cell it takes a snapshot of the kernel's grading-relevant state:
  IPython's input and AST transformers, event callbacks, custom exception handler,
  the builtins;
* before every autograded test cell it runs a *guard*: it undoes what student code changed
  in that state (an input transformer that deletes ``assert`` lines from later cells,
  ``set_custom_exc`` that swallows the AssertionError, ``sys.settrace``, a replaced
  ``run_cell``, a patched builtin), so the test runs as written. The guard prints a random
  token; when it does not come back the notebook is reported as interfering with grading;
* when the kernel dies (``os._exit``, a segfault, out of memory) it records in which cell;
* a cell the kernel went idle on without answering (IPython failed outside the cell: code nested
  too deeply for Python's compiler) fails after :data:`NO_REPLY_S`, not after the cell's time
  limit;
* the kernel runs in its own jail (:mod:`coursekit.grade.jail`), which hides the course, the
  gradebook and the other students; each hidden test is decided by the judge outside it
  (:mod:`coursekit.grade.judge`);
* a kernel's output is capped as it arrives, before nbclient stores it: the worker reads no
  single message above :func:`max_message_bytes` (zmq refuses it), and keeps at most
  :func:`kept_bytes` of each cell's output (the rest is counted, and the cell says so), so a
  hand-in that prints gigabytes costs the worker neither memory nor log. ``LimitOutputBytes``
  (:mod:`coursekit.grade.limits`) then cuts what was kept to the course's caps.

Events are appended, one JSON object a line, to the file named by ``$COURSE_GRADING_STATUS``
(``coursekit grade`` sets it per student and reads it back). Without the variable the
events are only logged.

Limits: the guard runs in the student's process. It defeats the generic tricks above, not a
notebook written against this very guard (one that rewrites the guard's code, or patches a
class or module the guard itself uses). Only process isolation stops that.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import importlib.util
import json
import os
import secrets
import time
from dataclasses import dataclass, field

from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_output
from nbgrader.preprocessors import Execute

from coursekit.config import Grading, environment
from coursekit.errors import CourseError
from coursekit.grade import jail, judge

# Instance attributes of the shell that would let student code rewrite or hide what runs.
_METHODS = (
    "run_cell",
    "run_cell_async",
    "run_ast_nodes",
    "run_code",
    "transform_cell",
    "transform_ast",
    "showtraceback",
    "_showtraceback",
    "should_run_async",
    "CustomTB",
    "user_expressions",
)

_SNAPSHOT = r"""
def __course_grader_snapshot():
    import builtins, sys, types
    ip = get_ipython()
    state = types.ModuleType("__course_grader_state__")
    state.builtins = dict(vars(builtins))
    state.methods = {name: vars(ip)[name] for name in METHODS if name in vars(ip)}
    state.shell_class = type(ip)
    state.classes = {(cls, name): vars(cls)[name] for cls in type(ip).__mro__ for name in METHODS
                     if name in vars(cls)}
    mgr = ip.input_transformer_manager
    state.cleanup = list(mgr.cleanup_transforms)
    state.line = list(mgr.line_transforms)
    state.token = list(mgr.token_transformers)
    state.post = list(ip.input_transformers_post)
    state.ast = list(ip.ast_transformers)
    state.events = {name: list(cbs) for name, cbs in ip.events.callbacks.items()}
    sys.modules["__course_grader_state__"] = state
__course_grader_snapshot()
del __course_grader_snapshot
"""

_GUARD = r"""
def __course_grader_guard(token):
    import builtins, sys
    state = sys.modules["__course_grader_state__"]
    ip = get_ipython()
    fixed = []
    for name in METHODS:
        if name in state.methods and vars(ip).get(name) is not state.methods[name]:
            setattr(ip, name, state.methods[name])
            fixed.append(name)
        elif name not in state.methods and name in vars(ip):
            del vars(ip)[name]
            fixed.append(name)
    if type(ip) is not state.shell_class:
        ip.__class__ = state.shell_class
        fixed.append("the shell's class")
    for cls in type(ip).__mro__:  # a method patched on a class of the shell, not on the shell
        for name in METHODS:
            saved = state.classes.get((cls, name))
            if vars(cls).get(name) is not saved:
                if saved is None:
                    delattr(cls, name)
                else:
                    setattr(cls, name, saved)
                fixed.append(f"{cls.__name__}.{name}")
    if ip.custom_exceptions:
        ip.custom_exceptions = ()
        fixed.append("set_custom_exc")
    mgr = ip.input_transformer_manager
    for attr, saved in (("cleanup_transforms", state.cleanup), ("line_transforms", state.line),
                        ("token_transformers", state.token)):
        if list(getattr(mgr, attr)) != saved:
            setattr(mgr, attr, list(saved))
            fixed.append("input transformers")
    if list(ip.input_transformers_post) != state.post:
        ip.input_transformers_post = list(state.post)
        fixed.append("input transformers")
    if list(ip.ast_transformers) != state.ast:
        ip.ast_transformers = list(state.ast)
        fixed.append("AST transformers")
    for name, cbs in ip.events.callbacks.items():
        extra = [cb for cb in cbs if cb not in state.events.get(name, [])
                 and not getattr(cb, "__module__", "").startswith(("matplotlib", "ipykernel", "IPython"))]
        for cb in extra:
            cbs.remove(cb)
            fixed.append(f"event {name}")
    if sys.gettrace() is not None or sys.getprofile() is not None:
        sys.settrace(None)
        sys.setprofile(None)
        fixed.append("sys.settrace")
    for key, value in state.builtins.items():
        if not key.startswith("_") and key != "input" and vars(builtins).get(key, object()) is not value:
            setattr(builtins, key, value)
            fixed.append(f"builtins.{key}")
    print(token, *sorted(set(fixed)), sep="|")
__course_grader_guard(TOKEN)
del __course_grader_guard
"""


_BUFFER: list[dict] | None = None  # events held back while a run may still be replaced


@contextlib.contextmanager
def _recording_into(events: list[dict]):
    """Events recorded inside go into ``events``, not the status file (a run that may not count)."""
    global _BUFFER
    held, _BUFFER = _BUFFER, events
    try:
        yield
    finally:
        _BUFFER = held


def record(event: dict) -> None:
    """Append one event to ``$COURSE_GRADING_STATUS`` (if set)."""
    if _BUFFER is not None:
        _BUFFER.append(event)
        return
    path = environment().status_file
    if path:
        with open(path, "a", encoding="utf-8") as f:
            f.write(json.dumps(event) + "\n")


def kept_bytes(text_bytes: int, total_bytes: int) -> int:
    """Output of one cell the worker keeps as it arrives (LimitOutputBytes cuts it further)."""
    return 2 * (text_bytes + total_bytes)


def max_message_bytes(text_bytes: int, total_bytes: int) -> int:
    """The largest single output message the worker reads from a kernel (a larger one is refused
    by zmq before it is received: its output is lost, and the cell says so)."""
    return max(32 * 2**20, 4 * (text_bytes + total_bytes))


IOPUB_QUEUE = 100  # output messages zmq may hold for the worker (ZMQ_RCVHWM; its default is 1000)


def _message_size(msg: dict) -> int:
    """Characters of output a kernel message carries (text, data, traceback)."""
    content = msg.get("content") or {}
    size = len(content.get("text") or "") + len(str(content.get("evalue") or ""))
    size += sum(len(str(v)) for v in (content.get("data") or {}).values())
    return size + sum(len(str(line)) for line in content.get("traceback") or [])


def capped_client(base):
    """A kernel-client class over ``base`` whose iopub socket refuses messages above
    ``max_message`` bytes and queues at most :data:`IOPUB_QUEUE` of them; ``refused()`` says how
    many times zmq dropped the kernel's output connection since it was last asked (a refused
    message disconnects; zmq connects again at once)."""
    import zmq

    class CappedKernelClient(base):
        max_message = 32 * 2**20
        _monitor = _monitor_sync = None

        def connect_iopub(self, identity=None):
            options = self.context.sockopts  # the context's options for sockets made from now on
            saved = dict(options)
            options[zmq.MAXMSGSIZE] = self.max_message
            options[zmq.RCVHWM] = IOPUB_QUEUE
            try:
                sock = super().connect_iopub(identity)
            finally:
                options.clear()
                options.update(saved)
            try:
                self._monitor = sock.get_monitor_socket(zmq.EVENT_DISCONNECTED)
                self._monitor.linger = 0
                self._monitor_sync = zmq.Socket.shadow(self._monitor.underlying)
            except zmq.ZMQError:  # no monitor: messages are still refused, only not counted
                self._monitor = self._monitor_sync = None
            return sock

        def refused(self) -> int:
            count = 0
            while self._monitor_sync is not None:
                try:
                    self._monitor_sync.recv_multipart(zmq.NOBLOCK)
                except zmq.ZMQError:
                    break
                count += 1
            if count:  # zmq ends a connection that broke its protocol (the size) for good: connect again
                sock, url = self.iopub_channel.socket, self._make_url("iopub")
                with contextlib.suppress(zmq.ZMQError):
                    sock.disconnect(url)
                sock.connect(url)
                time.sleep(0.5)  # the kernel's side has seen the subscription before the next cell
            return count

        def stop_channels(self):
            if self._monitor is not None:
                self._monitor.close(linger=0)
                self._monitor = self._monitor_sync = None
            super().stop_channels()

    return CappedKernelClient


def _is_autograded_test(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
    return "".join(parts)


def _cell_failure(cell, index: int) -> str | None:
    """What went wrong in executed cell number ``index``, in words: it raised, or it is a test cell
    that wrote to stderr (which nbgrader counts as failed); None when it ran cleanly."""
    if cell.cell_type != "code":
        return None
    grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") or f"cell {index}"
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return f"cell {index} ({grade_id}) raised {out.get('ename')}: {str(out.get('evalue'))[:160]}"
        stderr = out.get("output_type") == "stream" and out.get("name") == "stderr"
        if stderr and _is_autograded_test(cell):
            return f"test cell {index} ({grade_id}) wrote to stderr"
    return None


def _first_failure(nb) -> str | None:
    """The first cell of an executed notebook that did not run cleanly (:func:`_cell_failure`)."""
    return next((f for i, c in enumerate(nb.cells, start=1) if (f := _cell_failure(c, i))), None)


class _FirstRunFailed(Exception):
    """The run on Keras's PyTorch backend met an error: the TensorFlow run decides, stop this one."""


# The run on Keras's PyTorch backend is only a shortcut: a cell that needs longer than this, or a
# hand-in longer than FIRST_RUN_S, is run again on TensorFlow with the course's own limits, so an
# endless loop costs this much more, not a second full cell timeout.
FIRST_RUN_CELL_S, FIRST_RUN_S = 60, 300

# A kernel sends a cell's reply before it says "idle". When IPython fails outside the cell (a
# RecursionError while compiling code nested thousands deep), ipykernel logs it, goes idle and
# never replies: waiting for the reply would cost the cell's whole time limit, for nothing.
NO_REPLY_S = 5.0
NO_REPLY = (
    "the kernel went idle without answering this cell: IPython could not run it (for example, code "
    "nested too deeply for Python's compiler). The cell counts as failed; the next cells still run."
)


@dataclass
class _Run:
    """The state of one execution of a hand-in (the shortcut on Keras's PyTorch backend, or the
    run that counts): its jail, its clocks and limits, what its cells cost, the output read."""

    jail: jail.Jail
    cell_timeout: int | None  # seconds per cell (None: no limit)
    handin_timeout: int | None
    first: bool  # the shortcut run: its first error hands the hand-in to the TensorFlow run
    kept_bytes: int
    max_message: int
    token: str = field(default_factory=lambda: "course-grader-guard-" + secrets.token_hex(16))
    t0: float = field(default_factory=time.perf_counter)
    ready: float | None = None  # seconds until the kernel answered
    cells: list[list] = field(default_factory=list)  # [cell number, grade id or first line, seconds]
    hidden_s: float = 0.0
    judge_s: float = 0.0
    judge_calls: int = 0
    snapshot_taken: bool = False
    stopped: str | None = None  # why the remaining cells are not run (a limit was reached)
    limit_cells: dict[str, int] = field(default_factory=dict)  # each limit: the cell it first bit
    received: int = 0  # output bytes of the current cell kept, dropped, refused messages
    dropped: int = 0
    refused_n: int = 0
    judging: tuple | None = None  # (index, test cell) while the judge asks the kernel

    def __post_init__(self) -> None:
        self.deadline = time.monotonic() + (self.handin_timeout or 10**9)

    def timing(self) -> dict:
        """Where this run's seconds went (one "timing" event, read by benchmarks/bench_autograde.py)."""
        return {
            "event": "timing",
            "kernel_start_s": round(self.ready or 0.0, 3),
            "hidden_s": round(self.hidden_s, 3),
            "cells": self.cells,
            "judge_s": round(self.judge_s, 3),
            "judge_calls": self.judge_calls,
            "execute_s": round(time.perf_counter() - self.t0, 3),
        }


class GuardedExecute(Execute):
    """nbgrader's Execute with a tamper guard before each test cell, a judge outside the kernel and
    kernel-death reports; each execution's state lives in its own :class:`_Run`."""

    _run: _Run | None = None

    def preprocess(self, nb, resources=None, km=None):
        resources = resources if resources is not None else {}
        self._course_root = jail.course_root(resources.get("metadata", {}).get("path"))
        name = self._name = resources.get("nbgrader", {}).get("assignment")
        self._grading = self._settings(name)
        self._isolation = jail.isolation()
        # the kernel is killed when the last cell is done: a graceful shutdown waited 1-2 s per
        # hand-in for a kernel whose state nobody reads, and the cgroup then ends what it started
        self.shutdown_kernel = "immediate"
        if self._keras_backend(nb) != "torch":
            return self._execute(nb, resources, km, {})
        # Keras on its PyTorch backend first: a fit costs no TensorFlow tracing. Any error in
        # that run (a cell that raised, a test that failed or wrote to stderr) and the hand-in is
        # executed again on TensorFlow, the backend the students use, and that run counts.
        events: list[dict] = []
        first = copy.deepcopy(nb)
        started = time.perf_counter()
        try:
            with _recording_into(events):
                result = self._execute(first, resources, km, {"KERAS_BACKEND": "torch"})
            failure = _first_failure(first)
        except _FirstRunFailed as stopped:  # at the first error: only the TensorFlow run can count
            failure = str(stopped)
        except Exception as err:  # any: the TensorFlow run below decides
            failure = f"the run stopped: {type(err).__name__}: {str(err)[:200]}"
        if failure is None:
            for event in events:
                record(event)
            record({"event": "keras_backend", "backend": "torch"})
            return result
        record(
            {
                "event": "keras_backend",
                "backend": "tensorflow",
                "fallback": failure,
                "torch_run_s": round(time.perf_counter() - started, 3),
                "zygote_start_s": sum(e.get("zygote_start_s", 0.0) for e in events if e["event"] == "warm"),
            }
        )
        self.log.info("Graded again on TensorFlow: on the torch backend %s", failure)
        return self._execute(nb, resources, km, {"KERAS_BACKEND": "tensorflow"})

    def _keras_backend(self, nb) -> str | None:
        """ "torch" where this hand-in may run first on Keras's PyTorch backend: the course allows
        it, the jail sets the kernel's environment, the assignment uses Keras, and neither it nor
        the hand-in imports TensorFlow itself."""
        from coursekit.grade import warm

        settings = self._grading
        if settings is None or settings.keras_backend != "torch" or not self._isolation.jailed:
            return None
        release = self._release()
        if not os.path.exists(release) or importlib.util.find_spec("torch") is None:
            return None
        given = warm.setup_modules(release, os.path.getmtime(release))
        handed_in = warm.notebook_modules(nb.cells)
        if "keras" not in {m.split(".")[0] for m in given}:
            return None
        if {m.split(".")[0] for m in (*given, *handed_in)} & {"tensorflow", "tf_keras"}:
            record(
                {
                    "event": "keras_backend",
                    "backend": "tensorflow",
                    "reason": "the notebook imports TensorFlow",
                }
            )
            return None
        return "torch"

    def _new_run(self, source: str | None, env: dict[str, str]) -> _Run:
        """The limits of this assignment (course.toml) and a fresh jail for one execution."""
        settings = self._grading
        cell_timeout = self.timeout
        if settings is not None and environment().cell_timeout_s is None:
            cell_timeout = settings.cell_timeout_s  # this assignment's own limit (course.toml)
        handin_timeout = settings.handin_timeout_s if settings else None
        first = env.get("KERAS_BACKEND") == "torch"
        if first:
            cell_timeout = min(cell_timeout or FIRST_RUN_CELL_S, FIRST_RUN_CELL_S)
            handin_timeout = min(handin_timeout or FIRST_RUN_S, FIRST_RUN_S)
        limits_of = settings or Grading()  # without course.toml: Grading's documented defaults
        text_bytes, total_bytes = limits_of.output_text_bytes, limits_of.output_total_bytes
        # as many cores as the threads `grade --jobs` gave this kernel (cores / jobs)
        cpus = float(environment().threads or os.cpu_count() or 1)
        limits = jail.Limits.of(limits_of, cpus)
        isolation = self._isolation
        if not isolation.jailed and not environment().trusted:  # also nbgrader's own autograde button
            raise CourseError(isolation.refusal())
        cage = jail.Jail(source, limits, env, jailed=isolation.jailed)
        if isolation.jailed:
            record({"event": "limits", "on": limits.describe()})
        else:
            why = (
                f"{isolation.why_not}; TRUSTED single-user mode (--trusted): the kernel sees your "
                "environment and network"
            )
            record(
                {
                    "event": "limits",
                    "off": f"memory, processes, disk, network and environment limits are off ({why})",
                }
            )
        record({"event": "sandbox", "mode": isolation.mode, "uid": cage.uid})
        return _Run(
            jail=cage,
            cell_timeout=cell_timeout,
            handin_timeout=handin_timeout,
            first=first,
            kept_bytes=kept_bytes(text_bytes, total_bytes),
            max_message=max_message_bytes(text_bytes, total_bytes),
        )

    def _execute(self, nb, resources, km, env: dict[str, str]):
        """One run of the hand-in in a fresh kernel, jail and cgroup; ``env``: the Keras backend."""
        meta = resources.setdefault("metadata", {})
        source = meta.get("path")
        run = self._run = self._new_run(source, env)
        meta["path"] = run.jail.workdir
        try:
            return super().preprocess(nb, resources, km=km)
        finally:
            meta["path"] = source
            if run.jail.cgroup is not None:
                self._check_limits(len(self.nb.cells) if getattr(self, "nb", None) else 0)
            run.jail.close()
            record(run.timing())
            self._run = None

    def _get_timeout(self, cell) -> int | None:
        """nbclient's timeout of a cell: this run's (the assignment's limit, shorter in the shortcut)."""
        return self._run.cell_timeout if self._run is not None else super()._get_timeout(cell)

    def _release(self) -> str:
        """The instructor's released notebook of the assignment being graded."""
        return os.path.join(self._course_root, "release", self._name or "", f"{self._name}.ipynb")

    def _settings(self, name) -> Grading | None:
        """This assignment's [grading] settings; None where no course.toml is (nbgrader used on
        its own: Grading's defaults, no warm kernels, TensorFlow only). A course.toml that does
        not load stops the run with its error: no limit falls back to a default silently."""
        from coursekit.config import Course

        if not name or not os.path.exists(os.path.join(self._course_root, "course.toml")):
            return None
        return Course.load(self._course_root).grading_for(name)

    def create_kernel_manager(self):
        run = self._run
        if run.jail.jailed:

            def warm(zygote) -> None:
                record(
                    {
                        "event": "warm",
                        "preloaded": zygote.loaded,
                        "failed": zygote.failed,
                        "zygote_start_s": round(zygote.start_s, 3),
                    }
                )

            self.kernel_manager_class = jail.kernel_manager(run.jail, self._zygote(run), on_warm=warm)
        km = super().create_kernel_manager()
        km.client_factory = capped_client(km.client_factory)
        km.client_factory.max_message = run.max_message
        if run.jail.jailed:
            km.transport, km.ip = "ipc", os.path.join(run.jail.sockets, "kernel")
        return km

    def _zygote(self, run: _Run):
        """This worker's warm-kernel process for the assignment, or None (course.toml says no, or
        the release notebook to read the setup's imports from is missing)."""
        from coursekit.grade import warm

        settings = self._grading  # read from course.toml once per hand-in, in preprocess
        release = self._release()
        if settings is None or not settings.warm_kernels or not os.path.exists(release):
            return None
        modules = warm.setup_modules(release, os.path.getmtime(release))
        if run.jail.env.get("KERAS_BACKEND") == "torch" and importlib.util.find_spec("tensorflow"):
            # keras.utils.set_random_seed (seed_everything) imports TensorFlow on any backend, for
            # tf.data's shuffling: 2.3 s in every kernel unless the zygote has it
            modules = (*modules, "tensorflow")
        return warm.zygote(modules, run.jail.env)

    def _check_limits(self, index: int) -> str | None:
        """Record each limit the first time it bites (in cell ``index``); the memory limit's text if hit."""
        run = self._run
        if run is None or run.jail.cgroup is None:
            return None
        stats = run.jail.cgroup.stats()
        limits = run.jail.limits
        gib = limits.memory_bytes / jail.GIB
        hit = None
        for key, text in (
            ("oom_kills", f"memory limit {gib:g} GiB reached"),
            ("forks_refused", f"process limit {limits.processes} reached"),
        ):
            if stats[key] and key not in run.limit_cells:
                run.limit_cells[key] = index
                record({"event": "limit", "limit": text, "cell": index})
            if key == "oom_kills" and stats[key]:
                hit = text
        return hit

    def _not_run(self, cell, why: str):
        if cell.cell_type == "code":
            cell.outputs = [new_output("error", ename="NotRun", evalue=why, traceback=[f"NotRun: {why}"])]
        return cell, self.resources

    def _run_hidden(self, source: str, index: int) -> str:
        run, started = self._run, time.perf_counter()
        cell = new_code_cell(source.replace("METHODS", repr(_METHODS)))
        run.received = run.dropped = 0
        self.execute_cell(cell, index, store_history=False)
        run.refused_n = 0
        run.hidden_s += time.perf_counter() - started
        return _text(cell)

    def preprocess_cell(self, cell, resources, index):
        run = self._run
        if run.stopped:
            return self._not_run(cell, run.stopped)
        if time.monotonic() > run.deadline:
            run.stopped = f"time limit of the hand-in ({run.handin_timeout} s) reached before this cell"
            record(
                {
                    "event": "limit",
                    "limit": f"time limit {run.handin_timeout} s for the hand-in reached",
                    "cell": index + 1,
                }
            )
            return self._not_run(cell, run.stopped)
        if run.ready is None:  # the kernel has started (nbclient starts it before the first cell)
            run.ready = time.perf_counter() - run.t0
        try:
            if not run.snapshot_taken:
                self._run_hidden(_SNAPSHOT, index)
                run.snapshot_taken = True
            judged = None
            if _is_autograded_test(cell):
                self._guard(cell, index)
                full = cell.source
                cell.source, judged = judge.split(full)  # the hidden tests never reach the kernel
            started = time.perf_counter()
            self._refused()  # what an earlier cell's output left behind is not this cell's
            run.received = run.dropped = run.refused_n = 0
            try:
                result = super().preprocess_cell(cell, resources, index)
            finally:
                if _is_autograded_test(cell):
                    cell.source = full
            self._note_dropped(result[0])
            if _is_autograded_test(cell):
                self._judge(cell, index, judged)
            if cell.cell_type == "code":
                grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
                first = next((line for line in cell.source.splitlines() if line.strip()), "")
                seconds = round(time.perf_counter() - started, 3)
                run.cells.append([index + 1, grade_id or first[:50], seconds])
            self._check_limits(index + 1)
            self._check_disk(cell, index + 1)
            if run.first and (failure := _cell_failure(cell, index + 1)):
                raise _FirstRunFailed(failure)
            return result
        except DeadKernelError:
            memory = self._check_limits(index + 1)
            grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
            if memory:  # a limit, not the notebook's own doing: points earned so far still count
                run.stopped = f"{memory} in cell {index + 1}: the kernel was stopped, later cells not run"
                self.log.warning("Cell %d: %s", index + 1, memory)
                return self._not_run(cell, run.stopped)
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            record(
                {
                    "event": "kernel_died",
                    "cell": index + 1,
                    "cells": len(self.nb.cells),
                    "grade_id": grade_id,
                    "first_line": first[:80],
                }
            )
            self.log.error("The kernel died in cell %d (%s)", index + 1, grade_id or first[:60])
            raise

    def _judge(self, cell, index: int, judged: str | None) -> None:
        """Decide test cell ``index`` by its judged part (:mod:`coursekit.grade.judge`), run here,
        outside the kernel. What the cell printed never costs points: its stderr is kept as
        standard output and a value it shows cannot become nbgrader's partial credit; only an
        error counts (the visible part's, or the judge's)."""
        for out in cell.outputs:
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                out["name"] = "stdout"
            if out.get("output_type") == "execute_result":
                out["output_type"] = "display_data"
                out.pop("execution_count", None)
        if judged is None:
            return
        grade_id = cell.metadata.nbgrader.get("grade_id")
        cells = [c.source for c in self.nb.cells[:index] if c.cell_type == "code"]
        student = judge.Student(run=self._kernel_run, cells=cells)
        run = self._run
        run.judging = (index, cell)
        verdict = judge.judge(judged, student, name=f"hidden tests of {grade_id}")
        run.judge_s += verdict.seconds
        run.judge_calls += student.calls
        if not verdict.passed:
            cell.outputs.append(
                new_output(
                    "error",
                    ename=verdict.ename,
                    evalue=verdict.message,
                    traceback=[f"{verdict.ename}: {verdict.message}"],
                )
            )
        record(
            {
                "event": "judged",
                "grade_id": grade_id,
                "passed": verdict.passed,
                "calls": student.calls,
                "judge_s": round(verdict.seconds, 3),
                "kernel_s": round(student.seconds, 3),
            }
        )

    def _kernel_run(self, code: str) -> tuple[str, str | None]:
        """Run ``code`` in the kernel for the judge: (its standard output, its error or None)."""
        run = self._run
        index, test_cell = run.judging
        cell = new_code_cell(code)
        run.received = run.dropped = 0
        try:
            self.execute_cell(cell, index, store_history=False)
        finally:
            self.nb.cells[index] = test_cell  # nbclient stores the cell it ran at that index
        run.refused_n = 0
        text = "".join(
            o.get("text", "")
            for o in cell.outputs
            if o.get("output_type") == "stream" and o.get("name") == "stdout"
        )
        errors = [
            f"{o.get('ename')}: {str(o.get('evalue'))[:300]}"
            for o in cell.outputs
            if o.get("output_type") == "error"
        ]
        return text, (errors[0] if errors else None)

    def _refused(self) -> int:
        """Messages zmq refused since the cell started (counted into the run's ``refused_n``)."""
        refused = getattr(getattr(self, "kc", None), "refused", None)
        self._run.refused_n += refused() if refused else 0
        return self._run.refused_n

    async def _async_poll_for_reply(
        self, msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive
    ):
        """nbclient's wait for the cell's reply. A refused message (over :func:`max_message_bytes`)
        drops the output connection a moment, so what the kernel sent meanwhile (its "idle" too) can
        be lost: no IOPub timeout error then, and an error the reply reports but the lost output
        does not is put back into the cell (it decides the grade)."""
        raise_on, self.raise_on_iopub_timeout = self.raise_on_iopub_timeout, False
        try:
            poll = asyncio.ensure_future(
                super()._async_poll_for_reply(
                    msg_id, cell, timeout, task_poll_output_msg, task_poll_kernel_alive
                )
            )
            reply = await self._reply_or_silence(poll, msg_id, task_poll_output_msg, task_poll_kernel_alive)
        finally:
            self.raise_on_iopub_timeout = raise_on
        if task_poll_output_msg.cancelled() and raise_on and not self._refused():
            from nbclient.exceptions import CellTimeoutError

            raise CellTimeoutError.error_from_timeout_and_cell(
                "Timeout waiting for IOPub output", self.iopub_timeout, cell
            )
        content = reply.get("content") or {}
        errors = [o for o in cell.outputs if o.get("output_type") == "error"]
        if content.get("status") == "error" and not errors:
            lines = [str(t)[:2_000] for t in content.get("traceback", [])[-5:]]
            cell.outputs.append(
                new_output(
                    "error",
                    ename=str(content.get("ename", "Error")),
                    evalue=str(content.get("evalue", ""))[:2_000],
                    traceback=lines,
                )
            )
        return reply

    async def _reply_or_silence(self, poll, msg_id, idle, alive) -> dict:
        """The cell's reply from ``poll``; or, :data:`NO_REPLY_S` after the kernel said "idle"
        (``idle`` done) with no reply, an error reply of our own (:data:`NO_REPLY`). Cancelled (nbclient
        does so when the kernel dies), it cancels ``poll`` too: no stale wait reads a later reply."""
        try:
            await asyncio.wait({poll, idle}, return_when=asyncio.FIRST_COMPLETED)
            silent = not poll.done() and not idle.cancelled() and idle.exception() is None
            if silent:
                done, _ = await asyncio.wait({poll}, timeout=NO_REPLY_S)
                silent = not done
        except asyncio.CancelledError:
            poll.cancel()
            raise
        if silent:
            poll.cancel()
            alive.cancel()  # as nbclient does once a reply came
            with contextlib.suppress(asyncio.CancelledError):
                await poll
            self.log.warning("The kernel went idle without answering cell: %s", NO_REPLY)
            record({"event": "no_reply", "seconds": NO_REPLY_S})
            return {
                "parent_header": {"msg_id": msg_id},
                "content": {
                    "status": "error",
                    "ename": "NoReply",
                    "evalue": NO_REPLY,
                    "traceback": [f"NoReply: {NO_REPLY}"],
                },
            }
        return await poll

    def output(self, outs, msg, display_id, cell_index):
        """nbclient's output handling, capped: beyond ``self._kept_bytes`` of a cell's output
        (counted as it arrives) the rest is counted, not kept; errors are kept, shortened."""
        run, size = self._run, _message_size(msg)
        left = run.kept_bytes - run.received
        if size > left:
            content = msg.get("content") or {}
            kind = msg.get("msg_type")
            if kind == "error":  # it decides the grade: always kept, shortened
                content["traceback"] = [str(line)[:2_000] for line in (content.get("traceback") or [])[-5:]]
                content["evalue"] = str(content.get("evalue") or "")[:2_000]
            elif kind == "stream" and left > 0:
                content["text"] = (content.get("text") or "")[:left]
            else:
                run.dropped += size
                return None
            run.dropped += max(size - _message_size(msg), 0)
        run.received += min(size, max(left, 0))
        return super().output(outs, msg, display_id, cell_index)

    def _update_display_id(self, display_id, msg):
        run, size = self._run, _message_size(msg)
        if size > run.kept_bytes - run.received:
            run.dropped += size
            return None
        run.received += size
        return super()._update_display_id(display_id, msg)

    def _note_dropped(self, cell) -> None:
        """The grader's note in a cell whose output was not all kept (first: LimitOutputBytes keeps it)."""
        from coursekit.grade.limits import grader_note

        run = self._run
        refused, run.refused_n = self._refused(), 0
        if cell.cell_type != "code" or not (run.dropped or refused):
            return
        parts = []
        if run.dropped:
            parts.append(
                f"this cell printed {(run.received + run.dropped) / 1e6:.1f} MB; "
                f"the grader read the first {run.received / 1e6:.1f} MB"
            )
        if refused:
            parts.append(
                f"output messages larger than {run.max_message / 2**20:.0f} MiB were refused "
                f"unread ({refused})"
            )
        cell.outputs.insert(0, grader_note("; ".join(parts)))
        self.log.warning("Cell output not all kept: %s", "; ".join(parts))

    def _check_disk(self, cell, index: int) -> None:
        """The disk limit shows as ENOSPC / EFBIG in what the cell raised or printed."""
        run = self._run
        if run.jail.cgroup is None or "disk" in run.limit_cells:
            return
        text = _text(cell)
        if "No space left on device" in text or "File too large" in text:
            run.limit_cells["disk"] = index
            gib = run.jail.limits.disk_bytes / jail.GIB
            record({"event": "limit", "limit": f"disk limit {gib:g} GiB reached", "cell": index})

    def _guard(self, cell, index):
        grade_id = cell.metadata.nbgrader.get("grade_id")
        token = self._run.token
        out = self._run_hidden(_GUARD.replace("TOKEN", repr(token)), index)
        lines = [line for line in out.splitlines() if line.startswith(token)]
        if not lines:
            record({"event": "guard_failed", "cell": index + 1, "grade_id": grade_id, "output": out[-300:]})
            self.log.error("Grading guard before %s did not run: %s", grade_id, out[-300:])
            return
        fixed = [f for f in lines[-1].split("|")[1:] if f]
        if fixed:  # undone for this run; the hand-in is reported "not graded" with this evidence
            record({"event": "tampering", "cell": index + 1, "grade_id": grade_id, "fixed": fixed})
            self.log.warning("Before %s, undid the notebook's changes to: %s", grade_id, ", ".join(fixed))
