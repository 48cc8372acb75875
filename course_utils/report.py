"""The report rules of the practical course that a program can check on a matplotlib figure.

The slides' レポート総評 ask for axis labels with units, no leftover placeholder title such as
「グラフタイトル」 and no 文字化け (Japanese drawn as boxes by a font without Japanese glyphs).
The assignments call :func:`check_figure` after every plot; it prints, never raises, and awards
no points: the grader reads the same list.

>>> from matplotlib.figure import Figure
>>> fig = Figure(); ax = fig.subplots(); _ = ax.plot([64, 128], [0.1, 0.8])
>>> _ = ax.set(title="Chart Title", xlabel="matrix size N", ylabel="time")
>>> for problem in figure_problems(fig): print(problem)
panel 1 ('Chart Title'): the y label 'time' is a time without a unit, e.g. 'time [s]'
the placeholder 'Chart Title' is still in the figure (論外)
"""

from __future__ import annotations

from matplotlib import font_manager

PLACEHOLDER_TITLES = frozenset(
    {"グラフタイトル", "グラフ タイトル", "軸ラベル", "chart title", "axis title", "title"}
)
TIME_UNITS = ("[s]", "[ms]", "[µs]", "[us]", "[ns]", "[min]", "[h]", "(s)", "(ms)", "[秒]", "[分]")


def missing_glyphs(text) -> list[str]:
    """The characters of a matplotlib ``Text`` that none of its fonts can draw (they show as boxes)."""
    chars = sorted({c for c in text.get_text() if ord(c) > 127})
    if not chars:
        return []
    prop = text.get_fontproperties()
    find_all = getattr(font_manager.fontManager, "_find_fonts_by_props", None)  # the fallback list
    paths = find_all(prop) if find_all else [font_manager.findfont(prop)]
    fonts = [font_manager.get_font(path) for path in paths]
    return [c for c in chars if not any(font.get_char_index(ord(c)) for font in fonts)]


def figure_problems(fig) -> list[str]:
    """What the report rules object to in ``fig``, one sentence each (empty: nothing found)."""
    problems, texts = [], []
    if not any(ax.has_data() for ax in fig.axes):
        problems.append("the figure has nothing plotted yet")
    if getattr(fig, "_suptitle", None) is not None:
        texts.append(fig._suptitle)
    for number, ax in enumerate(fig.axes, start=1):
        if not ax.has_data():
            continue
        name = f"panel {number}" + (f" ({ax.get_title()!r})" if ax.get_title() else "")
        for axis, shared in (("x", ax.get_shared_x_axes()), ("y", ax.get_shared_y_axes())):
            labels = [getattr(other, f"get_{axis}label")() for other in shared.get_siblings(ax)]
            label = next((text for text in labels if text.strip()), "")
            if not label:
                problems.append(f"{name}: the {axis} axis has no label")
            elif ("time" in label.lower() or "時間" in label) and not any(u in label for u in TIME_UNITS):
                problems.append(
                    f"{name}: the {axis} label {label!r} is a time without a unit, e.g. 'time [s]'"
                )
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        texts += ax.get_legend().get_texts() if ax.get_legend() else []
    for text in texts:
        words = text.get_text()
        if words.strip().lower() in PLACEHOLDER_TITLES:
            problems.append(f"the placeholder {words!r} is still in the figure (論外)")
        missing = missing_glyphs(text)
        if missing:
            problems.append(
                f"{words!r}: the font cannot draw {''.join(missing[:6])!r}, which shows "
                "as boxes (文字化け); set a Japanese font (see the report rules)"
            )
    return problems


def check_figure(fig) -> None:
    """Print what :func:`figure_problems` finds in ``fig``; never raises."""
    try:
        problems = figure_problems(fig)
    except Exception as error:  # not a matplotlib figure, or an unusual one
        print(f"check_figure could not read this figure ({type(error).__name__}: {error})")
        return
    for problem in problems:
        print("report rules:", problem)
    if not problems:
        print("report rules: nothing found (axis labels, units of time, placeholder titles, 文字化け)")
