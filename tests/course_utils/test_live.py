"""LivePlot: in place in a real kernel, cheap, final state kept, history and files."""

from __future__ import annotations

import math

import pytest

from course_utils import LivePlot
from tests.helpers import ROOT, run_notebook


def _images(outputs):
    kinds = ("display_data", "execute_result")
    return [o for o in outputs if o.output_type in kinds and "image/png" in o.get("data", {})]


def test_updates_in_place_in_a_real_kernel_and_keeps_printed_text():
    code = """
from course_utils import LivePlot
print("start of training")
live = LivePlot(xlabel="epoch")
for i in range(40):
    live.update(loss=1 / (i + 1), accuracy=i / 40)
    if i % 10 == 0:
        print(f"step {i}")
        live.render()  # force a redraw (normally the time budget decides)
live.finish()
print("renders", live.renders)
"""
    nb = run_notebook([code])
    outputs = nb.cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    for line in ("start of training", "step 0", "step 30"):
        assert line in text, f"printed line {line!r} was wiped from the output"
    renders = int(text.split("renders")[1].split()[0])
    assert renders >= 4, "the plot should have been redrawn several times"
    images = _images(outputs)
    assert len(images) == 1, f"expected ONE image output updated in place, got {len(images)}"


def test_headless_run_keeps_final_figure_in_saved_notebook():
    # default throttle: with a short run only the final render happens, and it must be saved
    nb = run_notebook(
        [
            "from course_utils import LivePlot\nlive = LivePlot()\n"
            "for i in range(5): live.update(loss=1 / (i + 1))\nlive.finish()"
        ]
    )
    assert len(_images(nb.cells[0].outputs)) == 1


def test_throttle_spaces_renders_by_measured_cost(monkeypatch):
    """With a fake clock: renders come no closer than cost / budget seconds apart."""
    import course_utils.live as live_module

    clock = {"now": 0.0}
    monkeypatch.setattr(live_module.time, "perf_counter", lambda: clock["now"])
    live = LivePlot(budget=0.02, min_interval=0.5)
    calls = []

    def fake_render():
        calls.append(clock["now"])
        clock["now"] += 0.04  # every render "costs" 40 ms
        live._render_cost, live._last_render = 0.04, clock["now"]
        live.renders += 1

    monkeypatch.setattr(live, "render", fake_render)
    for _ in range(1000):  # 10 s of training, 10 ms per step
        clock["now"] += 0.01
        live.update(loss=1.0)
    gaps = [b - a for a, b in zip(calls, calls[1:], strict=False)]
    assert calls and min(gaps) >= 0.04 / 0.02  # 2 s apart: 2 % of wall time
    assert 3 <= len(calls) <= 6


def test_history_panels_twin_and_files(tmp_path):
    live = LivePlot(panels={"scores": [f"s{i}" for i in range(10)]}, twin={"scores": ["accuracy"]})
    for step in range(20):
        live.update({f"s{i}": math.sin(step + i) for i in range(10)}, step=step, accuracy=step / 20)
        live.update(step=step, loss=1 / (step + 1))
    live.finish()
    frame = live.history
    assert frame.shape == (20, 12)
    assert frame.index.name == "step"
    fig = live.figure
    assert len(fig.axes) == 3  # scores + its right axis, loss
    assert fig.axes[1].get_ylabel() == "accuracy"
    png = live.save(str(tmp_path / "run.png"))
    assert (tmp_path / "run.png").stat().st_size > 1000 and png.endswith("run.png")


def test_validation_metrics_share_a_panel():
    live = LivePlot()
    live.update(loss=1.0, accuracy=0.5, val_loss=1.1, val_accuracy=0.4)
    titles = [ax.get_title() for ax in live.figure.axes]
    assert titles == ["loss", "accuracy"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"budget": 0}, "budget"),
        ({"min_interval": -1}, "min_interval"),
    ],
)
def test_bad_arguments_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LivePlot(**kwargs)


def test_non_numeric_metric_explains_item():
    live = LivePlot()
    with pytest.raises(TypeError, match=r"loss.item\(\)"):
        live.update(loss=[1, 2])


def test_budget_from_environment(monkeypatch):
    monkeypatch.setenv("COURSE_LIVE_BUDGET", "0.5")
    assert LivePlot().budget == 0.5
    assert LivePlot(budget=0.1).budget == 0.1
    monkeypatch.setenv("COURSE_LIVE_BUDGET", "2")
    with pytest.raises(ValueError, match="budget"):
        LivePlot()


def test_interactive_backend_draws_on_its_canvas():
    """With %matplotlib widget (ipympl) the plot is one live canvas redrawn with draw_idle."""
    pytest.importorskip("ipympl", reason="ipympl is not installed (Colab does not ship it)")
    code = """
%matplotlib widget
from course_utils import LivePlot
live = LivePlot(min_interval=0.0)
for i in range(5):
    live.update(loss=1 / (i + 1))
    live.render()
live.finish()
print(live._mode, live.renders)
"""
    nb = run_notebook([code])
    outputs = nb.cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert text.split()[0] == "interactive" and int(text.split()[1]) >= 5
    views = [o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(views) == 1, "one canvas widget, updated in place"
    # ipympl adds a static PNG of the canvas to the same output (for viewers without widgets)
    assert len(_images(outputs)) <= 1 and all(o in views for o in _images(outputs))


def test_new_lines_join_the_drawn_figure_and_new_panels_rebuild_it():
    live = LivePlot()
    live.update(loss=1.0, accuracy=0.5)
    live.render()
    fig = live.figure
    live.update(step=1, val_loss=1.1, val_accuracy=0.4)
    live.render()
    assert live.figure is fig, "validation lines go into the panels already drawn"
    loss_ax = fig.axes[0]
    assert [line.get_label() for line in loss_ax.get_lines()] == ["loss", "val_loss"]
    assert [t.get_text() for t in loss_ax.get_legend().get_texts()] == ["loss", "val_loss"]
    live.update(step=2, lr=0.1)
    live.render()
    assert live.figure is not fig
    assert [ax.get_title() for ax in live.figure.axes] == ["loss", "accuracy", "lr"]


def test_figure_is_built_while_the_model_trains():
    """The first update starts building the figure in a helper thread; the render adopts it."""
    live = LivePlot()
    live.update(loss=1.0, accuracy=0.5)
    job = live._prebuilt
    assert job is not None
    job.thread.join()
    live.render()
    assert live.figure is job._built[0]
    assert live._prebuilt is None
    panels = LivePlot(panels={"scores": ["s0", "s1"]})  # panels known: built from the start
    assert panels._prebuilt is not None


@pytest.mark.parametrize("mode", ["script", "inline"])
def test_first_render_in_a_fresh_process_imports_nothing(mode):
    """Imports (matplotlib, Agg, Pillow's plugins) happen in a helper thread, not in a render."""
    import os
    import subprocess
    import sys

    code = f"""
import os, sys, threading
if {mode!r} == "inline":
    import IPython  # as in a kernel
import course_utils.live as live_module
from course_utils import LivePlot

class Handle:
    def update(self, obj):
        pass

live_module._choose_mode = lambda: {mode!r}
live_module._display = lambda obj, display_id=False: Handle()
live = LivePlot()
live.update(loss=1.0, accuracy=0.5)
for thread in threading.enumerate():
    if thread is not threading.main_thread():
        thread.join()
before = set(sys.modules)
live.render()
print("NEW", sorted(set(sys.modules) - before))
warm_up = live_module._warm_up_thread
live2 = LivePlot()
live2.update(loss=1.0)  # starts building its figure in a helper thread
print("ONE WARM-UP", live_module._warm_up_thread is warm_up)
if hasattr(os, "fork"):  # not on Windows
    pid = os.fork()  # waits for the helpers first: no lock is left held in the child
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
print("ALIVE AFTER FORK", [t.name for t in live_module._helpers if t.is_alive()])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "NEW []" in out.stdout, out.stdout
    assert "ONE WARM-UP True" in out.stdout, out.stdout
    assert "ALIVE AFTER FORK []" in out.stdout or not hasattr(os, "fork"), out.stdout


def _as_in_a_kernel(monkeypatch):
    """LivePlot as in a notebook (frames on), drawing on its Agg canvas instead of displaying."""
    import course_utils.live as live_module

    monkeypatch.setattr(live_module, "in_notebook", lambda: True)
    monkeypatch.setattr(live_module, "_choose_mode", lambda: "script")


def test_a_short_run_of_known_length_shows_its_frames(monkeypatch):
    """12 batches in a fraction of a second: the time budget alone would draw only the end."""
    _as_in_a_kernel(monkeypatch)
    live = LivePlot(xlabel="epoch", min_interval=60.0, frames=8)  # no render by the clock
    live.expect(1)
    drawn_at = []
    for i in range(12):
        before = live.renders
        live.update(step=(i + 1) / 12, loss=1 / (i + 1), accuracy=i / 12)
        if live.renders > before:
            drawn_at.append(i + 1)
    assert drawn_at == [2, 3, 5, 6, 8, 9, 11, 12], "8 pictures, evenly spread over the 12 batches"
    live.update(step=1, val_loss=0.5, val_accuracy=0.7)
    live.finish()
    assert live.renders == 9
    live.expect(1)  # a second run on the same plot (steps start again at 0): 8 pictures again
    for i in range(12):
        live.update(step=(i + 1) / 12, loss=1.0)
    assert live.renders == 17


def test_frames_only_where_someone_watches(monkeypatch):
    for name in ("COURSE_LIVE_FRAMES", "NBGRADER_EXECUTION"):
        monkeypatch.delenv(name, raising=False)
    assert LivePlot().frames == 0, "outside a notebook nothing is shown before the end"
    _as_in_a_kernel(monkeypatch)
    assert LivePlot().frames == 8
    monkeypatch.setenv("COURSE_LIVE_FRAMES", "20")
    assert LivePlot().frames == 20
    monkeypatch.setenv("COURSE_LIVE_FRAMES", "many")
    with pytest.raises(ValueError, match="COURSE_LIVE_FRAMES"):
        LivePlot()
    monkeypatch.delenv("COURSE_LIVE_FRAMES")
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert LivePlot().frames == 0, "nobody watches an autograde run"
    with pytest.raises(ValueError, match="total"):
        LivePlot().expect(0)


def test_budget_variable_says_what_it_takes(monkeypatch):
    monkeypatch.setenv("COURSE_LIVE_BUDGET", "0.5")
    assert LivePlot().budget == 0.5
    monkeypatch.setenv("COURSE_LIVE_BUDGET", "a lot")
    with pytest.raises(ValueError, match=r"COURSE_LIVE_BUDGET must be a fraction of wall time in \(0, 1\]"):
        LivePlot()


def _torch_live_figure():
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from course_utils.torch_training import fit

    torch.manual_seed(0)
    x = torch.randn(64, 4)
    y = (x[:, 0] > 0).long()
    live = LivePlot(xlabel="epoch")
    fit(
        torch.nn.Linear(4, 2),
        DataLoader(TensorDataset(x, y), batch_size=16),
        DataLoader(TensorDataset(x, y), batch_size=64),
        epochs=1,
        live=live,
        verbose=False,
    )
    return live.figure


def _keras_live_figure():
    import keras
    import numpy as np

    from course_utils.keras_callback import LivePlotCallback

    x = np.random.default_rng(0).normal(size=(64, 4))
    y = (x[:, 0] > 0).astype(int)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    callback = LivePlotCallback(verbose=False)
    model.fit(x, y, epochs=1, batch_size=16, validation_split=0.25, callbacks=[callback], verbose=0)
    return callback.live.figure


def _plain_live_figure():
    live = LivePlot(xlabel="epoch")
    live.update(step=1, accuracy=0.5, loss=1.0, val_loss=1.1, val_accuracy=0.4)
    return live.figure


def _twin_live_figure():  # lesson 5's score animation: loss left, accuracy right
    live = LivePlot(
        panels={"training": ["loss"]},
        ylabels={"training": "loss"},
        twin={"training": ["accuracy"]},
        xlabel="batch",
    )
    for batch in range(1, 4):
        live.update(step=batch, loss=1 / batch, accuracy=batch / 4)
    return live.figure


def _runs_live_figure():  # lessons 7 and 8: one panel, one line per run
    live = LivePlot(panels={"validation accuracy": ["SGD", "Adam"]}, xlabel="epoch")
    live.update(step=1, SGD=0.5, Adam=0.6)
    return live.figure


@pytest.mark.parametrize(
    "make", [_plain_live_figure, _twin_live_figure, _runs_live_figure, _torch_live_figure, _keras_live_figure]
)
def test_every_live_figure_passes_the_report_rules(make, capsys):
    """Labelled axes (check_figure), loss before accuracy, one epoch visible as markers."""
    from course_utils.report import check_figure, figure_problems

    fig = make()
    assert figure_problems(fig) == []
    check_figure(fig)
    assert "report rules: nothing found" in capsys.readouterr().out
    fig.canvas.draw()
    inside = fig.bbox.padded(1)
    for ax in fig.axes:
        assert ax.get_ylabel(), f"panel {ax.get_title()!r} has no y label"
        lo, hi = sorted(ax.get_ylim())
        ticks = [t for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True) if lo <= y <= hi]
        for text in (ax.yaxis.label, ax.xaxis.label, ax.title, *ticks):  # all that is drawn
            box = text.get_window_extent()
            assert inside.contains(box.x0, box.y0) and inside.contains(box.x1, box.y1), (
                f"{text.get_text()!r} of panel {ax.get_title()!r} is cut off: {box} outside {fig.bbox}"
            )
        for line in ax.get_lines():
            if len(line.get_xdata()) == 1:  # one point: only a marker shows it
                assert line.get_marker() not in ("None", "", None), f"{line.get_label()} is invisible"
    if make in (_plain_live_figure, _torch_live_figure, _keras_live_figure):
        assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"], "one panel order in both tracks"
        assert [ax.get_ylabel() for ax in fig.axes] == ["loss", "accuracy"]
        val = [line for ax in fig.axes for line in ax.get_lines() if line.get_label().startswith("val_")]
        assert len(val) == 2 and all(len(line.get_xdata()) == 1 for line in val)


def test_markers_while_few_points_only():
    live = LivePlot()
    for step in range(1, 31):
        live.update(step=step, loss=1 / step, val_loss=1.1 / step)
    live.render()
    ax = live.figure.axes[0]
    line = ax.get_lines()[0]
    assert line.get_marker() == "o", "30 points (epochs): a dot on each"
    assert [h.get_marker() for h in ax.get_legend().legend_handles] == ["o", "o"]
    live.update(step=31, loss=0.01)
    live.render()
    assert line.get_marker() == "None", "31 points: a line, no dots"
    assert [h.get_marker() for h in ax.get_legend().legend_handles] == ["None", "o"], "the legend follows"
