"""Real clients: JupyterLab 4 and Notebook 7 in headless Chromium, driven by Playwright.

Needs Debian's chromium (``make setup`` installs it when apt is available); skipped
otherwise. Each test starts its own server on 127.0.0.1 with a token, over a temporary
copy of the notebooks (the browser saves outputs; the committed notebooks stay clean).
Screenshots go to ``_build/browser/`` (git-ignored), kept as test artefacts.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import time
from pathlib import Path

import pytest

from tests.helpers import ARTEFACTS, CHROMIUM, ROOT, JupyterServer
from tests.helpers import CHROMIUM_FLAGS as FLAGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed (apt install chromium)"
    ),
]


def lab_server(root: Path, env: dict) -> JupyterServer:
    """``jupyter lab`` (also serving Notebook 7 at /tree and /notebooks) on loopback."""
    # fresh settings: render every cell (no windowing), so outputs can be read and pictured
    settings = root / ".settings"
    tracker = settings / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    return JupyterServer(
        root,
        env,
        "jupyterlab",
        "--LabApp.expose_app_in_browser=True",
        "--JupyterNotebookApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={settings}",
        f"--LabApp.workspaces_dir={root / '.workspaces'}",
        "--ServerApp.disable_check_xsrf=True",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    )


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    # a copy of the course: lessons plus the nbgrader course directory (config, sources)
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "lessons" / "data", root / "lessons" / "data")  # as published: lesson 05's digits
    shutil.copytree(ROOT / "assignments", root / "assignments")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    shutil.copy(ROOT / "course.toml", root)  # nbgrader_config.py reads the course configuration
    # fast mode as published (COURSE_FAST=1 only): its one-second trainings must look live too
    env = dict(os.environ, COURSE_FAST="1", TF_CPP_MIN_LOG_LEVEL="2")
    # and matplotlib's notebook backend, as for a student (conftest sets MPLBACKEND=Agg for pytest,
    # under which a kernel shows no figure of plt.show() at all)
    for name in (
        "COURSE_FAST_SIZES",
        "COURSE_LIVE_BUDGET",
        "COURSE_LIVE_FRAMES",
        "NBGRADER_EXECUTION",
        "MPLBACKEND",
    ):
        env.pop(name, None)
    srv = lab_server(root, env)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1400, "height": 1000},
        )
        yield context
        context.close()


# JavaScript run in the page: JupyterLab's notebook model through window.jupyterapp.
_LAB_STATE = """() => {
  if (!window.jupyterapp || !window.jupyterapp.shell) return null;
  const w = window.jupyterapp.shell.currentWidget;
  if (!w || !w.content || !w.sessionContext) return null;
  const cells = w.content.widgets.map((c, i) => ({
    i, type: c.model.type, source: c.model.sharedModel.getSource(),
    count: c.model.type === 'code' ? c.model.executionCount : null,
    imgs: Array.from(c.node.querySelectorAll('.jp-OutputArea-output img')).map(im => im.src.length + ':' + im.src.slice(-64)),
    text: Array.from(c.node.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stdout"]')).map(e => e.innerText).join('\\n'),
    errors: c.model.type === 'code' ? c.model.outputs.toJSON().filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue) : [],
  }));
  const session = w.sessionContext.session;
  return {path: w.context ? w.context.path : null, status: w.sessionContext.kernelDisplayStatus,
          kernel: !!(session && session.kernel), cells};
}"""


_SCROLL_TO_PLOT = """(i) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
  const img = cell.node.querySelector('.jp-OutputArea-output img');
  (img || cell.node).scrollIntoView({block: 'center'});
}"""


# Counts every picture a cell's output shows: JupyterLab renders each update of a display handle
# as a new <img> (or a new src), so a MutationObserver sees each redraw, however fast they come.
_COUNT_REDRAWS = """() => {
  if (window.__redraws) return;
  window.__redraws = {};
  const hash = (s) => { let h = 2166136261; for (let i = 0; i < s.length; i += 7) { h ^= s.charCodeAt(i); h = Math.imul(h, 16777619); } return s.length + ':' + (h >>> 0); };
  const seen = (img) => {
    const cell = img.closest('.jp-Cell'), output = img.closest('.jp-OutputArea-output');
    if (!cell || !output || !img.src.startsWith('data:image/png')) return;
    const cells = window.jupyterapp.shell.currentWidget.content.widgets;
    const i = cells.findIndex(c => c.node === cell);
    const list = (window.__redraws[i] = window.__redraws[i] || []);
    const key = hash(img.src);
    if (list[list.length - 1] !== key) list.push(key);
  };
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      if (m.type === 'attributes' && m.target.tagName === 'IMG') seen(m.target);
      for (const node of m.addedNodes || []) {
        if (node.nodeType !== 1) continue;
        if (node.tagName === 'IMG') seen(node);
        node.querySelectorAll && node.querySelectorAll('img').forEach(seen);
      }
    }
  }).observe(document.body, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
}"""

# Runs code in the notebook's kernel and returns what it printed.
_KERNEL_RUN = """async (code) => {
  const context = window.jupyterapp.shell.currentWidget.sessionContext;
  await context.ready;
  const kernel = context.session.kernel;
  const future = kernel.requestExecute({code, store_history: false});
  let text = '';
  future.onIOPub = (msg) => {
    if (msg.header.msg_type === 'stream') text += msg.content.text;
    if (msg.header.msg_type === 'error') text += 'ERROR ' + msg.content.ename + ': ' + msg.content.evalue;
  };
  await future.done;
  return text;
}"""

# Before the lesson runs: remember every LivePlot with the source of the cell that made it.
_RECORD_PLOTS = """
import course_utils.live as _live
_live_plots = []
if not hasattr(_live.LivePlot, "_unrecorded_init"):  # once per kernel (several tests may share one)
    _live.LivePlot._unrecorded_init = _live.LivePlot.__init__
    def _recording_init(self, *args, **kwargs):
        _live.LivePlot._unrecorded_init(self, *args, **kwargs)
        _live_plots.append((get_ipython().history_manager.input_hist_raw[-1], self))
    _live.LivePlot.__init__ = _recording_init
"""

# After it ran: what the training cell's plot shows, in the pixels of its PNG (origin top left).
_DESCRIBE_PLOT = """
import json
from course_utils.report import figure_problems
_made = [p for p in _live_plots if p[0].strip() == json.loads({source!r}).strip()]
assert _made, f"no LivePlot made by that cell among {{len(_live_plots)}}"
_plot = _made[-1][1]
_fig = _plot.figure
_fig.canvas.draw()
_h = _fig.bbox.height
def _box(artist):
    b = artist.get_window_extent()
    return [b.x0, _h - b.y1, b.x1, _h - b.y0]
_points = []
for _ax in _fig.axes:
    for _line in _ax.get_lines():
        if _line.get_label().startswith("val_"):
            _x, _y = _ax.transData.transform((_line.get_xdata()[-1], _line.get_ydata()[-1]))
            _points.append(dict(name=_line.get_label(), marker=_line.get_marker(), n=len(_line.get_xdata()),
                                color=_line.get_color(), xy=[float(_x), float(_h - _y)]))
print("PLOT" + json.dumps(dict(
    size=[_fig.bbox.width, _h], renders=_plot.renders, problems=figure_problems(_fig),
    titles=[a.get_title() for a in _fig.axes], ylabels=[a.get_ylabel() for a in _fig.axes],
    ylabel_boxes=[_box(a.yaxis.label) for a in _fig.axes], val=_points)))
"""


def _eval(page, script: str, arg=None):
    """``page.evaluate``, or None while the page is navigating (JupyterLab reloads itself after
    ``?reset``; an evaluation then loses its context): for the predicates of :func:`_wait`."""
    from playwright.sync_api import Error as PlaywrightError

    try:
        return page.evaluate(script, arg)
    except PlaywrightError as err:
        if "context was destroyed" in str(err) or "navigation" in str(err):
            return None
        raise


def _wait(predicate, timeout, what, interval=0.5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _is_training_cell(source: str) -> bool:
    """The MNIST lesson's CNN training cell, in either track."""
    keras = "cnn.fit(" in source and "callbacks" in source
    return keras or "history = fit(cnn" in source


def run_all_and_watch(page, name: str, path: str):
    """Run all cells of the notebook at ``path``, counting the pictures of every output and
    polling the notebook's state."""

    def started() -> bool:
        # that notebook in front (JupyterLab's workspace may still restore an earlier test's
        # notebook, whose kernel is already idle), its kernel idle and its session there
        state = _eval(page, _LAB_STATE) or {}
        return state.get("path") == path and state.get("status") == "idle" and state.get("kernel")

    _wait(started, 180, f"{path} in front and its kernel started")
    page.evaluate(_COUNT_REDRAWS)
    page.evaluate(_KERNEL_RUN, _RECORD_PLOTS)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")  # don't await it
    seen: dict[int, set] = {}
    deadline = time.time() + 400
    state = None
    while time.time() < deadline:
        state = page.evaluate(_LAB_STATE)
        for cell in state["cells"]:
            if cell["type"] == "code" and _is_training_cell(cell["source"]) and cell["imgs"]:
                seen.setdefault(cell["i"], set()).add(cell["imgs"][0])
        codes = [c for c in state["cells"] if c["type"] == "code" and c["source"].strip()]
        if state["status"] == "idle" and codes and all(c["count"] is not None for c in codes):
            break
        if state["status"] == "idle" and any(c["errors"] for c in codes):
            break  # run-all stops at an error
        time.sleep(0.3)
    page.screenshot(path=str(ARTEFACTS / f"{name}-end.png"), full_page=False)
    return state, seen


def _near(pixels, xy, rgb, radius=2, tolerance=60) -> bool:
    """Whether a pixel within ``radius`` of ``xy`` has the colour ``rgb`` (0-255), give or take."""
    x0, y0 = round(xy[0]), round(xy[1])
    return any(
        sum(abs(a - b) for a, b in zip(pixels[x, y][:3], rgb, strict=True)) <= tolerance
        for x in range(x0 - radius, x0 + radius + 1)
        for y in range(y0 - radius, y0 + radius + 1)
    )


@pytest.mark.parametrize("client, track", [("lab", "pytorch"), ("lab", "keras"), ("notebook7", "pytorch")])
def test_live_plot_updates_in_place(server, browser, client, track):
    """Fast mode as published: the CNN's one-second training redraws >= 5 times, as it should look."""
    from matplotlib.colors import to_rgb
    from PIL import Image

    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    name = f"{client}-{track}"
    page = browser.new_page()
    path = f"notebooks/{track}/05_mnist.ipynb"
    url = f"{path}?token={server.token}"
    page.goto(f"{server.url}/lab/tree/{url}" if client == "lab" else f"{server.url}/notebooks/{url}")
    state, _ = run_all_and_watch(page, name, path)
    codes = [c for c in state["cells"] if c["type"] == "code" and c["source"].strip()]
    raised = [(c["i"], c["errors"]) for c in state["cells"] if c["errors"]]  # error outputs of the model
    assert not raised, f"cells raised: {raised}"
    assert all(c["count"] is not None for c in codes), (
        f"not every cell ran: {[c['i'] for c in codes if c['count'] is None]} did not"
    )
    training = [c for c in state["cells"] if _is_training_cell(c["source"])]
    assert len(training) == 1, [c["source"][:80] for c in training]
    cell = training[0]
    assert len(cell["imgs"]) == 1, f"the live plot must be ONE image, found {len(cell['imgs'])}"
    assert "epoch 1/1" in cell["text"], f"printed lines were lost: {cell['text']!r}"
    # every picture the browser showed in the training cell's output, counted as it came
    redraws = page.evaluate("() => window.__redraws")
    pictures = redraws.get(str(cell["i"]), [])
    print(f"{name}: the training cell showed {len(pictures)} pictures")
    assert len(pictures) >= 5, f"the training cell showed {len(pictures)} pictures; a live plot needs >= 5"
    # the figure behind the last picture (asked from the kernel), then the picture's own pixels
    printed = page.evaluate(_KERNEL_RUN, _DESCRIBE_PLOT.format(source=json.dumps(cell["source"])))
    assert "PLOT" in printed, printed
    plot = json.loads(printed.split("PLOT", 1)[1])
    assert plot["problems"] == [], "check_figure objects to the live plot"
    assert plot["titles"] == ["loss", "accuracy"] and plot["ylabels"] == ["loss", "accuracy"], plot
    assert [p["name"] for p in plot["val"]] == ["val_loss", "val_accuracy"], plot["val"]
    page.evaluate(_SCROLL_TO_PLOT, cell["i"])
    page.evaluate(
        """(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].node
                     .querySelector('.jp-OutputArea-output img').setAttribute('data-test', 'live-plot')""",
        cell["i"],
    )
    shot_path = ARTEFACTS / f"{name}-live-plot.png"
    page.locator("img[data-test=live-plot]").screenshot(path=str(shot_path))
    page.screenshot(path=str(ARTEFACTS / f"{name}-end.png"))
    shot = Image.open(shot_path).convert("RGB")
    scale = shot.width / plot["size"][0]  # 1 unless the page scales the picture
    pixels = shot.load()
    for point in plot["val"]:  # one epoch: one point, visible only as a marker
        assert point["n"] == 1 and point["marker"] not in ("None", ""), point
        rgb = [round(255 * c) for c in to_rgb(point["color"])]
        xy = [scale * v for v in point["xy"]]
        assert _near(pixels, xy, rgb), f"no {point['name']} marker ({point['color']}) at {xy} in {shot_path}"
    for label, box in zip(plot["ylabels"], plot["ylabel_boxes"], strict=True):
        x0, y0, x1, y1 = (round(scale * v) for v in box)
        dark = sum(1 for x in range(x0, x1) for y in range(y0, y1) if sum(pixels[x, y]) < 300)
        assert dark >= 10, f"the y label {label!r} is not drawn at {box} in {shot_path}"
    # the same lesson's other pictures: filters in rows of 8, the score animation's colours
    filters = [c["i"] for c in state["cells"] if c["source"].startswith("plot_filters(")]
    assert len(filters) == 1, "lesson 5 draws its CNN's filters in one cell"
    png = page.evaluate(
        """(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].model.outputs.toJSON()
        .filter(o => o.data && o.data['image/png']).map(o => o.data['image/png'])[0]""",
        filters[0],
    )
    header = base64.b64decode(png[:44])  # the PNG's IHDR: width and height at bytes 16 to 24
    size = int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")
    page.evaluate(
        "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].node.scrollIntoView()", filters[0]
    )
    time.sleep(1)  # let the page render the outputs that came into view
    page.screenshot(path=str(ARTEFACTS / f"{name}-filters.png"))
    assert size[0] > size[1], f"16 filters drawn {size} px: not rows of 8"
    colours = page.evaluate(
        _KERNEL_RUN,
        "import json; print('COLOURS' + json.dumps(["
        "animation.acc_line.get_color(), [l.get_color() for l in animation.lines]]))",
    )
    acc, digits = json.loads(colours.split("COLOURS", 1)[1])
    animation = [c["i"] for c in state["cells"] if "ScoreAnimation()," in c["source"]]
    page.evaluate(
        "(i) => window.jupyterapp.shell.currentWidget.content.widgets[i].node"
        ".querySelector('.jp-Cell-outputWrapper').scrollIntoView()",
        animation[0],
    )  # its pictures
    time.sleep(1)
    page.screenshot(path=str(ARTEFACTS / f"{name}-animation.png"))
    assert to_rgb(acc) not in {to_rgb(c) for c in digits}, f"'Acc' is drawn in a digit's colour ({acc})"
    page.close()


def test_kernel_playground_widget_reacts(server, browser):
    """Convolution lesson: typing a kernel value redraws the filtered digit."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page()
    path = "notebooks/pytorch/03_convolution.ipynb"
    page.goto(f"{server.url}/lab/tree/{path}?token={server.token}")
    state, _ = run_all_and_watch(page, "lab-widgets", path)
    assert all(c["count"] is not None for c in state["cells"] if c["type"] == "code" and c["source"].strip())
    picture = page.locator("img.widget-image").first
    picture.scroll_into_view_if_needed()
    picture.wait_for(timeout=30_000)
    before = picture.screenshot()
    box = page.locator(".widget-text input").nth(4)  # the centre of the 3x3 kernel
    box.fill("5")
    box.press("Enter")
    _wait(lambda: picture.screenshot() != before, 30, "the filtered picture to change")
    page.screenshot(path=str(ARTEFACTS / "lab-widgets-after.png"))
    page.close()


def test_nbgrader_formgrader_and_assignment_list(server, browser):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page()
    page.goto(f"{server.url}/formgrader?token={server.token}")
    names = sorted(
        p.name for p in (ROOT / "assignments").iterdir() if p.is_dir() and not p.name.startswith(".")
    )  # not .ruff_cache
    assert names, "no assignments in assignments/"
    for name in names:
        page.get_by_text(name, exact=True).first.wait_for(timeout=60_000)
    page.screenshot(path=str(ARTEFACTS / "formgrader.png"), full_page=True)
    # a fresh workspace (no notebooks reopened from the earlier tests), fully restored
    # before the command runs: restoring a layout afterwards would close the new panel
    page.goto(f"{server.url}/lab?reset&token={server.token}")
    restored = "() => window.jupyterapp && window.jupyterapp.shell ? window.jupyterapp.restored.then(() => true) : null"
    _wait(lambda: _eval(page, restored), 120, "JupyterLab")

    def nbgrader_commands():
        commands = _eval(page, "() => window.jupyterapp ? window.jupyterapp.commands.listCommands() : null")
        return [c for c in commands or [] if "nbgrader" in c.lower()]

    commands = _wait(nbgrader_commands, 120, "nbgrader's JupyterLab extension")
    student = [c for c in commands if "assignment" in c and "list" in c]
    assert student, f"no nbgrader assignment-list command among {commands}"
    heading = page.get_by_text("Released assignments").first

    def panel_open():
        if not heading.is_visible():  # (re)open: idempotent when the panel is already there
            page.evaluate(f"() => window.jupyterapp.commands.execute('{student[0]}').then(() => true)")
        return heading.is_visible()

    try:
        _wait(panel_open, 90, "the nbgrader Assignments panel", interval=5)
    finally:
        page.screenshot(path=str(ARTEFACTS / "lab-assignments-panel.png"))
    page.screenshot(path=str(ARTEFACTS / "lab-assignments-panel.png"))
    page.close()
