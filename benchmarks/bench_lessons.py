"""Lessons in full mode: each notebook's own table of measured numbers, next to the seeds'.

Every lesson that ends with a ``results`` table (what the run measured, and what the source
says) is run top to bottom in full mode (``COURSE_FAST`` unset), in a fresh kernel, in each
track; the tables are printed and saved, the executed notebooks kept in
``_build/bench/full/`` for reading. This is what the lessons' "full mode" numbers come from.

    COURSE_DATA_DIR=../shared/data python -m benchmarks.bench_lessons [--lessons 05 06] [--tracks keras]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import nbformat

from benchmarks._report import OUT, ROOT, save

MARKER = "BENCH-RESULTS"
PROBE = f'import json\nprint("{MARKER}" + json.dumps(results.to_dict(orient="records")))'


def lessons_with_results(track: str) -> list[str]:
    """Stems of the lesson notebooks of ``track`` that build a ``results`` table."""
    stems = []
    for path in sorted((ROOT / "notebooks" / track).glob("[0-9][0-9]_*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        if any(c.cell_type == "code" and c.source.startswith("results = ") for c in cells):
            stems.append(path.stem)
    return stems


def run_full(track: str, stem: str) -> tuple[list[dict], float]:
    """Execute one lesson in full mode; its results rows and the seconds it took."""
    from coursekit.execute import lesson_env, run_notebook

    path = ROOT / "notebooks" / track / f"{stem}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(PROBE))
    t0 = time.perf_counter()
    try:
        run_notebook(nb, path.parent, None, env=lesson_env(False))
    finally:
        keep = OUT / "full" / f"{track}_{stem}.ipynb"
        keep.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, keep)
    seconds = time.perf_counter() - t0
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("output_type") == "stream")
    if MARKER not in text:
        raise RuntimeError(f"{track}/{stem}: the notebook ran but printed no results table")
    return json.loads(text.split(MARKER, 1)[1]), seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lessons", nargs="*", help="lesson numbers or stems (default: all with results)")
    parser.add_argument("--tracks", nargs="*", default=["keras", "pytorch"])
    args = parser.parse_args(argv)
    rows = []
    for track in args.tracks:
        for stem in lessons_with_results(track):
            if args.lessons and not any(stem.startswith(x) for x in args.lessons):
                continue
            print(f"== {track} {stem} (full mode) ...", flush=True)
            results, seconds = run_full(track, stem)
            for r in results:
                rows.append({"lesson": stem, "track": track, **r, "notebook_s": round(seconds)})
                source = "" if r["source"] is None else f"{r['source']:.4f}"
                print(
                    f"  {r['what']:70s} {r['this run']:.4f}   source {source:6s} {r['source says']}",
                    flush=True,
                )
            print(f"  ({seconds:.0f} s)", flush=True)
    save(
        "lessons_full",
        rows,
        data="full mode; MNIST full 60,000/10,000; CIFAR-10: the data the lesson printed",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
