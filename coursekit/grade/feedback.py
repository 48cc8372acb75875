"""Feedback without the hidden tests (configured in nbgrader_config.py).

nbgrader's feedback HTML shows each test cell as it was executed: with the hidden tests,
which ``generate_assignment`` took out of the student version. ``HideHiddenTests`` runs in
``GenerateFeedback.preprocessors`` and, in every cell with a hidden-test region,

* replaces the region by one comment line, so the code is not shown;
* shortens error tracebacks to ``ErrorName: message``: a traceback quotes the lines around
  the failing assert, which would show the hidden code again. The assert messages are
  written for students, so they stay (up to 500 characters);
* drops what test cells printed, and every printed line elsewhere that quotes a hidden
  test: student code that ran earlier (an audit hook, say) can print the test code as it
  is compiled, and the feedback would pass it on. (Code a student encodes before printing
  is not recognised; only running the checks outside the kernel would stop that.)

The gradebook and ``autograded/`` keep everything; only what students receive is filtered.
"""

from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
_REGION = re.compile(re.escape(BEGIN) + r".*?" + re.escape(END), re.S)
MAX_MESSAGE = 500  # characters of an assert message shown
NOTE = "# (hidden tests ran here: you see whether they passed and their message, not their code)"


def _is_test(cell) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell.get("cell_type") == "code" and bool(meta.get("grade")) and not meta.get("solution")


def hidden_lines(nb, shortest: int = 12) -> set[str]:
    """The lines of hidden-test code in a notebook (long enough to be specific)."""
    lines = set()
    for cell in nb.cells:
        for region in _REGION.findall(cell.source) if cell.cell_type == "code" else []:
            lines |= {line.strip() for line in region.splitlines()[1:-1] if len(line.strip()) >= shortest}
    return lines


class HideHiddenTests(Preprocessor):
    enabled = Bool(True)  # nbconvert's preprocessors are off unless enabled

    def preprocess(self, nb, resources):
        self._secret = hidden_lines(nb)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if _is_test(cell) or BEGIN in cell.source:
            cell.source = _REGION.sub(NOTE, cell.source)
            if BEGIN in cell.source:  # no END marker: hide everything after BEGIN
                cell.source = cell.source.split(BEGIN)[0] + NOTE
            kept = []
            for out in cell.get("outputs", []):
                if out.get("output_type") == "error":
                    out["evalue"] = str(out.get("evalue", ""))[:MAX_MESSAGE]
                    out["traceback"] = [f"{out.get('ename', 'Error')}: {out['evalue']}"]
                    kept.append(out)
            # what a test cell printed is dropped: student code could have hooked it to print the tests
            cell.outputs = kept
        for out in cell.get("outputs", []):  # elsewhere: no line that quotes a hidden test
            if out.get("output_type") == "stream" and self._secret:
                lines = out.get("text", "").splitlines(keepends=True)
                out["text"] = "".join(line for line in lines if not any(h in line for h in self._secret))
        return cell, resources
