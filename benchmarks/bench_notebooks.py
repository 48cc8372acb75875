"""Fast-mode execution time of every lecture notebook (what CI runs), in a fresh kernel each.

COURSE_DATA_DIR=../shared/data python benchmarks/bench_notebooks.py
"""

from __future__ import annotations

import os
import sys

from benchmarks._report import OUT, ROOT, save


def main() -> int:
    os.environ["COURSE_FAST"] = "1"
    from coursekit.execute import execute

    rows = []
    for path in sorted(ROOT.glob("notebooks/*/*.ipynb")):
        name = str(path.relative_to(ROOT))
        try:
            _, seconds = execute(path, OUT / "cache", fast=True)
            rows.append({"notebook": name, "fast_mode_s": round(seconds, 1), "ok": True})
        except Exception as err:  # keep timing the others
            rows.append({"notebook": name, "fast_mode_s": None, "ok": False, "error": type(err).__name__})
        print(rows[-1], flush=True)
    save("notebooks", rows)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
