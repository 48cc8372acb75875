"""Turn whatever the student has (tensors, NCHW, NHWC, floats) into displayable images."""

from __future__ import annotations

import numpy as np


def to_numpy(x) -> np.ndarray:
    """numpy view of an array, a torch tensor (any device) or a TF tensor."""
    if hasattr(x, "detach"):
        x = x.detach().cpu()
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    return np.asarray(x)


def to_hwc(images) -> np.ndarray:
    """A batch of images as ``(N, H, W, C)`` floats in [0, 1] (C is 1 or 3)."""
    x = to_numpy(images).astype(np.float32)
    if x.ndim == 2:
        x = x[None, :, :, None]
    elif x.ndim == 3:
        x = x[..., None] if x.shape[-1] not in (1, 3) else x[None]
    if x.ndim != 4:
        raise ValueError(f"Expected images shaped (N, H, W), (N, H, W, C) or (N, C, H, W), got {x.shape}.")
    if x.shape[1] in (1, 3) and x.shape[-1] not in (1, 3):  # NCHW -> NHWC
        x = x.transpose(0, 2, 3, 1)
    lo, hi = float(x.min()), float(x.max())
    if hi > 1.0 or lo < 0.0:  # 0..255 or normalised to [-1, 1]: rescale for display
        x = (x - lo) / (hi - lo) if hi > lo else np.zeros_like(x)
    return x


def grid_shape(n: int, ncols: int) -> tuple[int, int]:
    ncols = max(1, min(ncols, n))
    return -(-n // ncols), ncols


def check_labels(labels, n: int, what: str = "labels") -> np.ndarray:
    labels = to_numpy(labels).ravel()
    if len(labels) != n:
        raise ValueError(f"Got {n} images but {len(labels)} {what}; pass one per image.")
    return labels
