"""Per-class accuracy and the confusion matrix."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_utils.viz._arrays import to_numpy


def _check(y_true, y_pred):
    y_true, y_pred = to_numpy(y_true).ravel(), to_numpy(y_pred).ravel()
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}.")
    if y_pred.dtype.kind == "f":
        raise ValueError("y_pred holds floats: pass class indices, e.g. probs.argmax(axis=1).")
    return y_true.astype(int), y_pred.astype(int)


def confusion_matrix(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """Counts ``m[true, predicted]``.

    >>> confusion_matrix([0, 1, 1], [0, 1, 0])
    array([[1, 0],
           [1, 1]])
    """
    y_true, y_pred = _check(y_true, y_pred)
    k = n_classes or int(max(y_true.max(), y_pred.max()) + 1)
    m = np.zeros((k, k), dtype=int)
    np.add.at(m, (y_true, y_pred), 1)
    return m


def per_class_accuracy(y_true, y_pred, classes: Sequence[str] | None = None):
    """DataFrame with ``class``, ``correct``, ``total`` and ``accuracy`` per class.

    >>> per_class_accuracy([0, 1, 1], [0, 1, 0], ["cat", "dog"])["accuracy"].tolist()
    [1.0, 0.5]
    """
    import pandas as pd

    m = confusion_matrix(y_true, y_pred, len(classes) if classes is not None else None)
    total = m.sum(axis=1)
    correct = np.diag(m)
    names = list(classes) if classes is not None else [str(i) for i in range(len(m))]
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.where(total > 0, correct / np.maximum(total, 1), np.nan)
    return pd.DataFrame({"class": names, "correct": correct, "total": total, "accuracy": acc})


def plot_confusion_matrix(y_true, y_pred, classes: Sequence[str] | None = None, normalize: bool = False):
    """Heat map of the confusion matrix with counts (or row fractions) written in.

    >>> fig = plot_confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2], ["cat", "dog", "bird"])
    >>> fig = plot_confusion_matrix([0, 1, 2, 2], [0, 2, 2, 2], normalize=True)
    """
    import matplotlib.pyplot as plt

    m = confusion_matrix(y_true, y_pred, len(classes) if classes is not None else None)
    shown = m / np.maximum(m.sum(axis=1, keepdims=True), 1) if normalize else m
    k = len(m)
    names = list(classes) if classes is not None else [str(i) for i in range(k)]
    fig, ax = plt.subplots(figsize=(0.55 * k + 2, 0.55 * k + 1.5))
    im = ax.imshow(shown, cmap="Blues")
    for i in range(k):
        for j in range(k):
            text = f"{shown[i, j]:.2f}" if normalize else str(shown[i, j])
            ax.text(
                j,
                i,
                text,
                ha="center",
                va="center",
                fontsize=7,
                color="white" if shown[i, j] > shown.max() / 2 else "black",
            )
    ax.set_xticks(range(k), names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig
