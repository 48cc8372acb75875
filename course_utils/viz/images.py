"""Image grids and the misclassified-examples figure."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from course_utils.viz._arrays import check_labels, grid_shape, to_hwc, to_numpy


def image_grid(
    images,
    labels=None,
    classes: Sequence[str] | None = None,
    ncols: int = 8,
    predictions=None,
    size: float = 1.3,
):
    """Show images in a grid, titled with their class names (and predictions if given).

    Accepts NHWC or NCHW, numpy or tensors, 0–255 or normalised values.

    >>> import numpy as np
    >>> images = np.random.default_rng(0).integers(0, 256, (16, 28, 28, 1), dtype=np.uint8)
    >>> fig = image_grid(images, labels=np.arange(16) % 10, classes=[str(d) for d in range(10)])
    >>> fig.axes[3].get_title()
    '3'
    """
    import matplotlib.pyplot as plt

    x = to_hwc(images)
    n = len(x)
    if n == 0:
        raise ValueError("No images to show.")
    labels = None if labels is None else check_labels(labels, n)
    predictions = None if predictions is None else check_labels(predictions, n, "predictions")
    rows, cols = grid_shape(n, ncols)
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, (size + 0.3) * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = x[i]
        ax.imshow(img[..., 0] if img.shape[-1] == 1 else img, cmap="gray" if img.shape[-1] == 1 else None)
        title = _name(labels[i], classes) if labels is not None else ""
        color = "black"
        if predictions is not None:
            title = f"{title}→{_name(predictions[i], classes)}" if title else _name(predictions[i], classes)
            if labels is not None and predictions[i] != labels[i]:
                color = "red"
        ax.set_title(title, fontsize=8, color=color)
    fig.tight_layout()
    return fig


def plot_misclassified(images, y_true, probs, classes: Sequence[str] | None = None, n: int = 10):
    """The first ``n`` wrong predictions, each with a bar chart of its class probabilities.

    ``probs`` is ``(N, K)`` (see :func:`course_utils.models.predict_proba`).

    >>> import numpy as np
    >>> images = np.zeros((4, 28, 28), np.float32)
    >>> probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])   # predicts 0, 1, 0, 1
    >>> fig = plot_misclassified(images, [0, 0, 0, 1], probs, ["cat", "dog"])
    >>> fig.axes[0].get_title()   # one row per mistake: image #1 only
    '#1: true cat'
    """
    import matplotlib.pyplot as plt

    x = to_hwc(images)
    probs = to_numpy(probs)
    if probs.ndim != 2 or len(probs) != len(x):
        raise ValueError(f"probs must be (N, K) with N = {len(x)} images, got shape {probs.shape}.")
    y_true = check_labels(y_true, len(x), "true labels")
    y_pred = probs.argmax(axis=1)
    wrong = np.flatnonzero(y_pred != y_true)[:n]
    if len(wrong) == 0:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, "no misclassified images", ha="center")
        return fig
    k = probs.shape[1]
    names = list(classes) if classes is not None else [str(c) for c in range(k)]
    fig, axes = plt.subplots(
        len(wrong), 2, figsize=(6, 1.4 * len(wrong)), squeeze=False, gridspec_kw={"width_ratios": [1, 3]}
    )
    for row, i in enumerate(wrong):
        img = x[i]
        axes[row, 0].imshow(
            img[..., 0] if img.shape[-1] == 1 else img, cmap="gray" if img.shape[-1] == 1 else None
        )
        axes[row, 0].axis("off")
        axes[row, 0].set_title(f"#{i}: true {names[y_true[i]]}", fontsize=8)
        colors = ["tab:gray"] * k
        colors[y_pred[i]] = "tab:red"
        colors[y_true[i]] = "tab:green"
        axes[row, 1].bar(range(k), probs[i], color=colors)
        axes[row, 1].set_ylim(0, 1)
        axes[row, 1].set_xticks(range(k))
        axes[row, 1].set_xticklabels(names, fontsize=7, rotation=45 if k > 10 or len(names[0]) > 2 else 0)
        axes[row, 1].set_ylabel("P", fontsize=8)
    fig.tight_layout()
    return fig


def _name(label, classes) -> str:
    return str(classes[int(label)]) if classes is not None else str(int(label))
