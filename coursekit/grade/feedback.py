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

``FeedbackExporter`` is nbconvert's HTML exporter for the feedback pages, made cheaper for a
grading worker that writes one page after another: the Jinja templates are compiled once per
process instead of once per student, and the accessibility touches nbconvert adds by parsing the
whole page with BeautifulSoup (alt text on images, ``tabindex`` on inputs and outputs) are made
on the text. Measured: 3.3 s of CPU per feedback page before, see benchmarks/RESULTS.md.
Each page carries a Content-Security-Policy (:func:`content_security_policy`): no inline script,
no event handler and nothing loaded from anywhere but MathJax's folder runs, should anything of
the hand-in get past :mod:`coursekit.grade.sanitize`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from nbconvert.exporters import HTMLExporter, TemplateExporter
from nbconvert.filters.highlight import Highlight2HTML
from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter
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


_ENVIRONMENTS: dict[tuple, object] = {}  # one compiled Jinja environment per template setup
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\balt=)")
_FOCUSABLE = re.compile(r'(<div class="[^"]*\b(?:jp-Cell-inputWrapper|jp-OutputArea-output)\b[^"]*")')
ALT = "No description has been provided for this image"


class _Cached:
    """A highlight filter that remembers its results: most cells (the instructor's setup and
    tests) are the same in every hand-in of an assignment, and Pygments costs about 20 ms a cell."""

    _memo: dict[tuple, str] = {}

    def __init__(self, highlight, lexer):
        self.highlight, self.lexer = highlight, lexer

    def __call__(self, source, language=None, metadata=None):
        magics = (metadata or {}).get("magics_language")  # the only part of the metadata it reads
        key = (source, language, self.lexer, magics)
        if key not in self._memo:
            if len(self._memo) > 5000:
                self._memo.clear()
            self._memo[key] = self.highlight(source, language, metadata)
        return self._memo[key]


def content_security_policy(mathjax_url: str) -> str:
    """The feedback page's policy: scripts only from MathJax's folder (MathJax evaluates its own
    configuration block, hence ``'unsafe-eval'``), inline styles, images and fonts as ``data:``."""
    parts = urlsplit(mathjax_url)
    if parts.scheme in ("http", "https") and parts.netloc:
        path = parts.path.rsplit("/", 1)[0] + "/"
        below = re.match(r"(.*?/mathjax/)", path, re.I)  # cdnjs' latest.js loads the newest 2.x beside it
        source = f"{parts.scheme}://{parts.netloc}{below.group(1) if below else path}"
    else:
        source = "'self'"  # a MathJax served beside the page
    return (
        f"default-src 'none'; script-src {source} 'unsafe-eval'; style-src 'unsafe-inline' {source}; "
        f"img-src data:; font-src data: {source}; base-uri 'none'; form-action 'none'"
    )


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter with its templates compiled once per process (see the module)."""

    def _create_environment(self):
        key = (
            tuple(self.template_paths),
            self.template_extension,
            self.enable_async,
            tuple(map(repr, self.extra_loaders)),
        )
        env = _ENVIRONMENTS.get(key)
        if env is None:
            env = _ENVIRONMENTS[key] = super()._create_environment()
            return env
        for name, value in self.default_filters():  # bound to this exporter and its resources
            self._register_filter(env, name, value)
        for name, value in (self.filters or {}).items():
            self._register_filter(env, name, value)
        return env

    def from_notebook_node(self, nb, resources=None, **kw):
        # HTMLExporter.from_notebook_node without its BeautifulSoup pass over the finished page
        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        highlight = self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
        self.register_filter("highlight_code", _Cached(highlight, lexer))
        resources = self._init_resources(resources)
        self.register_filter(
            "filter_data_type",
            WidgetsDataTypeFilter(notebook_metadata=self._nb_metadata, parent=self, resources=resources),
        )
        html, resources = TemplateExporter.from_notebook_node(self, nb, resources, **kw)
        html = _IMG_WITHOUT_ALT.sub(f'<img alt="{ALT}"', html)
        policy = content_security_policy(self.mathjax_url)
        policy = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        html = html.replace("<head>", "<head>\n" + policy, 1)  # the template's head, before any script
        return _FOCUSABLE.sub(r'\1 tabindex="0"', html), resources
