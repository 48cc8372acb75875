"""The course website (coursekit.site), built from a published tree and read in a real browser.

The site is built once per session by ``publish`` of this course (into a temporary folder), with
the executed notebooks of the session's cache (the lessons' execution tests share it). The browser
tests serve it on 127.0.0.1 and drive Debian's Chromium with Playwright; they are skipped where
Chromium is missing. Screenshots of one lesson page per track go to ``_build/browser/``.
"""

from __future__ import annotations

import functools
import os
import re
import threading
import time
from collections import deque
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest

from coursekit.config import Course
from coursekit.publish import publish, scan
from coursekit.site import aligned, clean_stream
from tests.helpers import ARTEFACTS, CHROMIUM, CHROMIUM_FLAGS, ROOT

LESSON, NEXT = "lessons/02_softmax.html", "lessons/03_convolution.html"


@pytest.fixture(scope="session")
def built_site(tmp_path_factory, lesson_cache):
    """``(published tree, its site, seconds)``: ``publish`` as the instructor runs it, which writes
    the site into ``docs/`` and scans the whole tree (notebooks from the session's cache)."""
    if "COURSE_DATA_DIR" not in os.environ:
        pytest.skip("COURSE_DATA_DIR is not set: the lessons need the real data (see README)")
    published = tmp_path_factory.mktemp("site") / "public"
    t0 = time.perf_counter()
    failed = publish(Course.load(ROOT), published, cache=lesson_cache)
    assert not failed, failed
    return published, published / "docs", time.perf_counter() - t0


# ------------------------------------------------------------------ without a browser


def test_cells_are_aligned_by_id():
    import nbformat

    def nb(*ids):
        return nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(i, id=i) for i in ids])

    blocks = aligned({"keras": nb("a", "k1", "k2", "b"), "pytorch": nb("a", "p1", "b", "p2")}, "x")
    assert [
        (kind, {t: [c.id for c in (v if isinstance(v, list) else [v])] for t, v in cells.items()})
        for kind, cells in blocks
    ] == [
        ("shared", {"keras": ["a"], "pytorch": ["a"]}),
        ("tabs", {"keras": ["k1", "k2"], "pytorch": ["p1"]}),
        ("shared", {"keras": ["b"], "pytorch": ["b"]}),
        ("tabs", {"keras": [], "pytorch": ["p2"]}),
    ]


def test_streams_show_what_a_terminal_shows():
    bar = "\x1b[1m1/3\x1b[0m [====>   ]\r2/3 [=====>  ]\r3/3 [========] done\nab\bc\n"
    assert clean_stream(bar) == "3/3 [========] done\nac"
    assert "lines left out" in clean_stream("\n".join(map(str, range(500))))


@pytest.mark.slow
def test_a_page_per_lesson_and_assignment_with_both_tracks(built_site):
    published, html, seconds = built_site
    course = Course.load(ROOT)
    print(f"published with the site in {seconds:.0f} s (notebooks from the session's cache when already run)")
    lessons = sorted(p.stem for p in (ROOT / "lessons").glob("[0-9][0-9]_*.py"))
    for name in lessons:
        page = (html / "lessons" / f"{name}.html").read_text(encoding="utf-8")
        for track, label in course.tracks.items():
            assert course.colab_url(f"notebooks/{track}/{name}.ipynb") in page
            assert re.search(rf'data-sync-id="{track}"[^>]*>\s*{label}\s*</label>', page), (name, track)
        assert 'data-sync-group="track"' in page
        assert "<img" in page, f"{name}: no figure from the executed notebooks"
        assert "Traceback" not in page
    for key, spec in course.assignments.items():
        page = (html / "assignments" / f"{key}.html").read_text(encoding="utf-8")
        for name in spec.names:
            assert f"{name}.ipynb" in page and "YOUR CODE HERE" in page
    api = (html / "api.html").read_text(encoding="utf-8")
    assert "course_utils.live.LivePlot" in api and "seed_everything" in api
    # executed outputs say where the data came from without this machine's paths (the scan fails on any)
    assert "from $COURSE_DATA_DIR/MNIST" in (html / "lessons" / "05_mnist.html").read_text(encoding="utf-8")
    # built from the published tree only, and scanned like the rest of it
    leaks = scan(published, course)
    assert not leaks, [str(leak) for leak in leaks]


# ---------------------------------------------------------------------- in a browser


@pytest.fixture(scope="module")
def served(built_site):
    """The built site on a loopback HTTP server (localStorage needs an origin)."""
    html = built_site[1]

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(html)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="module")
def page(served):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed (apt install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 1800})
        yield page
        browser.close()


SELECTED = """() => [...document.querySelectorAll('.sd-tab-set')].map(set => {
  const label = [...set.querySelectorAll(':scope > label.sd-tab-label')]
    .find(l => document.getElementById(l.htmlFor).checked);
  const shown = [...set.querySelectorAll(':scope > .sd-tab-content')].filter(c => c.checkVisibility());
  return [label && label.dataset.syncId, shown.length, shown.map(c => c.innerText).join(' ')];
})"""


def _selected(page) -> list[list]:
    return page.evaluate(SELECTED)


@pytest.mark.slow
@pytest.mark.browser
def test_choosing_pytorch_switches_every_block_here_and_on_the_next_page(page, served):
    page.goto(served + LESSON)
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    before = _selected(page)
    assert len(before) >= 3 and {sel for sel, _, _ in before} == {"keras"}, before
    page.screenshot(path=str(ARTEFACTS / "site_lesson_keras.png"), full_page=True)
    page.locator("label.sd-tab-label", has_text="PyTorch").first.click()
    for url in (served + LESSON, None):
        if url is None:  # the theme's "next page" link
            page.locator("a.right-next").click()
            page.wait_for_load_state("load")
            assert page.url == served + NEXT
        after = _selected(page)
        assert after and all(sel == "pytorch" and shown == 1 for sel, shown, _ in after), after
        visible = " ".join(text for _, _, text in after)
        assert "torch" in visible and "import keras" not in visible
    page.goto(served + LESSON)
    page.screenshot(path=str(ARTEFACTS / "site_lesson_pytorch.png"), full_page=True)
    page.evaluate("localStorage.clear()")


@pytest.mark.slow
@pytest.mark.browser
def test_every_page_loads_its_figures_and_formulas_and_no_link_is_broken(page, served):
    """Crawl from the start page: every internal link resolves (pages, anchors, downloads),
    every image is decoded, MathJax typesets the formulas (the site carries its own copy)."""
    queue, seen, checked_files, external = deque([served]), {served}, set(), set()
    anchors: dict[str, set[str]] = {}
    ids: dict[str, set[str]] = {}
    while queue:
        url = queue.popleft()
        response = page.goto(url)
        assert response and response.ok, f"{url}: HTTP {response and response.status}"
        page.wait_for_load_state("load")
        broken = page.evaluate(
            "[...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
        )
        assert not broken, f"{url}: images that do not load: {broken}"
        if page.locator("span.math").count():
            page.wait_for_function(
                "document.querySelectorAll('.MathJax, .MathJax_Display').length > 0", timeout=20_000
            )
        ids[url] = set(page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)"))
        for href in page.evaluate("[...document.querySelectorAll('a[href]')].map(a => a.href)"):
            if not href.startswith(served):
                if href.startswith("http"):
                    external.add(href)
                continue
            target, fragment = urldefrag(href)
            target = target or url
            if fragment:
                anchors.setdefault(target, set()).add(fragment)
            if target.endswith(".html") or target.endswith("/"):
                if target not in seen:
                    seen.add(target)
                    queue.append(target)
            elif target not in checked_files:
                checked_files.add(target)
                got = page.request.get(target)
                assert got.ok, f"{url} links to {target}: HTTP {got.status}"
    missing = {f"{t}#{a}" for t, wanted in anchors.items() for a in wanted if a not in ids.get(t, set())}
    assert not missing, f"links to anchors that do not exist: {sorted(missing)[:10]}"
    assert len(seen) >= 12, sorted(seen)
    assert any(urlparse(u).path.endswith(".ipynb") for u in checked_files), "no notebook download"
    # the outside world cannot be reached from the test machine: the links are well formed only
    colab = [u for u in external if "colab.research.google.com/github/" in u]
    pattern = r"/blob/[^/]+/(notebooks|assignments)/.+\.ipynb$"
    assert colab and all(re.search(pattern, u) for u in colab), colab
    print(f"crawled {len(seen)} pages, {len(checked_files)} files, {len(external)} external links")
