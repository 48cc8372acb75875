"""Real clients: JupyterLab 4 and Notebook 7 in headless Chromium, driven by Playwright.

Needs Debian's chromium (``make setup`` installs it when apt is available); skipped
otherwise. Each test starts its own server on 127.0.0.1 with a token, over a temporary
copy of the notebooks (the browser saves outputs; the committed notebooks stay clean).
Screenshots go to ``_build/browser/`` (git-ignored), kept as test artefacts.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import ARTEFACTS, CHROMIUM, ROOT
from tests.helpers import CHROMIUM_FLAGS as FLAGS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} not installed (apt install chromium)"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``jupyter lab`` (also serving Notebook 7 at /tree and /notebooks) on loopback."""

    def __init__(self, root: Path, env: dict):
        self.port, self.token = _free_port(), "course-test-token"
        self.root = root
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(root / "server.log", "w")  # noqa: SIM115
        # fresh settings: render every cell (no windowing), so outputs can be read and pictured
        settings = root / ".settings"
        tracker = settings / "@jupyterlab" / "notebook-extension"
        tracker.mkdir(parents=True)
        (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={self.port}",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={root}",
               "--LabApp.expose_app_in_browser=True", "--JupyterNotebookApp.expose_app_in_browser=True",
               f"--LabApp.user_settings_dir={settings}",
               f"--LabApp.workspaces_dir={root / '.workspaces'}", "--ServerApp.disable_check_xsrf=True",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]  # fmt: skip
        self.proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2)
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"JupyterLab did not start; see {root / 'server.log'}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    # a copy of the course: lessons plus the nbgrader course directory (config, sources)
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    shutil.copytree(ROOT / "assignments", root / "assignments")
    shutil.copy(ROOT / "nbgrader_config.py", root)
    shutil.copy(ROOT / "course.toml", root)  # nbgrader_config.py reads the course configuration
    bin_dir = str(Path(sys.executable).parent)  # nbgrader runs `alembic` from PATH
    env = dict(os.environ, COURSE_FAST="1", TF_CPP_MIN_LOG_LEVEL="2", PATH=bin_dir + os.pathsep + os.environ["PATH"],
               # long enough training to watch, and a redraw at least every second
               COURSE_FAST_SIZES="20000,1000", COURSE_LIVE_BUDGET="0.5")  # fmt: skip
    srv = Server(root, env)
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS,
            viewport={"width": 1400, "height": 1000})  # fmt: skip
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
  return {status: w.sessionContext.kernelDisplayStatus, cells};
}"""


_SCROLL_TO_PLOT = """(i) => {
  const cell = window.jupyterapp.shell.currentWidget.content.widgets[i];
  const img = cell.node.querySelector('.jp-OutputArea-output img');
  (img || cell.node).scrollIntoView({block: 'center'});
}"""


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


def run_all_and_watch(page, name: str):
    """Run all cells; while the training cell runs, screenshot its output twice, seconds apart."""
    _wait(lambda: (page.evaluate(_LAB_STATE) or {}).get("status") == "idle", 180, "the kernel to start")
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")  # don't await it
    seen: dict[int, set] = {}
    shots: list[bytes] = []
    last_shot = 0.0
    deadline = time.time() + 400
    state = None
    while time.time() < deadline:
        state = page.evaluate(_LAB_STATE)
        for cell in state["cells"]:
            if cell["type"] == "code" and _is_training_cell(cell["source"]) and cell["imgs"]:
                seen.setdefault(cell["i"], set()).add(cell["imgs"][0])
                running = cell["count"] is None
                if running and len(shots) < 2 and time.time() - last_shot >= 2.0:  # seconds apart
                    page.evaluate(_SCROLL_TO_PLOT, cell["i"])
                    path = ARTEFACTS / f"{name}-training-{len(shots)}.png"
                    page.screenshot(path=str(path))
                    shots.append(path.read_bytes())
                    last_shot = time.time()
        codes = [c for c in state["cells"] if c["type"] == "code" and c["source"].strip()]
        if state["status"] == "idle" and codes and all(c["count"] is not None for c in codes):
            break
        time.sleep(0.3)
    page.screenshot(path=str(ARTEFACTS / f"{name}-end.png"), full_page=False)
    return state, seen, shots


@pytest.mark.parametrize("client, track", [("lab", "pytorch"), ("lab", "keras"), ("notebook7", "pytorch")])
def test_live_plot_updates_in_place(server, browser, client, track):
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page()
    path = f"notebooks/{track}/05_mnist.ipynb?token={server.token}"
    page.goto(f"{server.url}/lab/tree/{path}" if client == "lab" else f"{server.url}/notebooks/{path}")
    state, seen, shots = run_all_and_watch(page, f"{client}-{track}")
    codes = [c for c in state["cells"] if c["type"] == "code" and c["source"].strip()]
    assert all(c["count"] is not None for c in codes), "not every cell ran"
    raised = [(c["i"], c["errors"]) for c in state["cells"] if c["errors"]]  # error outputs of the model
    assert not raised, f"cells raised: {raised}"
    training = [c for c in state["cells"] if _is_training_cell(c["source"])]
    assert len(training) == 1, [c["source"][:80] for c in training]
    cell = training[0]
    assert len(cell["imgs"]) == 1, f"the live plot must be ONE image, found {len(cell['imgs'])}"
    assert len(seen.get(cell["i"], ())) >= 2, "the live plot never changed while training"
    assert len(shots) == 2 and shots[0] != shots[1], "two screenshots seconds apart should differ"
    assert "epoch 1/1" in cell["text"], f"printed lines were lost: {cell['text']!r}"
    page.close()


def test_kernel_playground_widget_reacts(server, browser):
    """Convolution lesson: typing a kernel value redraws the filtered digit."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page = browser.new_page()
    page.goto(f"{server.url}/lab/tree/notebooks/pytorch/03_convolution.ipynb?token={server.token}")
    state, _, _ = run_all_and_watch(page, "lab-widgets")
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
    names = sorted(p.name for p in (ROOT / "assignments").iterdir() if p.is_dir())
    assert names, "no assignments in assignments/"
    for name in names:
        page.get_by_text(name, exact=True).first.wait_for(timeout=60_000)
    page.screenshot(path=str(ARTEFACTS / "formgrader.png"), full_page=True)
    # a fresh workspace (no notebooks reopened from the earlier tests), fully restored
    # before the command runs: restoring a layout afterwards would close the new panel
    page.goto(f"{server.url}/lab?reset&token={server.token}")
    _wait(lambda: page.evaluate("() => !!(window.jupyterapp && window.jupyterapp.shell)"), 120, "JupyterLab")
    page.evaluate("() => window.jupyterapp.restored.then(() => true)")
    def nbgrader_commands():
        commands = page.evaluate("() => window.jupyterapp.commands.listCommands()")
        return [c for c in commands if "nbgrader" in c.lower()]

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
