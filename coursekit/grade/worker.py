"""Autograde one student after another in a single process (``coursekit grade --jobs``).

``nbgrader autograde --student`` costs about 2 s of start-up (importing nbgrader, nbconvert,
SQLAlchemy) before the first cell runs: for 200 students that is minutes. This worker
loads nbgrader and the course's ``nbgrader_config.py`` once, then reads one request per line
on stdin and answers one line on stdout, both JSON:

    {"assignment": "matmul_timing", "student": "s001", "status": "grading_logs/s001__matmul_timing.events"}
    {"success": true, "log": "...", "error": ""}

Each request is nbgrader's own ``NbGraderAPI.autograde`` (what the formgrader's "autograde"
button runs), so every student still gets a fresh kernel and the configured preprocessors.
Kernels inherit the worker's standard output; the answers use a private copy of it.

    python -m coursekit.grade.worker COURSE_ROOT
"""

from __future__ import annotations

import json
import os
import sys


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
        os.environ["COURSE_GRADING_STATUS"] = request["status"]
        try:
            result = api.autograde(request["assignment"], request["student"], force=True, create=True)
        except BaseException as err:  # capture_log catches most; this is the rest
            result = {"success": False, "error": f"{type(err).__name__}: {err}"}
        answer = {"success": bool(result.get("success")), "log": result.get("log") or "",
                  "error": result.get("error") or ""}  # fmt: skip
        answers.write(json.dumps(answer) + "\n")
        answers.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(os.path.abspath(sys.argv[1])))
