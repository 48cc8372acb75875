"""Timing helpers: a known O(N^2) function gives an exponent of about 2."""

from __future__ import annotations

import time

import numpy as np
import pytest

from course_utils.timing import PowerLaw, fit_power_law, plot_timing, time_function


def quadratic(n: int) -> None:
    """Costs c·N² of wall-clock time whatever the machine's load: it sleeps that long. (A Python
    double loop measured N^2.54 in CI while the other pytest-xdist worker loaded both cores: a
    long run overlaps that load more often than a short one, so the exponent drifted upwards.)"""
    time.sleep(2e-7 * n * n)  # 2 ms at N = 100, 128 ms at N = 800


def test_quadratic_exponent_is_about_two():
    df = time_function(quadratic, [100, 200, 400, 800], repeats=3)
    assert df.columns.tolist() == ["label", "n", "min_s", "median_s", "repeats"]
    assert (df["min_s"] <= df["median_s"]).all()
    assert (df["min_s"] >= 2e-7 * df["n"] ** 2).all()  # never less than the sleep
    law = fit_power_law(df["n"], df["min_s"])
    assert 1.8 < law.exponent < 2.1, str(law)  # a late wake-up only adds to the shortest runs
    assert law.r2 > 0.95
    ax = plot_timing(df)
    assert ax.get_xlabel() and "[s]" in ax.get_ylabel()
    assert len(ax.get_lines()) == 2  # measurements and fit


def test_exact_power_law_and_prediction():
    n = np.array([10, 20, 40, 80])
    law = fit_power_law(n, 2e-6 * n**3.0)
    assert law.exponent == pytest.approx(3.0) and law.r2 == pytest.approx(1.0)
    assert isinstance(law, PowerLaw) and law.predict(10) == pytest.approx(2e-3)
    assert "N^3.00" in str(law)


def test_max_seconds_stops_early():
    df = time_function(lambda n: sum(range(n)), [10, 10**6, 10**7], max_seconds=1e-9)
    assert len(df) == 1


def test_clear_errors():
    with pytest.raises(ValueError, match="at least 3"):
        fit_power_law([1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="sizes"):
        time_function(len, [])
    with pytest.raises(TypeError, match="callable"):
        time_function(42, [1])
    with pytest.raises(ValueError, match="columns"):
        import pandas as pd

        plot_timing(pd.DataFrame({"x": [1]}))
