"""coursekit.execute: the cache of executed notebooks, shared by several processes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat

from tests.helpers import ROOT

RUN_ONE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    from coursekit.execute import execute
    nb, seconds = execute(Path(sys.argv[1]), Path(sys.argv[2]), fast=True, timeout=120, reuse=True)
    print(json.dumps({"seconds": seconds, "stamp": nb.cells[0].outputs[0]["text"]}))
    """
)


def test_two_processes_sharing_a_cache_run_a_notebook_once(tmp_path: Path):
    """Two processes ask for the same notebook at once (two pytest-xdist workers, or `coursekit
    execute` beside `coursekit publish`): one runs it, the other waits and reads its copy."""
    notebook = tmp_path / "slow.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import time, uuid\ntime.sleep(3)\nprint(uuid.uuid4())")]
    nbformat.write(nb, notebook)
    cache = tmp_path / "cache"
    runs = [
        subprocess.Popen(
            [sys.executable, "-c", RUN_ONE, str(notebook), str(cache)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [json.loads(run.communicate(timeout=300)[0].strip().splitlines()[-1]) for run in runs]
    assert all(run.returncode == 0 for run in runs)
    assert sorted(r["seconds"] > 0 for r in results) == [False, True], results  # one ran, one waited
    assert results[0]["stamp"] == results[1]["stamp"]  # the same run's output, not a second run
    assert len(list(cache.glob("*.ipynb"))) == 1
