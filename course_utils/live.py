"""Live training plots that update in place and cost almost nothing.

One :class:`LivePlot` draws any number of metrics in one or more panels. In a notebook
it owns one output (an IPython display handle) and replaces the picture there, so text
printed in the same cell stays visible — unlike ``clear_output``. Rendering is
throttled to a time budget (1.5 % of wall time by default) measured while it runs, and
the final state is always rendered, also in headless ``nbclient`` runs, where the saved
notebook keeps the last picture.

A short run would show no picture before its end under a time budget alone. When the caller
knows where training ends (:meth:`LivePlot.expect`; ``fit`` and ``LivePlotCallback`` call it),
the plot also draws at least ``frames`` pictures while it runs (8 by default, evenly spread
over the run): at most ``frames`` renders more per run (28 ms each for the MNIST CNN's
plot, measured on a 2-core CPU in the course's benchmark notes).
"""

from __future__ import annotations

import gc
import io
import math
import os
import sys
import threading
import time
from collections.abc import Iterable, Mapping

import numpy as np

from course_utils.env import autograding, in_notebook, setting

_INTERACTIVE = ("ipympl", "widget", "nbagg", "notebook")
_MARKER_POINTS = 30  # a line of at most this many points shows a marker on each (epochs, not batches)
_PANEL_RANK = {"loss": 0, "accuracy": 1, "acc": 1}  # automatic panels: loss first, then accuracy


class LivePlot:
    """Plot metrics while a model trains, in place.

    Parameters
    ----------
    panels:
        ``None`` groups metrics automatically (``loss`` with ``val_loss``, ...). Or a
        mapping ``{"panel title": ["metric", ...]}``; metrics not listed get a panel
        of their own when they first appear.
    twin:
        ``{"panel title": ["metric", ...]}``: metrics drawn on that panel's right-hand
        y-axis (for example class scores on the left, accuracy on the right).
    xlabel:
        Label of the x-axis (``"epoch"``, ``"step"``, ...).
    budget:
        Largest fraction of wall time spent rendering; default 0.015 (1.5 %), or the
        environment variable ``COURSE_LIVE_BUDGET`` (raise it to redraw more often).
    min_interval:
        Never render more often than this many seconds (the ``frames`` of :meth:`expect` aside).
    frames:
        Pictures drawn at least while a run of known length (:meth:`expect`) trains, whatever
        the budget; default 8, or ``COURSE_LIVE_FRAMES``; 0 while nbgrader autogrades (nobody
        watches) and outside notebooks.
    ylabels:
        ``{"panel title": "y label"}``; a panel's y-axis is labelled with its title otherwise.
    dpi, figsize:
        Picture size; modest values keep each render cheap.

    >>> live = LivePlot(xlabel="epoch")
    >>> for epoch in range(3):
    ...     live.update(loss=1 / (epoch + 1), accuracy=epoch / 3)
    >>> live.finish()
    >>> live.history.shape
    (3, 2)
    """

    def __init__(
        self,
        panels: Mapping[str, Iterable[str]] | None = None,
        twin: Mapping[str, Iterable[str]] | None = None,
        *,
        xlabel: str = "step",
        title: str | None = None,
        budget: float | None = None,
        min_interval: float = 1.0,
        dpi: int = 72,
        figsize: tuple[float, float] | None = None,
        ylim: Mapping[str, tuple[float, float]] | None = None,
        frames: int | None = None,
        ylabels: Mapping[str, str] | None = None,
    ) -> None:
        if budget is None:
            budget = _default_budget()
        if not 0 < budget <= 1:
            raise ValueError(f"budget is a fraction of wall time in (0, 1], got {budget!r}.")
        if min_interval < 0:
            raise ValueError(f"min_interval must be >= 0 seconds, got {min_interval!r}.")
        if frames is None:
            frames = _default_frames()
        if not isinstance(frames, int) or frames < 0:
            raise ValueError(f"frames must be an int >= 0 (pictures per run), got {frames!r}.")
        self._panels: dict[str, list[str]] = {k: list(v) for k, v in (panels or {}).items()}
        self._twin: dict[str, list[str]] = {k: list(v) for k, v in (twin or {}).items()}
        for panel in self._twin:
            self._panels.setdefault(panel, [])
        self._auto = panels is None
        self.xlabel = xlabel
        self.title = title
        self.budget = budget
        self.min_interval = min_interval
        self.dpi = dpi
        self.figsize = figsize
        self.ylim = dict(ylim or {})
        self.ylabels = dict(ylabels or {})
        self.frames = frames if in_notebook() else 0  # a script shows no picture before the end
        self._total: float | None = None  # where the run ends (expect); None: unknown
        self._start_step = 0.0
        self._next_frame = math.inf  # the step at which the next of the `frames` pictures is due
        self._latest_step = 0.0
        self._x: dict[str, list[float]] = {}
        self._y: dict[str, list[float]] = {}
        self._step = 0
        self._fig = None
        self._lines: dict[str, object] = {}
        self._axes: dict[str, tuple[object, object | None]] = {}
        self._handle = None
        self._mode = None  # "inline", "interactive" or "script", chosen at first render
        self._start = time.perf_counter()
        self._last_render = self._start
        self._render_cost = 0.05  # seconds; replaced by measurements
        self.renders = 0
        self.render_seconds = 0.0
        self._stale = False
        self._layout_stale = True
        self._fig_frame: tuple | None = None
        self._prebuilt: _Prebuild | None = None
        _start_warm_up()
        if self._frame()[0]:  # panels given: the figure can be built while the model trains
            self._prepare()

    # ------------------------------------------------------------------ data
    def update(
        self, metrics: Mapping[str, float] | None = None, step: float | None = None, **kwargs: float
    ) -> None:
        """Add one value per metric at ``step`` (default: the next integer) and redraw if due.

        >>> live = LivePlot(); live.update({"loss": 0.5}); live.update(loss=0.4, step=2)
        """
        values = dict(metrics or {}, **kwargs)
        if step is None:
            self._step += 1
            step = self._step
        else:
            if not isinstance(step, (int, float, np.integer, np.floating)):
                raise TypeError(f"step must be a number, got {type(step).__name__}.")
            self._step = max(self._step, math.ceil(step))
        self._latest_step = float(step)
        placed = False
        for name, value in values.items():
            if value is None:
                continue
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise TypeError(
                    f"Metric {name!r} must be a number (a float, or a tensor with one "
                    f"element: use loss.item()), got {type(value).__name__}."
                ) from None
            if name not in self._y:
                self._x[name], self._y[name] = [], []
                self._place(name)
                placed = True
            self._x[name].append(float(step))
            self._y[name].append(value)
        self._stale = True
        if self._due() or step >= self._next_frame:
            self.render()
        elif placed and self._layout_stale:
            self._prepare()

    def expect(self, total: float, start: float = 0.0) -> None:
        """Say that this run goes from step ``start`` to ``total``: at least ``frames`` pictures then.

        >>> live = LivePlot(xlabel="epoch"); live.expect(3)   # fit(..., epochs=3) does this
        """
        if not isinstance(total, (int, float, np.integer, np.floating)) or not total > start:
            raise ValueError(f"total must be a number after start={start!r}, got {total!r}.")
        self._total, self._start_step = float(total), float(start)
        self._next_frame = self._frame_after(start) if self.frames else math.inf

    def _frame_after(self, step: float) -> float:
        """The first of the evenly spread frame steps after ``step`` (inf: none left)."""
        start, span = self._start_step, self._total - self._start_step
        k = math.floor((step - start) / span * self.frames + 1e-9) + 1
        return start + span * k / self.frames if k <= self.frames else math.inf

    def __repr__(self) -> str:
        return f"LivePlot(metrics={list(self._y)}, renders={self.renders})"

    def _place(self, name: str) -> None:
        if any(name in m for m in self._panels.values()) or any(name in m for m in self._twin.values()):
            return
        group = name[4:] if name.startswith("val_") else name
        self._panels.setdefault(group, []).append(name)
        if self._auto:  # one order whatever order the metrics come in (Keras: accuracy, loss)
            order = sorted(self._panels, key=lambda p: _PANEL_RANK.get(p.lower(), len(_PANEL_RANK)))
            self._panels = {p: self._panels[p] for p in order}
        self._layout_stale = True

    @property
    def history(self):
        """All values as a pandas DataFrame, one row per step, one column per metric.

        >>> live = LivePlot(); live.update(loss=1.0); live.history.columns.tolist()
        ['loss']
        """
        import pandas as pd

        columns = {
            name: pd.Series(self._y[name], index=self._x[name], dtype=float).groupby(level=0).last()
            for name in self._y
        }
        frame = pd.DataFrame(columns)
        frame.index.name = self.xlabel
        return frame

    # -------------------------------------------------------------- rendering
    def _due(self) -> bool:
        now = time.perf_counter()
        interval = max(self.min_interval, self._render_cost / self.budget)
        return now - self._last_render >= interval

    def render(self) -> None:
        """Draw the current state now (normally called for you)."""
        # A render allocates tens of thousands of short-lived objects: with the collector on,
        # they trigger full collections of a heap that holds torch or TensorFlow (measured in a
        # kernel: 2 of 30 renders took 180-230 ms instead of 43). Collect after, not during.
        collecting = gc.isenabled()
        gc.disable()
        try:
            self._render()
        finally:
            if collecting:
                gc.enable()

    def _render(self) -> None:
        t0 = time.perf_counter()
        self._ensure_figure()
        self._refresh_artists()
        if self._mode == "inline":
            self._show_inline()
        elif self._mode == "interactive":
            self._fig.canvas.draw_idle()
            self._fig.canvas.flush_events()
        else:
            self._fig.canvas.draw()
        cost = time.perf_counter() - t0
        # exponential average, so one slow render (a new layout) does not stall updates
        self._render_cost = cost if self.renders == 0 else 0.7 * self._render_cost + 0.3 * cost
        self.renders += 1
        self.render_seconds += cost
        self._last_render = time.perf_counter()
        self._stale = False
        if self._total is not None and self.frames:  # the latest step: runs sharing a plot restart
            self._next_frame = self._frame_after(self._latest_step)

    def finish(self) -> None:
        """Render the final state (always; a no-op when nothing changed since).

        >>> live = LivePlot(); live.update(loss=1.0); live.finish()
        """
        if self._y and (self._stale or self._fig is None):
            self.render()

    def __enter__(self) -> LivePlot:
        return self

    def __exit__(self, *exc) -> None:
        self.finish()

    @property
    def figure(self):
        """The matplotlib Figure (built on first use).

        >>> live = LivePlot(); live.update(loss=1.0, val_loss=1.2)
        >>> [ax.get_title() for ax in live.figure.axes]
        ['loss']
        """
        if self._fig is None or self._layout_stale:
            self._ensure_figure()
            self._refresh_artists()
        return self._fig

    # A new figure costs more than a redraw: creating the axes, and at its first draw the tick
    # objects and the text layout (measured: ~50 ms against ~25 ms). So, as soon as a new panel
    # is known (at the first update), a helper thread builds the figure and draws it once,
    # while the model trains; the render adopts it. New lines in panels already drawn
    # (val_loss next to loss) are added to the figure instead of rebuilding it.
    def _frame(self) -> tuple:
        """What the figure's frame depends on; lines can be added to a frame later."""
        shown = tuple(p for p, names in self._panels.items() if names or self._twin.get(p))
        return (
            shown,
            self.xlabel,
            self.title,
            self.dpi,
            self.figsize,
            tuple(sorted(self.ylim.items())),
            tuple(sorted(self.ylabels.items())),
        )

    def _spec(self) -> dict:
        frame = self._frame()
        return dict(
            frame=frame,
            panels={p: list(self._panels[p]) for p in frame[0]},
            twin={p: list(v) for p, v in self._twin.items()},
            ylim=dict(self.ylim),
            ylabels=dict(self.ylabels),
        )

    def _prepare(self) -> None:
        """Start building the figure for the current panels in a helper thread (if useful)."""
        frame = self._frame()
        if self._mode == "interactive" or (self._fig is not None and frame == self._fig_frame):
            return  # pyplot's figure is built here; an existing frame only needs new lines
        job = self._prebuilt
        if job is not None and (job.spec["frame"] == frame or job.thread.is_alive()):
            return
        self._prebuilt = _Prebuild(self._spec())

    def _ensure_figure(self) -> None:
        _wait_for_warm_up()  # normally long done: it ran while the model trained
        if self._mode is None:
            self._mode = _choose_mode()
        if self._fig is not None and not self._layout_stale:
            return
        frame = self._frame()
        job, self._prebuilt = self._prebuilt, None
        if self._fig is not None and frame == self._fig_frame:
            self._add_lines()
        elif (
            job is not None
            and job.spec["frame"] == frame
            and self._mode != "interactive"
            and (built := job.result()) is not None
        ):
            self._fig, self._lines, self._axes = built
            self._add_lines()  # metrics that came after the helper started
        else:
            self._build_figure()
        self._fig_frame = frame
        self._layout_stale = False

    def _build_figure(self) -> None:
        spec = self._spec()
        if self._mode == "interactive":
            import matplotlib.pyplot as plt

            if self._fig is None:
                self._fig = plt.figure(figsize=_figsize(spec), dpi=self.dpi)
                # the backend's own show(): it displays the canvas now, and only once
                # (a display() of ours would be repeated by ipympl at the end of the cell)
                plt.show(block=False)
            fig = self._fig
            fig.clear()
            self._lines, self._axes = _populate(fig, spec)
        else:
            fig, self._lines, self._axes = _new_figure(spec)
        self._fig = fig

    def _add_lines(self) -> None:
        for panel, (ax, right) in self._axes.items():
            twin = self._twin.get(panel, [])
            new = [n for n in self._panels[panel] if n not in self._lines and n not in twin]
            for name in new:
                (self._lines[name],) = ax.plot([], [], label=name, marker="o", markersize=5)
            if new:
                names = [n for n in self._panels[panel] + twin if n in self._lines]
                _legend(ax if right is None else right, panel, [self._lines[n] for n in names])

    def _refresh_artists(self) -> None:
        restyled = set()
        for name, line in self._lines.items():
            x, y = self._x.get(name, []), self._y.get(name, [])
            if len(x) > 2000:  # drawing more points than pixels only costs time
                stride = len(x) // 1000
                x, y = x[::stride] + x[-1:], y[::stride] + y[-1:]
            line.set_data(x, y)
            # a marker per point while there are few (epochs): one epoch is one visible point
            marker = "o" if len(x) <= _MARKER_POINTS else "None"
            if line.get_marker() != marker:
                line.set_marker(marker)
                restyled.add(name)
        for panel, (ax, right) in self._axes.items():
            names = [n for n in self._panels.get(panel, []) + self._twin.get(panel, []) if n in self._lines]
            if restyled.intersection(names):  # the legend shows copies of the lines' style
                _legend(ax if right is None else right, panel, [self._lines[n] for n in names])
            for axis in (ax, right):
                if axis is None:
                    continue
                axis.relim()
                axis.autoscale_view(scalex=True, scaley=panel not in self.ylim or axis is right)

    def _show_inline(self) -> None:
        from IPython.display import Image

        buffer = io.BytesIO()
        # fast zlib level: the PNG is a little larger, the encode several times cheaper
        self._fig.savefig(buffer, format="png", dpi=self.dpi, pil_kwargs={"compress_level": 1})
        image = Image(data=buffer.getvalue(), format="png")
        if self._handle is None:
            self._handle = _display(image, display_id=True)
        else:
            self._handle.update(image)

    # ----------------------------------------------------------------- output
    def save(self, path: str, dpi: int = 100) -> str:
        """Save the final figure (PNG, SVG or PDF, by extension) and return the path.

        >>> live = LivePlot(); live.update(loss=1.0); live.save("loss.png")
        'loss.png'
        """
        self.finish()
        self.figure.savefig(path, dpi=dpi)
        return str(path)


# ------------------------------------------------------------------ figures
def _figsize(spec: dict) -> tuple[float, float]:
    n = max(1, len(spec["frame"][0]))
    ncols = min(n, 3)
    return spec["frame"][4] or (4.0 * ncols, 3.0 * math.ceil(n / ncols))


def _populate(fig, spec: dict):
    """Draw the panels of ``spec`` into ``fig``: returns ``(lines, axes)``."""
    panels, xlabel, title = spec["frame"][:3]
    twin, ylim = spec["twin"], spec["ylim"]
    n = max(1, len(panels))
    ncols = min(n, 3)
    nrows = math.ceil(n / ncols)
    lines, axes = {}, {}
    for i, panel in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        ax.set_title(panel, fontsize=10, y=1.0)  # a fixed y: no layout search per draw
        ax.set_xlabel(xlabel)
        ax.set_ylabel(spec["ylabels"].get(panel, panel))  # the report rules want both axes labelled
        ax.grid(True, alpha=0.3)
        ax.locator_params(nbins=4)  # fewer tick labels: text is most of a render's cost
        right = ax.twinx() if twin.get(panel) else None
        if right is not None:
            right.locator_params(nbins=4)
        axes[panel] = (ax, right)
        for name in spec["panels"][panel]:
            if name in twin.get(panel, []):
                continue
            (lines[name],) = ax.plot([], [], label=name, marker="o", markersize=5)
        if right is not None:
            colors = iter(["black", "tab:red", "tab:purple", "tab:brown"])
            for name in twin[panel]:
                (lines[name],) = right.plot(
                    [], [], label=name, color=next(colors, None), linewidth=2, marker="o", markersize=5
                )
            right.set_ylabel(", ".join(twin[panel]))
        # on the right-hand axis when there is one: drawn last, the legend stays above its lines
        names = [n for n in spec["panels"][panel] + twin.get(panel, []) if n in lines]
        _legend(ax if right is None else right, panel, [lines[n] for n in names])
        if panel in ylim:
            ax.set_ylim(*ylim[panel])
    if title:
        fig.suptitle(title)
    # margins in inches, not fractions: room for the tick labels and the y labels at any width
    width, height = fig.get_size_inches()
    fig.subplots_adjust(
        left=0.75 / width,
        right=1 - (0.75 if twin else 0.15) / width,
        bottom=0.5 / height,
        top=1 - (0.6 if title else 0.3) / height,
        wspace=0.45,
        hspace=0.6,
    )
    return lines, axes


def _legend(ax, panel: str, handles: list) -> None:
    if 1 < len(handles) <= 12:
        # a fixed corner: loc="best" searches the lines' data at every draw; accuracy
        # curves rise (legend below them), losses fall (legend above)
        corner = "lower right" if "acc" in panel.lower() else "upper right"
        ax.legend(handles=handles, fontsize=8, loc=corner)
    elif ax.get_legend() is not None:
        ax.get_legend().remove()


def _new_figure(spec: dict):
    """A figure of its own (not pyplot's) on an Agg canvas: ``(fig, lines, axes)``."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=_figsize(spec), dpi=spec["frame"][3])
    FigureCanvasAgg(fig)
    lines, axes = _populate(fig, spec)
    return fig, lines, axes


class _Prebuild:
    """Builds a figure and draws it once, in a helper thread; ``result()`` waits for it.

    A render that comes while the helper still builds (metrics and a render at once) does
    not wait for that first draw too: the render draws anyway.
    """

    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self._built = None
        self._hurry = False
        self.thread = _start_helper(self._run, "LivePlot-figure")

    def _run(self) -> None:
        _wait_for_warm_up()
        try:
            fig, lines, axes = _new_figure(self.spec)
            if not self._hurry:
                fig.canvas.draw()  # creates the tick objects and lays out the text
            self._built = fig, lines, axes
        except Exception:  # the render builds it again and reports the error
            pass

    def result(self):
        self._hurry = True
        self.thread.join()
        return self._built


# ------------------------------------------------------------------ warm-up
# In a fresh process the first render used to cost ~0.3 s, almost all of it first-time
# imports (matplotlib, its Agg backend, Pillow's image plugins), where a warm render costs
# ~0.04 s. The first LivePlot of a process therefore starts a thread that does those imports
# while the model trains; a render that comes before it is done waits for it (never longer
# than rendering without it).
_WARM_UP_MODULES = ("matplotlib.figure", "matplotlib.backends.backend_agg", "PIL.PngImagePlugin")
_helpers_lock = threading.Lock()
_helpers: list[threading.Thread] = []
_warm_up_thread: threading.Thread | None = None


def _warm_up() -> None:
    try:
        import matplotlib.figure  # noqa: F401
        from matplotlib.backends import backend_agg  # noqa: F401
        from PIL import Image, PngImagePlugin  # noqa: F401  (savefig's PNG writer)

        Image.preinit()  # the plugins Pillow loads on its first save, else inside the first render
        if "IPython" in sys.modules:  # in a kernel: what the inline mode shows the PNG with
            import IPython.display  # noqa: F401
    except Exception:  # the render imports again and reports any error itself
        pass


def _start_helper(target, name: str, *, warm_up: bool = False) -> threading.Thread | None:
    global _warm_up_thread
    # not a daemon: the interpreter must not exit in the middle of an import
    thread = threading.Thread(target=target, name=name)
    with _helpers_lock:
        if warm_up:  # once per process, and only while the modules are missing
            if _warm_up_thread is not None or all(m in sys.modules for m in _WARM_UP_MODULES):
                return None
            _warm_up_thread = thread
        _helpers[:] = [t for t in _helpers if t.is_alive()]
        _helpers.append(thread)
    thread.start()
    return thread


def _start_warm_up() -> None:
    if _warm_up_thread is None:
        _start_helper(_warm_up, "LivePlot-warm-up", warm_up=True)


def _wait_for_warm_up() -> None:
    thread = _warm_up_thread
    if thread is not None and thread.is_alive() and thread is not threading.current_thread():
        thread.join()


def _wait_for_helpers() -> None:
    # a fork while a helper imports or draws (a DataLoader starting its workers) could leave a
    # lock held in the child: let the helpers finish first (a fraction of a second)
    with _helpers_lock:
        threads = [t for t in _helpers if t.is_alive() and t is not threading.current_thread()]
    for thread in threads:
        thread.join(timeout=10.0)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_wait_for_helpers)


def _default_budget() -> float:
    value = setting("COURSE_LIVE_BUDGET")
    try:
        return float(value) if value else 0.015
    except ValueError:
        raise ValueError(
            f"COURSE_LIVE_BUDGET must be a fraction of wall time in (0, 1] such as 0.015, got {value!r}."
        ) from None


def _default_frames() -> int:
    value = setting("COURSE_LIVE_FRAMES")
    if not value:
        return 0 if autograding() else 8  # autograding: nobody watches
    try:
        frames = int(value)
    except ValueError:
        frames = -1
    if frames < 0:
        raise ValueError(f"COURSE_LIVE_FRAMES must be an int >= 0 such as 8, got {value!r}.")
    return frames


def _choose_mode() -> str:
    if not in_notebook():
        return "script"
    import matplotlib

    backend = matplotlib.get_backend().lower()
    if any(key in backend for key in _INTERACTIVE):
        return "interactive"
    return "inline"


def _display(obj, display_id: bool = False):
    from IPython.display import display

    return display(obj, display_id=display_id)
