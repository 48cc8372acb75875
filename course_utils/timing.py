"""Time a function over input sizes and fit a power law ``t = c · N^k``.

Follows the lab's report rules: units on every axis, sensible significant figures,
and a goodness of fit next to every fitted exponent.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PowerLaw:
    """``seconds ≈ coefficient · N ** exponent``, fitted on a log-log scale."""

    exponent: float
    coefficient: float
    r2: float

    def predict(self, n):
        """Predicted seconds for size(s) ``n``.

        >>> PowerLaw(2.0, 1e-6, 1.0).predict([1000, 2000])
        array([1., 4.])
        """
        return self.coefficient * np.asarray(n, dtype=float) ** self.exponent

    def __str__(self) -> str:
        return f"t ≈ {self.coefficient:.3g} s · N^{self.exponent:.2f}  (R² = {self.r2:.3f})"


def time_function(
    fn: Callable,
    sizes: Sequence[int],
    make_input: Callable[[int], tuple] | None = None,
    repeats: int = 3,
    max_seconds: float | None = None,
    label: str | None = None,
):
    """Time ``fn(*make_input(n))`` for every ``n`` in ``sizes``.

    Input creation is not timed. Stops early, after a size whose fastest run took
    more than ``max_seconds``. Returns a DataFrame with columns ``n``, ``min_s``,
    ``median_s``, ``repeats`` and ``label``; ``min_s`` is the best estimate of the
    cost (other programs only ever add time).

    >>> df = time_function(sorted, [100, 1000], lambda n: (list(range(n, 0, -1)),))
    >>> df.columns.tolist()
    ['label', 'n', 'min_s', 'median_s', 'repeats']
    """
    import pandas as pd

    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}.")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}.")
    sizes = list(sizes)
    if not sizes or any(not isinstance(n, (int, np.integer)) or n < 1 for n in sizes):
        raise ValueError(f"sizes must be a non-empty list of positive ints, got {sizes!r}.")
    make_input = make_input or (lambda n: (n,))
    rows = []
    for n in sizes:
        args = make_input(int(n))
        if not isinstance(args, tuple):
            args = (args,)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn(*args)
            times.append(time.perf_counter() - t0)
        rows.append(
            {
                "label": label or getattr(fn, "__name__", "fn"),
                "n": int(n),
                "min_s": min(times),
                "median_s": float(np.median(times)),
                "repeats": repeats,
            }
        )
        if max_seconds is not None and min(times) > max_seconds:
            break
    return pd.DataFrame(rows)


def fit_power_law(sizes, seconds, min_seconds: float = 1e-4) -> PowerLaw:
    """Fit ``seconds = c · N^k`` by least squares on log-log axes.

    Points faster than ``min_seconds`` are dropped: there, timer resolution and call
    overhead, not the algorithm, decide the time.

    >>> n = np.array([100, 200, 400, 800]); fit_power_law(n, 1e-9 * n**3).exponent
    3.0
    """
    n = np.asarray(sizes, dtype=float)
    t = np.asarray(seconds, dtype=float)
    if n.shape != t.shape or n.ndim != 1:
        raise ValueError(f"sizes and seconds must be 1-D and equally long, got {n.shape} and {t.shape}.")
    keep = (t >= min_seconds) & (n > 0)
    if keep.sum() < 3:
        raise ValueError(
            f"Need at least 3 timings above {min_seconds:g} s to fit a power law, got "
            f"{int(keep.sum())}. Use larger sizes (or pass a smaller min_seconds)."
        )
    logn, logt = np.log(n[keep]), np.log(t[keep])
    k, logc = np.polyfit(logn, logt, 1)
    residual = logt - (k * logn + logc)
    total = np.sum((logt - logt.mean()) ** 2)
    r2 = 1.0 - float(np.sum(residual**2) / total) if total > 0 else 1.0
    return PowerLaw(exponent=round(float(k), 6), coefficient=float(np.exp(logc)), r2=r2)


def plot_timing(df, ax=None, fit: bool = True, time_column: str = "min_s", loglog: bool = True):
    """Plot time against N, one line per ``label``, with fitted exponents in the legend.

    >>> df = time_function(sorted, [1000, 10000, 100000], lambda n: (list(range(n)),))
    >>> ax = plot_timing(df)
    """
    import matplotlib.pyplot as plt

    missing = {"n", time_column} - set(df.columns)
    if missing:
        raise ValueError(f"df needs columns {sorted(missing)}; pass the result of time_function().")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    labels = df["label"] if "label" in df.columns else ["time"] * len(df)
    for label, part in df.assign(label=labels).groupby("label", sort=False):
        (line,) = ax.plot(part["n"], part[time_column], "o-", label=str(label))
        if fit and len(part) >= 3:
            try:
                law = fit_power_law(part["n"], part[time_column])
            except ValueError:
                continue
            ns = np.geomspace(part["n"].min(), part["n"].max(), 50)
            ax.plot(
                ns,
                law.predict(ns),
                "--",
                color=line.get_color(),
                alpha=0.6,
                label=f"{label} fit: N^{law.exponent:.2f} (R²={law.r2:.3f})",
            )
    if loglog:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel("matrix size N (N×N)")
    ax.set_ylabel("time [s]")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    return ax
