"""Cap the bytes a cell's output may take (configured in nbgrader_config.py, after ``LimitOutput``).

nbgrader's ``LimitOutput`` counts lines: 20 MB printed in long lines stays 20 MB in the
graded notebook, in the formgrader and in the student's feedback. ``LimitOutputBytes``
keeps the first ``max_text_bytes`` of a cell's text (streams, tracebacks, plain-text
results) and at most ``max_bytes`` of everything (images included), and says what it cut.
Error outputs are always kept (a shortened traceback): nbgrader grades a test cell by them.
The grader's note goes to stdout, never stderr: nbgrader fails a test cell with stderr output, and a
correct answer that prints a lot (a verbose training log) keeps its points.
"""

from __future__ import annotations

import json

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Integer

TEXT_TYPES = ("text/plain", "text/html", "text/markdown", "text/latex", "application/javascript")


def _size(output) -> int:
    return len(json.dumps(output, ensure_ascii=False).encode())


def _text_size(output) -> int:
    kind = output.get("output_type")
    if kind == "stream":
        return len(output.get("text", "").encode())
    if kind == "error":
        return sum(len(line.encode()) for line in output.get("traceback", []))
    data = output.get("data", {})
    return sum(len(str(data[k]).encode()) for k in TEXT_TYPES if k in data)


def _cut(text: str, budget: int) -> str:
    return text.encode()[: max(budget, 0)].decode(errors="ignore")


NOTE_MARK = "output cut by the grader: "


def grader_note(text: str):
    """A note of the grader in a cell's outputs: a stdout stream (nbgrader counts any stderr
    output of a test cell as a failure), marked as the grader's own."""
    return new_output("stream", name="stdout", text=f"\n[{NOTE_MARK}{text}]\n")


def is_grader_note(output) -> bool:
    return output.get("output_type") == "stream" and output.get("text", "").startswith(f"\n[{NOTE_MARK}")


class LimitOutputBytes(NbGraderPreprocessor):
    """Truncate a cell's outputs to a byte budget; a note in the cell says how much was cut."""

    max_text_bytes = Integer(100_000, help="text kept per cell (streams, tracebacks)").tag(config=True)
    max_bytes = Integer(2_000_000, help="everything kept per cell, images included").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.get("outputs"):
            return cell, resources
        total = sum(_size(o) for o in cell.outputs)
        text = sum(_text_size(o) for o in cell.outputs)
        if total <= self.max_bytes and text <= self.max_text_bytes:
            return cell, resources
        kept, used, used_text = [], 0, 0
        noted = False  # GuardedExecute's note: output not even read (it says how much was printed)
        for out in cell.outputs:
            if is_grader_note(out):
                kept.append(out)
                noted = True
                continue
            if out.get("output_type") == "error":  # always kept: it decides the grade
                out["traceback"] = [_cut(line, 2_000) for line in out.get("traceback", [])[-5:]]
                out["evalue"] = _cut(str(out.get("evalue", "")), 2_000)
                kept.append(out)
                continue
            size, tsize = _size(out), _text_size(out)
            if out.get("output_type") == "stream" and used_text + tsize > self.max_text_bytes:
                out["text"] = _cut(out.get("text", ""), self.max_text_bytes - used_text)
                size, tsize = _size(out), _text_size(out)
            if used + size > self.max_bytes or used_text + tsize > self.max_text_bytes:
                continue
            kept.append(out)
            used, used_text = used + size, used_text + tsize
        printed = "" if noted else f"this cell printed {total / 1e6:.1f} MB; "
        kept.append(grader_note(f"{printed}the first {used / 1e3:.0f} kB are kept"))
        self.log.warning("Cell %d: output cut from %d to %d bytes", index + 1, total, used)
        cell.outputs = kept
        return cell, resources
