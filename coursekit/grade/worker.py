"""Autograde one student after another in a single process (``coursekit grade --jobs``), and its client.

``nbgrader autograde --student`` costs about 2 s of start-up (importing nbgrader, nbconvert,
SQLAlchemy) before the first cell runs: for 200 students that is minutes. This worker
loads nbgrader and the course's ``nbgrader_config.py`` once, then reads one request per line
on stdin and answers one line on stdout, both JSON:

    {"assignment": "matmul_timing", "student": "s001", "status": "grading_logs/s001__matmul_timing.events"}
    {"success": true, "log": "...", "error": ""}

Each request is nbgrader's own ``NbGraderAPI.autograde`` (what the formgrader's "autograde"
button runs), so every student still gets a fresh kernel and the configured preprocessors;
a request with ``"action": "feedback"`` is ``NbGraderAPI.generate_feedback`` for that student,
so feedback is written by the parallel workers, not afterwards by one serial nbgrader run
(which cost about 0.6 s per student plus 2 s of start-up); ``"action": "release"`` is
``NbGraderAPI.generate_assignment`` (``coursekit release`` of several assignments pays the
start-up once), and ``"action": "export"`` is ``nbgrader export`` (grades.csv at the end of a run).
Kernels inherit the worker's standard output; the answers use a private copy of it.

    python -m coursekit.grade.worker COURSE_ROOT
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from coursekit.config import export
from coursekit.grade.gradebook import locked


@dataclass
class Autograded:
    """What one ``nbgrader autograde`` of one student left: exit status and log."""

    returncode: int
    output: str


class Worker:
    """A ``python -m coursekit.grade.worker`` process that autogrades one student after another.

    Saves nbgrader's start-up per student; each student still gets a fresh kernel. If the
    worker dies, the student it was grading gets an explicit failure and the next request
    starts a new worker.
    """

    def __init__(self, root: Path, env: dict, log: Path):
        self.root, self.env, self.log, self.proc = root, env, log, None

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> None:
        with open(self.log, "a") as log:  # the child keeps its own copy of the file
            # -P: the course directory (the worker's cwd) is not on the import path, so the modules the
            # worker finds (course_utils for the sandbox) are the installed ones, as in the kernel
            cmd = [sys.executable, "-P", "-m", "coursekit.grade.worker", str(self.root)]
            self.proc = subprocess.Popen(
                cmd,
                cwd=self.root,
                env=self.env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )

    def running(self) -> bool:
        """Whether its process is up (started by an earlier request, not ended since)."""
        return self.proc is not None and self.proc.poll() is None

    def autograde(self, name: str, student: str, status: Path, tries: int = 3) -> Autograded:
        return self._ask({"assignment": name, "student": student, "status": str(status)}, tries)

    def feedback(self, name: str, student: str, tries: int = 3) -> Autograded:
        """nbgrader's generate_feedback for one autograded student."""
        return self._ask({"assignment": name, "student": student, "action": "feedback"}, tries)

    def export(self, to: str) -> Autograded:
        """nbgrader's export of the gradebook (its configured export plugin) to the file ``to``."""
        return self._ask({"action": "export", "to": to}, 3)

    def release(self, name: str) -> Autograded:
        """nbgrader's generate_assignment of ``name`` (its student version in ``release/``)."""
        return self._ask({"assignment": name, "action": "release"}, 1)

    def _ask(self, request: dict, tries: int) -> Autograded:
        for attempt in range(tries):
            if not self.running():
                self._start()
            try:
                self.proc.stdin.write(json.dumps(request) + "\n")
                self.proc.stdin.flush()
                line = self.proc.stdout.readline()
            except OSError:
                line = ""
            if not line:
                self.close()
                what = request.get("action", "autograde")
                whom = f" of {request['student']}" if "student" in request else ""
                return Autograded(1, f"the grading worker died during {what}{whom} (its log: {self.log})")
            answer = json.loads(line)
            result = Autograded(0 if answer["success"] else 1, answer["log"] + answer["error"])
            if not (result.returncode and locked(result.output)) or attempt == tries - 1:
                return result
            time.sleep(0.5 + random.random() * 2)

    def close(self, wait: bool = True) -> None:
        """End the worker (it exits when its input closes). ``wait=False``: its teardown (about a
        second: a process that imported nbgrader and a framework) overlaps what the caller does
        next; a later ``close()`` waits for it."""
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                if not wait:
                    return
                self.proc.wait(timeout=30)
            except Exception:
                self.proc.kill()
            self.proc = None


def _export(api, to: str) -> dict:
    """What ``nbgrader export --to TO`` does, in this process (its start-up is paid already)."""
    from nbgrader.api import Gradebook
    from nbgrader.apps.exportapp import ExportApp

    app = ExportApp(coursedir=api.coursedir, parent=api)
    app.init_plugin()
    app.plugin_inst.to = to
    with Gradebook(api.coursedir.db_url, api.coursedir.course_id) as gb:
        app.plugin_inst.export(gb)
    return {"success": True, "log": f"exported with {app.plugin_class.__name__} to {to}\n"}


def main(root: str) -> int:
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # anything else printed (kernels, warnings) goes to stderr, not into the answers
    os.chdir(root)
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=root).load_config()
    api = NbGraderAPI(config=config)
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        try:
            if request.get("action") == "feedback":
                result = api.generate_feedback(request["assignment"], request["student"], force=True)
            elif request.get("action") == "release":
                result = api.generate_assignment(request["assignment"], force=True, create=True)
            elif request.get("action") == "export":
                result = _export(api, request["to"])
            else:
                export(COURSE_GRADING_STATUS=request["status"])
                result = api.autograde(request["assignment"], request["student"], force=True, create=True)
        except BaseException as err:  # capture_log catches most; this is the rest
            result = {"success": False, "error": f"{type(err).__name__}: {err}"}
        answer = {
            "success": bool(result.get("success")),
            "log": result.get("log") or "",
            "error": result.get("error") or "",
        }
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(os.path.abspath(sys.argv[1])))
