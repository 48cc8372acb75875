"""Fast-mode execution time of every lecture notebook (what CI runs), in a fresh kernel each.

    COURSE_DATA_DIR=../shared/data python benchmarks/bench_notebooks.py
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from _report import OUT, ROOT, save  # noqa: E402


def main() -> int:
    sys.path.insert(0, str(ROOT / "tools"))
    os.environ["COURSE_FAST"] = "1"
    from execute_notebooks import execute

    rows = []
    for path in sorted(ROOT.glob("notebooks/*/*.ipynb")):
        name = str(path.relative_to(ROOT))
        try:
            seconds = execute(path, OUT / "executed")
            rows.append({"notebook": name, "fast_mode_s": round(seconds, 1), "ok": True})
        except Exception as err:  # keep timing the others
            rows.append({"notebook": name, "fast_mode_s": None, "ok": False, "error": type(err).__name__})
        print(rows[-1], flush=True)
    save("notebooks", rows)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
