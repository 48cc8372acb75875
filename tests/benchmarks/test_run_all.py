"""``benchmarks.run_all`` rewrites RESULTS.md without losing what it did not measure."""

from __future__ import annotations

import json

from benchmarks import run_all


def test_report_keeps_hand_written_sections_and_earlier_figures(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "matmul.json").write_text(
        json.dumps({"rows": [{"operation": "matmul", "exponent": 2.9}], "note": "n"})
    )
    results = tmp_path / "RESULTS.md"
    results.write_text(
        "# Benchmark results\n\nold header\n\n## Machine\n\n- old CPU\n\n"
        f"## {run_all.TITLES['matmul']}\n\n| old | table |\n\n### A second run, by hand\n\nexponent 3.1\n\n"
        "## GPU runs, 2026-12-04\n\nWritten by hand: 129 s on an H200.\n\n"
        f"## {run_all.TITLES['cluster']}\n\n| earlier | cluster figures |\n\n"
        "## CI\n\nLast fresh-clone `.ci/run`: 1,532 s.\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(run_all, "OUT", out)
    monkeypatch.setattr(run_all, "RESULTS", results)
    monkeypatch.setattr(run_all, "ROOT", tmp_path)  # no _build/ci_seconds.txt there
    assert run_all.main(["--report-only"]) == 0
    text = results.read_text(encoding="utf-8")
    assert "| matmul | 2.9 |" in text and "| old | table |" not in text  # measured now: new figures
    assert "### A second run, by hand\n\nexponent 3.1" in text  # a note under it stays
    assert "## GPU runs, 2026-12-04\n\nWritten by hand: 129 s on an H200." in text
    assert "| earlier | cluster figures |" in text  # not measured now: the earlier figures stay
    assert "Last fresh-clone `.ci/run`: 1,532 s." in text
    assert "old CPU" not in text and text.count("## Machine") == 1
    assert run_all.main(["--report-only"]) == 0  # a second rewrite changes nothing but the date
    again = results.read_text(encoding="utf-8")
    assert again.split("\n", 3)[3] == text.split("\n", 3)[3]
