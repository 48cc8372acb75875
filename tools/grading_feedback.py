"""Feedback without the hidden tests (configured in nbgrader_config.py).

nbgrader's feedback HTML shows each test cell as it was executed: with the hidden tests,
which ``generate_assignment`` took out of the student version. ``HideHiddenTests`` runs in
``GenerateFeedback.preprocessors`` and, in every cell with a hidden-test region,

* replaces the region by one comment line, so the code is not shown;
* shortens error tracebacks to ``ErrorName: message``: a traceback quotes the lines around
  the failing assert, which would show the hidden code again. The assert messages are
  written for students, so they stay (up to 500 characters);
* drops what the cell printed: student code that ran earlier (an audit hook, say) could
  print the test code as it runs, and the feedback would pass it on.

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


class HideHiddenTests(Preprocessor):
    enabled = Bool(True)  # nbconvert's preprocessors are off unless enabled

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or BEGIN not in cell.source:
            return cell, resources
        cell.source = _REGION.sub(NOTE, cell.source)
        if BEGIN in cell.source:  # no END marker: hide everything after BEGIN
            cell.source = cell.source.split(BEGIN)[0] + NOTE
        kept = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                out["evalue"] = str(out.get("evalue", ""))[:MAX_MESSAGE]
                out["traceback"] = [f"{out.get('ename', 'Error')}: {out['evalue']}"]
                kept.append(out)
        # what the cell printed is dropped: student code could have hooked it to print the tests
        cell.outputs = kept
        return cell, resources
