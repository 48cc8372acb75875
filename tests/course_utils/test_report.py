"""course_utils.report: the figure rules of the slides' レポート総評, on good and bad figures."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import pytest
from matplotlib import font_manager, rc_context
from matplotlib.figure import Figure

from course_utils.report import check_figure, figure_problems


def _figure(title="", xlabel="", ylabel=""):
    fig = Figure()
    ax = fig.subplots()
    ax.plot([1, 2, 4], [0.1, 0.8, 6.4], "o-", label="python")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend()
    return fig


def test_a_good_figure_has_no_problems():
    assert figure_problems(_figure("matrix product", "matrix size N", "time [s]")) == []


def test_placeholder_title_missing_labels_and_a_time_without_unit():
    problems = figure_problems(_figure(title="Chart Title", ylabel="time"))
    assert any("the x axis has no label" in p for p in problems), problems
    assert any("time without a unit" in p for p in problems), problems
    assert any("placeholder 'Chart Title'" in p for p in problems), problems


def test_japanese_without_a_japanese_font_is_garbled():
    with rc_context({"font.family": ["DejaVu Sans"]}):
        fig = _figure("グラフタイトル", "行列サイズ N", "実行時間 [s]")
        problems = figure_problems(fig)
    assert any("placeholder 'グラフタイトル'" in p for p in problems), problems
    assert any("文字化け" in p and "行列サイズ" in p for p in problems), problems


def test_japanese_with_a_japanese_font_is_fine():
    # the registration the report rules tell students to do (the Makefile installs this font)
    path = Path("/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf")
    if not path.exists():
        pytest.skip("no Japanese font installed (apt-get install fonts-ipafont-gothic)")
    font_manager.fontManager.addfont(str(path))
    family = font_manager.FontProperties(fname=str(path)).get_name()
    with rc_context({"font.family": [family]}):
        fig = _figure("行列積の実行時間", "行列サイズ N", "実行時間 [s]")
        assert figure_problems(fig) == []


def test_an_empty_figure_is_reported():
    fig = Figure()
    fig.subplots(1, 2)
    assert figure_problems(fig) == ["the figure has nothing plotted yet"]


def test_check_figure_never_raises():
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        check_figure(object())
        check_figure(_figure("グラフタイトル"))
    assert "could not read this figure" in out.getvalue()
    assert "report rules: the placeholder 'グラフタイトル'" in out.getvalue()
