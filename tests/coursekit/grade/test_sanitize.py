"""``SanitizeHandin`` on small notebooks (seconds): what runs goes, what notebooks show stays.

The browser test (test_handin_xss.py) sees the same in Chromium, through ``coursekit grade``.
"""

from __future__ import annotations

import copy

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output, new_raw_cell

from coursekit.grade.feedback import FeedbackExporter, content_security_policy
from coursekit.grade.sanitize import NOTE, HandinCleaner, SanitizeHandin, markdown_html
from tests.helpers import ROOT

HOSTILE = [
    '<script>document.title = "XSS"</script>',
    '<img src="x" onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href=" JaVaScRiPt:alert(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<svg onload="alert(1)"><script>alert(1)</script></svg>',
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<details open ontoggle="alert(1)">x</details>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.example"><input name="password"><button>go</button></form>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<scr<script>ipt>alert(1)</script>",
    '<base href="https://evil.example/"><meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<div style="background: url(javascript:alert(1)); position: fixed">x</div>',
]
# none of this may be left
RUNS = (
    "<script onerror onload ontoggle javascript: <iframe <svg <math <object <embed <form <input <base "
    "<meta position data:text"
).split()
SAFE = [
    "<b>bold</b> <i>it</i> <code>x &lt; y</code>",
    '<table border="1" class="dataframe"><thead><tr><th>n</th></tr></thead><tbody><tr><td>1</td></tr>'
    "</tbody></table>",
    '<img src="data:image/png;base64,iVBORw0KGgo=" alt="plot" width="300">',
    '<a href="https://example.org/">a link</a> <a href="#part-a">up</a>',
    '<p style="color: red;">red</p>',
]


def _code(*outputs) -> nbformat.NotebookNode:
    return new_code_cell("x", outputs=list(outputs))


def _display(data: dict) -> nbformat.NotebookNode:
    return new_output("display_data", data=data)


def _clean(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, SanitizeHandin]:
    pre = SanitizeHandin()
    return pre.preprocess(nb, {})[0], pre


@pytest.mark.parametrize("html", HOSTILE)
def test_nothing_that_runs_is_left(html):
    cleaned, changes = HandinCleaner().clean_changes(html)
    lowered = cleaned.lower()
    for bad in RUNS:
        assert bad not in lowered, (html, cleaned)
    assert changes, html


@pytest.mark.parametrize("html", SAFE)
def test_what_notebooks_show_stays(html):
    cleaned, changes = HandinCleaner().clean_changes(html)
    assert changes == [] and cleaned == html


def test_outputs_cleaned_scripts_and_widgets_dropped():
    nb = new_notebook(
        cells=[
            _code(
                _display({"text/html": HOSTILE[0] + SAFE[0], "text/plain": "<HTML>"}),
                _display({"application/javascript": "alert(1)", "text/plain": "<Javascript>"}),
                _display({"application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "w"}),
                _display({"image/png": 'x"><script>alert(1)</script>', "text/plain": "<Figure>"}),
                _display({"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"}),
                _display({"text/markdown": "<img src=x onerror=alert(1)> *kept*"}),
                new_output("stream", name="stdout", text="<script>printed, escaped by the template</script>"),
            )
        ]
    )
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    nb, pre = _clean(nb)
    html, js, widget, bad_png, png, md, stream = nb.cells[0].outputs
    assert html.data["text/html"] == SAFE[0] and html.data["text/plain"] == "<HTML>"
    assert set(js.data) == {"text/plain"} and set(widget.data) == {"text/plain"}
    assert set(bad_png.data) == {"text/plain"} and png.data["image/png"] == "iVBORw0KGgo="
    assert "text/markdown" not in md.data and "onerror" not in md.data["text/html"]
    assert "<em>kept</em>" in md.data["text/html"] and NOTE in md.data["text/html"]
    assert stream.text.startswith("<script>")  # text: shown escaped, never as HTML
    assert "widgets" not in nb.metadata
    assert set(pre._changed) == {0}


def test_markdown_with_html_that_runs_is_rewritten_clean():
    source = (
        "# Notes\n\n> a quote\n\n<script>alert(1)</script>\n\nsee <img src=x onerror=alert(1)> and $a < b$"
    )
    nb, _ = _clean(new_notebook(cells=[new_markdown_cell(source)]))
    cell = nb.cells[0]
    rendered = markdown_html(cell.source)
    assert "<script" not in rendered and "onerror" not in rendered and NOTE in rendered
    assert "<blockquote>" in rendered and "a quote" in rendered and "$a &lt; b$" in rendered
    assert "\n" not in cell.source  # one raw HTML block: markdown cannot split it


def test_clean_markdown_and_raw_cells_are_kept_as_written():
    markdown = (
        "# Part A\n\n> quote, `x < y`, **bold**, $a<b$, <b>ok</b>, <br>\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "![plot](attachment:p.png) [link](https://example.org) <!-- a comment -->\n"
    )
    cell = new_markdown_cell(markdown, attachments={"p.png": {"image/png": "iVBORw0KGgo="}})
    raw = new_raw_cell("<b>raw</b>", metadata={"raw_mimetype": "text/html"})
    nb = new_notebook(cells=[cell, raw])
    before = copy.deepcopy(nb)
    nb, pre = _clean(nb)
    assert nb == before and pre._changed == {}


def test_attachments_that_are_no_images_are_dropped():
    bad = {"a.png": {"image/png": 'x"><script>alert(1)</script>'}, "b.html": {"text/html": "<script>"}}
    cell = new_markdown_cell("![x](attachment:a.png)", attachments=bad)
    nb, _ = _clean(new_notebook(cells=[cell]))
    assert nb.cells[0].attachments == {}
    assert "<script" not in nb.cells[0].source


def test_hostile_raw_cell_is_cleaned():
    raw = new_raw_cell('<b>raw</b><img src=x onerror="alert(1)">', metadata={"raw_mimetype": "text/html"})
    nb, _ = _clean(new_notebook(cells=[raw]))
    assert nb.cells[0].source == "<b>raw</b>"


def test_course_notebooks_pass_unchanged():
    """The instructor's own markdown and the worked solutions' outputs are not touched."""
    paths = sorted((ROOT / "assignments").glob("*/*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))
    assert paths
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        before = copy.deepcopy(nb)
        nb, pre = _clean(nb)
        assert nb == before and pre._changed == {}, path


def test_feedback_page_has_a_content_security_policy():
    policy = content_security_policy(
        "https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js?config=x"
    )
    assert "script-src https://cdnjs.cloudflare.com/ajax/libs/mathjax/ 'unsafe-eval';" in policy
    assert "default-src 'none'" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    html, _ = FeedbackExporter(template_name="lab").from_notebook_node(new_notebook(cells=[_code()]))
    head = html.split("<head>", 1)[1]
    assert head.lstrip().startswith('<meta http-equiv="Content-Security-Policy"')
