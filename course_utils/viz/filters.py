"""Pictures of convolution filters: per input channel in grey, or as RGB for a colour input."""

from __future__ import annotations

from course_utils.models import conv_weights
from course_utils.viz._arrays import grid_shape

PER_ROW = 8  # pictures per row at most: 16 filters make 2 rows of 8, not one tall column


def plot_filters(
    model,
    layer=None,
    rgb: bool | None = None,
    max_filters: int = 32,
    max_channels: int = 8,
    size: float = 0.9,
):
    """Show the kernels of a conv layer (PyTorch or Keras).

    ``rgb=True`` draws each filter of a layer with 3 input channels as one colour picture
    (the first layer of a CIFAR-10 model); otherwise one grey picture per input channel,
    a row per filter (a grid of 8 a row when there is one input channel). ``rgb=None`` picks RGB
    when the layer has 3 input channels.
    ``layer`` is a PyTorch module name or a Keras layer name (``plot_filters(model, "conv2d")``).

    >>> import collections, torch
    >>> model = torch.nn.Sequential(collections.OrderedDict(
    ...     conv1=torch.nn.Conv2d(3, 6, 5), relu=torch.nn.ReLU(), conv2=torch.nn.Conv2d(6, 4, 3)))
    >>> fig = plot_filters(model, "conv1")    # 3 input channels: 6 RGB pictures in a grid of 8
    >>> fig = plot_filters(model, "conv2")    # one grey picture per filter and input channel
    >>> len(fig.axes)
    24
    >>> fig = plot_filters(torch.nn.Conv2d(1, 16, 5))  # one input channel: 2 rows of 8
    >>> len(fig.axes), len({ax.get_position().y0 for ax in fig.axes})
    (16, 2)
    """
    import matplotlib.pyplot as plt

    if not 1 <= max_channels <= PER_ROW:
        raise ValueError(f"max_channels is the pictures per row, 1 to {PER_ROW}; got {max_channels!r}.")
    w = conv_weights(model, layer)  # (out, in, kh, kw)
    n_out, n_in = w.shape[:2]
    if rgb is None:
        rgb = n_in == 3
    if rgb and n_in != 3:
        raise ValueError(f"rgb=True needs a layer with 3 input channels; this one has {n_in}.")
    n_out = min(n_out, max_filters)
    if rgb or n_in == 1:  # one picture per filter: a grid of at most PER_ROW a row
        rows, cols = grid_shape(n_out, PER_ROW)
        fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows + 0.3), squeeze=False)
        vmax = abs(w[:n_out]).max() + 1e-12
        for i, ax in enumerate(axes.flat):
            ax.axis("off")
            if i >= n_out:
                continue
            if rgb:
                f = w[i].transpose(1, 2, 0)
                ax.imshow((f - f.min()) / (f.max() - f.min() + 1e-12), interpolation="nearest")
            else:
                ax.imshow(w[i, 0], cmap="gray", vmin=-vmax, vmax=vmax, interpolation="nearest")
            ax.set_title(str(i), fontsize=7)
        fig.suptitle("filters as RGB pictures" if rgb else "filters (grey: −max … +max)", fontsize=9)
    else:
        n_in = min(n_in, max_channels)
        fig, axes = plt.subplots(n_out, n_in, figsize=(size * n_in + 0.5, size * n_out), squeeze=False)
        vmax = abs(w[:n_out, :n_in]).max() + 1e-12
        for o in range(n_out):
            for c in range(n_in):
                ax = axes[o, c]
                ax.imshow(w[o, c], cmap="gray", vmin=-vmax, vmax=vmax, interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                if o == 0:
                    ax.set_title(f"in {c}", fontsize=7)
                if c == 0:
                    ax.set_ylabel(f"out {o}", fontsize=7)
        fig.suptitle("filters per input channel (grey: −max … +max)", fontsize=9)
    fig.tight_layout()
    return fig
