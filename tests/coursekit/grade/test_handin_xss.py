"""A hand-in's HTML and JavaScript never run in the formgrader or in the feedback page.

Two hand-ins of matmul_timing are graded with ``coursekit grade`` in a scratch course: a perfect
one, and the same with a cell that displays a ``<script>``, an ``<img onerror>``, a
``javascript:`` link, an ``<iframe srcdoc>``, a ``Javascript`` output and a markdown output with
an event handler, and with a written answer (markdown) that holds a script, an event handler and
a ``javascript:`` link. Each payload sets a ``window.__xss_*`` global (the script also the page
title). In Debian's Chromium (Playwright):

* the same payloads, rendered by nbconvert as they are, do set every global (the test can see a
  script run);
* the student's feedback page and the formgrader's page of the autograded notebook (a Jupyter
  server with nbgrader's formgrader on the course) set none, after every link was clicked, and
  still show the safe part (bold text, a pandas table, the emphasis);
* the perfect hand-in's feedback still shows its plots, with its styles, and its
  Content-Security-Policy refuses nothing of the page itself.

The same batch checks that grading leaves no ``course-zygote-*`` folder behind (warm kernels).
"""

from __future__ import annotations

import csv
import os
import shutil
import tempfile
from pathlib import Path

import nbformat
import pytest

from tests.helpers import ARTEFACTS, CHROMIUM, CHROMIUM_FLAGS, JupyterServer, grade_batch, kit

NAME = "matmul_timing"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing (apt install chromium)"),
]

# What the hostile cell displays; each payload sets the global it names when it runs.
HTML_OUTPUTS = [
    '<script>document.title = "XSS"; window.__xss_script = 1</script><b class="kept">kept bold</b>',
    '<img src="nowhere.png" onerror="window.__xss_img = 1">',
    '<a href="javascript:window.__xss_link = 1">click me</a>',
    '<iframe srcdoc="<script>parent.__xss_iframe = 1</script>"></iframe>',
]
JAVASCRIPT_OUTPUT = "window.__xss_js = 1"
MARKDOWN_OUTPUT = '<img src="x" onerror="window.__xss_md_output = 1"> *kept emphasis*'
ANSWER = (
    "I measured the exponent.\n\n<script>window.__xss_markdown = 1</script>\n\n"
    '<img src="x" onerror="window.__xss_markdown_img = 1"> and '
    "[a link](javascript:window.__xss_markdown_link=1)\n"
)
GLOBALS = [
    "__xss_script",
    "__xss_img",
    "__xss_link",
    "__xss_iframe",
    "__xss_js",
    "__xss_md_output",
    "__xss_markdown",
    "__xss_markdown_img",
    "__xss_markdown_link",
]
LINKS = ["click me", "a link"]
HOSTILE_CELL = "\n".join(
    [
        "from IPython.display import HTML, Javascript, display",
        *(f"display(HTML({html!r}))" for html in HTML_OUTPUTS),
        f"display(Javascript({JAVASCRIPT_OUTPUT!r}))",
        f"display({{'text/markdown': {MARKDOWN_OUTPUT!r}}}, raw=True)",
        "import pandas as pd",
        "display(pd.DataFrame({'n': [10, 20], 'seconds': [0.125, 0.75]}))",
    ]
)
# After clicking every link: which globals are set, and the page's title.
FIRED = """([names, links]) => {
  for (const a of document.querySelectorAll('a')) if (links.includes(a.textContent.trim())) a.click();
  return new Promise(done => setTimeout(() => done({
    fired: names.filter(n => window[n] !== undefined), title: document.title}), 500));
}"""


CONSOLE: dict = {}  # page: its console messages


def _gid(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


@pytest.fixture(scope="module")
def graded(make_course, perfect_handin):
    # TMPDIR: the grading's own temporary folder, to look into afterwards (other graders on this
    # machine use /tmp too). It is passable for the kernel's unused uid (0755, not under pytest's
    # 0700 folder), and the empty data folder lies in it: the jail makes the data folder's parents
    # passable inside, and the kernel's socket folder is made in TMPDIR.
    scratch = Path(tempfile.mkdtemp(prefix="course-xss-test-"))
    scratch.chmod(0o755)
    (scratch / "data").mkdir()
    env = dict(
        os.environ, COURSE_DATA_DIR=str(scratch / "data"), TMPDIR=str(scratch), COURSE_GRADING_TIMEOUT="30"
    )
    try:
        yield _grade(make_course, perfect_handin, env, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _grade(make_course, perfect_handin, env: dict, scratch: Path) -> dict:
    root = make_course([NAME], env=env)
    handins = root / "handins"
    handins.mkdir()
    perfect = perfect_handin(root, NAME)
    nbformat.write(perfect, handins / f"s_ok__{NAME}.ipynb")
    hostile = perfect_handin(root, NAME)
    next(c for c in hostile.cells if _gid(c) == "discuss_a").source = ANSWER
    hostile.cells.append(nbformat.v4.new_code_cell(HOSTILE_CELL))
    nbformat.write(hostile, handins / f"s_xss__{NAME}.ipynb")
    collected = kit(root, "collect", str(handins), env=env)
    assert collected.returncode == 0, collected.stdout + collected.stderr
    result = grade_batch(root, NAME, env=env)
    print(result["grade"].stdout[-3000:], result["grade"].stderr[-3000:])
    assert result["grade"].returncode == 0, result["grade"].stdout[-3000:] + result["grade"].stderr[-3000:]
    return {"root": root, "tmp": scratch, "env": env, **result}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def _open(browser, url: str, shot: str, wait_for: str | None = None):
    page = browser.new_page()
    CONSOLE[page] = []
    page.on("console", lambda message: CONSOLE[page].append(message.text))
    page.goto(url, wait_until="load")
    if wait_for:
        page.get_by_text(wait_for).first.wait_for(timeout=60_000)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / shot), full_page=True)
    return page


def test_the_payloads_run_when_rendered_as_they_are(browser, tmp_path):
    """The control: nbconvert without coursekit's sanitizing runs every payload in this browser."""
    from nbconvert import HTMLExporter

    def output(data):
        return nbformat.v4.new_output("display_data", data=data)

    outputs = [output({"text/html": html}) for html in HTML_OUTPUTS]
    outputs += [
        output({"application/javascript": JAVASCRIPT_OUTPUT}),
        output({"text/markdown": MARKDOWN_OUTPUT}),
    ]
    cell = nbformat.v4.new_code_cell(HOSTILE_CELL, outputs=outputs)
    nb = nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_markdown_cell(ANSWER)])
    page_file = tmp_path / "unsanitized.html"
    page_file.write_text(HTMLExporter(template_name="lab").from_notebook_node(nb)[0], encoding="utf-8")
    page = _open(browser, page_file.as_uri(), "xss-control.png")
    seen = page.evaluate(FIRED, [GLOBALS, LINKS])
    page.close()
    assert sorted(seen["fired"]) == sorted(GLOBALS) and seen["title"] == "XSS", seen


def test_hostile_handin_is_graded_and_reported(graded):
    report = graded["report"]
    assert report["s_xss"]["status"] == "graded" and report["s_xss"]["score"] == report["s_ok"]["score"]
    notes = report["s_xss"]["notes"]
    assert "HTML that could run code removed" in notes and "<script>" in notes and "onerror=" in notes, notes
    assert "application/javascript" in notes and "<iframe>" in notes and "href=" in notes, notes
    assert "removed" not in report["s_ok"]["notes"], report["s_ok"]["notes"]


def test_feedback_page_runs_no_script_of_the_handin(graded, browser):
    page_file = graded["root"] / "feedback" / "s_xss" / NAME / f"{NAME}.html"
    text = page_file.read_text(encoding="utf-8")
    assert 'http-equiv="Content-Security-Policy"' in text
    page = _open(browser, page_file.as_uri(), "xss-feedback.png", wait_for="kept bold")
    seen = page.evaluate(FIRED, [GLOBALS, LINKS])
    assert seen["fired"] == [] and seen["title"] != "XSS", seen
    # the safe part is still shown: bold text, the pandas table, emphasis, the written answer
    assert page.locator("b.kept").inner_text() == "kept bold"
    assert page.locator("table.dataframe th").count() >= 2
    assert page.locator("em", has_text="kept emphasis").count() == 1
    assert page.get_by_text("I measured the exponent.").count() == 1
    page.close()


def test_formgrader_shows_the_autograded_notebook_inert(graded, browser):
    from nbgrader.api import Gradebook

    root = graded["root"]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submission = gb.find_submission_notebook(NAME, NAME, "s_xss").id
    # a Jupyter server with nbgrader's formgrader, on loopback, in the course directory
    server = JupyterServer(root, graded["env"], token="xss-test-token", log="formgrader.log")
    try:
        url = f"{server.url}/formgrader/submissions/{submission}/?token={server.token}"
        page = _open(browser, url, "xss-formgrader.png", wait_for="kept bold")
        seen = page.evaluate(FIRED, [GLOBALS, LINKS])
        assert seen["fired"] == [] and seen["title"] != "XSS", seen
        assert page.locator("table.dataframe th").count() >= 2
        assert page.get_by_text("I measured the exponent.").count() == 1
        page.close()
    finally:
        server.stop()


def test_normal_feedback_still_renders_its_outputs(graded, browser):
    page_file = graded["root"] / "feedback" / "s_ok" / NAME / f"{NAME}.html"
    page = _open(browser, page_file.as_uri(), "xss-feedback-normal.png", wait_for="Part A")
    plots = page.evaluate("""() => Array.from(document.querySelectorAll('.output_png img'))
        .map(img => img.complete && img.naturalWidth > 0)""")
    assert len(plots) >= 2 and all(plots), plots
    radius = page.evaluate("() => getComputedStyle(document.querySelector('.panel')).borderRadius")
    assert radius == "4px"  # bootstrap's panels: the inline styles apply under the policy
    # (bootstrap's icon font is not shipped with the page: missing with or without the policy)
    refused = [m for m in CONSOLE[page] if "Content Security Policy" in m and "glyphicons" not in m]
    assert refused == [], refused
    page.close()


def test_grading_leaves_no_zygote_folders(graded):
    """Warm kernels' zygotes keep a scratch folder each while they run; none is left after grading."""
    left = sorted(p.name for p in graded["tmp"].iterdir() if p.name.startswith("course-"))
    assert left == [], left
    with open(graded["root"] / "grading_report.csv", newline="") as f:
        assert all("warm kernel" in row["notes"] for row in csv.DictReader(f))  # zygotes were used
