"""Feature maps: what a layer outputs for a few images."""

from __future__ import annotations

from course_utils.models import activations
from course_utils.viz._arrays import to_hwc


def plot_feature_maps(
    model,
    layer,
    images,
    max_images: int = 9,
    max_maps: int = 16,
    size: float = 0.8,
    show_input: bool = True,
    shared_scale: bool = False,
    vmin: float | None = None,
    vmax: float | None = None,
):
    """Grid of feature maps: one row per image, one column per channel of ``layer``.

    ``images`` are in the model's layout (NCHW for PyTorch, NHWC for Keras).
    PyTorch layers are found by module name (forward hook), Keras layers by layer name.

    Colours: by default each panel is scaled to its own range, which shows the shape of every map
    but hides how strong it is (a weak map looks as bright as a strong one). ``shared_scale=True``
    uses one scale for all panels (from their smallest to their largest value); ``vmin`` /
    ``vmax`` fix it, to compare two calls (say, max pooling against average pooling) on one scale.

    >>> import collections, numpy as np, torch
    >>> model = torch.nn.Sequential(collections.OrderedDict(
    ...     conv1=torch.nn.Conv2d(1, 16, 5, padding=2), relu=torch.nn.ReLU()))
    >>> digits = np.random.default_rng(0).random((9, 1, 28, 28), dtype=np.float32)
    >>> fig = plot_feature_maps(model, "conv1", digits)   # 9 digits × 16 filters (+ the input)
    >>> len(fig.axes)
    153
    >>> fig = plot_feature_maps(model, "relu", digits, shared_scale=True)
    >>> fig.axes[1].images[0].get_clim() == fig.axes[-1].images[0].get_clim()   # one colour scale
    True
    """
    import matplotlib.pyplot as plt

    images = images[:max_images]
    maps = activations(model, layer, images)
    if maps.ndim != 4:
        raise ValueError(
            f"Layer {layer!r} outputs shape {maps.shape}, not (N, C, H, W) feature maps; "
            "choose a convolution or pooling layer."
        )
    n, c = maps.shape[0], min(maps.shape[1], max_maps)
    if shared_scale or vmin is not None or vmax is not None:
        shown_maps = maps[:, :c]
        vmin = float(shown_maps.min()) if vmin is None else vmin
        vmax = float(shown_maps.max()) if vmax is None else vmax
    extra = 1 if show_input else 0
    fig, axes = plt.subplots(n, c + extra, figsize=(size * (c + extra), size * n), squeeze=False)
    shown = to_hwc(images) if show_input else None
    for i in range(n):
        if show_input:
            img = shown[i]
            axes[i, 0].imshow(
                img[..., 0] if img.shape[-1] == 1 else img, cmap="gray" if img.shape[-1] == 1 else None
            )
            if i == 0:
                axes[i, 0].set_title("input", fontsize=7)
        for j in range(c):
            axes[i, j + extra].imshow(maps[i, j], cmap="viridis", vmin=vmin, vmax=vmax)
            if i == 0:
                axes[i, j + extra].set_title(str(j), fontsize=7)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    h, w = maps.shape[2:]
    scale = "" if vmin is None else f", one colour scale {vmin:.3g} to {vmax:.3g}"
    fig.suptitle(f"{layer}: {maps.shape[1]} maps of {h}×{w}{scale}", fontsize=9)
    fig.tight_layout()
    return fig
