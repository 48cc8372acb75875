# %% [markdown]
# # Lesson 3 — Convolution ({{Track}})
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({{colab}})
#
# **Learning goals.** After this lesson you can
#
# 1. compute a 3×3 convolution by hand — the vertical-edge example of the lecture gives
#    $a = 2, b = 1, c = 2, d = -4$ — and get the same numbers from {{Track}}'s conv layer;
# 2. explain why frameworks actually compute a *cross-correlation*;
# 3. predict the output size $\frac{H + 2P - F}{S} + 1$ and choose padding `valid` or `same`;
# 4. count the parameters of a conv layer with several channels (40, 148, …) and check them
#    against the model summary;
# 5. write an activation as a layer or as a function and read what the model's listing then
#    shows (Keras: `model.summary()`; PyTorch: `print(model)` and torchinfo's summary; 370 and
#    1,300 parameters), flatten feature maps without losing the batch, and
#    draw several sub-plots without the `plt.subplot` pitfall;
# 6. play with your own 3×3 kernel on a real MNIST digit.
#
# Sources: *Pythonと深層学習* §3.3 (畳み込みフィルター), 「ゼロから作る Deep Learning」 notes
# (the size formula) and 深層実習 第7,8回 (channels and parameter counts, ReLU in `__init__` or
# not, torchinfo, `Flatten`, subplots).

# %% [markdown]
# ## Setup

# %%
# {{install}}

# %% tags=["keras"]
from course_utils import quiet_tensorflow

quiet_tensorflow()  # before `import keras`: TensorFlow starts without its log lines
import keras

print("Keras", keras.__version__, "backend", keras.backend.backend())

# %% tags=["pytorch"]
import torch
import torchinfo
from torch import nn

torch.set_num_threads(1)  # small tensors: more threads only add overhead
print("PyTorch", torch.__version__)

# %%
import io

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import display

from course_utils import fast_mode, load_mnist, seed_everything

seed_everything(0)
print("fast mode:", fast_mode())

# %% [markdown]
# ## 1. The lecture's example, by hand
#
# A 4×4 image (pixel intensities) and a 3×3 filter that finds **vertical** edges:
#
# | image | | | | | filter | | |
# |---|---|---|---|---|---|---|---|
# | 3 | 0 | 2 | 2 | | −1 | 0 | 1 |
# | 1 | 0 | 3 | 1 | | −2 | 0 | 2 |
# | 3 | 2 | 2 | 0 | | −1 | 0 | 1 |
# | 1 | 2 | 2 | 1 | | | | |
#
# Put the filter on the top-left 3×3 window, multiply position by position and add up:
#
# $a = 3\cdot(-1) + 0\cdot0 + 2\cdot1 + 1\cdot(-2) + 0\cdot0 + 3\cdot2 + 3\cdot(-1) + 2\cdot0 + 2\cdot1 = 2$
#
# Slide one pixel down for $b$, one pixel right for $c$, and both for $d$. The result is 2×2:
# $\begin{pmatrix} a & c \\ b & d \end{pmatrix} = \begin{pmatrix} 2 & 2 \\ 1 & -4 \end{pmatrix}$.
# (The report writes $d = 4$ "in absolute value"; the sign says the edge goes from bright to dark.)
# The filter cancels horizontal structure (+ and − columns) and so responds to vertical edges.

# %%
image = np.array([[3, 0, 2, 2],
                  [1, 0, 3, 1],
                  [3, 2, 2, 0],
                  [1, 2, 2, 1]], dtype=np.float32)
kernel = np.array([[-1, 0, 1],
                   [-2, 0, 2],
                   [-1, 0, 1]], dtype=np.float32)


def correlate2d(image, kernel, stride=1):
    """Slide `kernel` over `image` (no padding) and sum the products: what conv layers compute."""
    kh, kw = kernel.shape
    out_h = (image.shape[0] - kh) // stride + 1
    out_w = (image.shape[1] - kw) // stride + 1
    out = np.zeros((out_h, out_w), dtype=np.float32)
    for i in range(out_h):
        for j in range(out_w):
            window = image[i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[i, j] = np.sum(window * kernel)
    return out


by_hand = correlate2d(image, kernel)
print(by_hand)
(a, c), (b, d) = by_hand
print(f"a = {a:g}, b = {b:g}, c = {c:g}, d = {d:g}   (lecture: a=2, b=1, c=2, d=−4)")
assert (a, b, c, d) == (2, 1, 2, -4)

# %% [markdown]
# ## 2. The same with {{Track}}'s convolution layer
#
# We create a conv layer with one input channel, one filter, no bias, and *set* its weights to our
# kernel instead of learning them.

# %% tags=["keras"]
def framework_conv(image, kernel, padding="valid", stride=1):
    """One Keras Conv2D (1 filter, no bias) with our kernel; image (H, W) → output (H', W')."""
    layer = keras.layers.Conv2D(1, kernel.shape, strides=stride, padding=padding, use_bias=False)
    layer.build((None, *image.shape, 1))
    layer.set_weights([kernel.reshape(*kernel.shape, 1, 1)])  # Keras kernels: (kh, kw, in, out)
    x = image.reshape(1, *image.shape, 1).astype("float32")   # NHWC: batch, height, width, channel
    return keras.ops.convert_to_numpy(layer(x))[0, :, :, 0]


# %% tags=["pytorch"]
def framework_conv(image, kernel, padding="valid", stride=1):
    """One nn.Conv2d (1 filter, no bias) with our kernel; image (H, W) → output (H', W')."""
    layer = nn.Conv2d(1, 1, kernel.shape, stride=stride, padding=padding, bias=False)
    with torch.no_grad():
        layer.weight[:] = torch.tensor(kernel)                  # PyTorch weights: (out, in, kh, kw)
    x = torch.tensor(image, dtype=torch.float32)[None, None]    # NCHW: batch, channel, height, width
    with torch.no_grad():
        return layer(x)[0, 0].numpy()


# %%
framework = framework_conv(image, kernel)
print("{{Track}}:\n", framework)
assert np.allclose(framework, [[2, 2], [1, -4]])
print("same as by hand ✓")

# %% [markdown]
# ### Convolution or cross-correlation?
#
# In mathematics a *convolution* flips the kernel (upside down and left-right) before sliding it.
# What we did — and what every deep-learning framework does — slides the kernel **unflipped**: a
# **cross-correlation**. Since the kernel is learned anyway, nobody minds; the name "convolution"
# stuck. For our edge filter flipping changes the sign:

# %%
flipped = correlate2d(image, kernel[::-1, ::-1])
print("true convolution (flipped kernel):\n", flipped)
assert np.allclose(flipped, -by_hand)

# %% [markdown]
# ## 3. Output size, padding and stride
#
# For an input of height $H$, filter size $F$, padding $P$ (zeros added on each side) and stride
# $S$ (step of the slide), the output height is
#
# $$H_{out} = \frac{H + 2P - F}{S} + 1$$
#
# (rounded down; the same for the width). Examples:
#
# - 4×4 input, 3×3 filter, $P=0, S=1$: $(4 - 3)/1 + 1 = 2$ → our 2×2 result (**valid** padding);
# - $P = 1$: $(4 + 2 - 3)/1 + 1 = 4$ → same size as the input (**same** padding): the report pads a
#   frame of zeros so that the image does not shrink;
# - MNIST 28×28 with 4 filters of 3×3 (Keras `Conv2D(4, 3)`, PyTorch `Conv2d(1, 4, 3)`): $28 - 3 + 1 = 26$.

# %%
def out_size(h, f, p=0, s=1):
    return (h + 2 * p - f) // s + 1


print("valid:", framework_conv(image, kernel, padding="valid").shape,
      " same:", framework_conv(image, kernel, padding="same").shape)
print(framework_conv(image, kernel, padding="same"))
assert framework_conv(image, kernel, padding="same").shape == (4, 4)

# %% tags=["keras"]
def framework_out_size(h, f, p, s):
    """Height after ZeroPadding2D(p) + Conv2D(f, strides=s) in Keras."""
    model = keras.Sequential([keras.Input(shape=(h, h, 1)), keras.layers.ZeroPadding2D(p),
                              keras.layers.Conv2D(1, f, strides=s)])
    return model.output_shape[1]


# %% tags=["pytorch"]
def framework_out_size(h, f, p, s):
    """Height after nn.Conv2d(f, stride=s, padding=p) in PyTorch."""
    return nn.Conv2d(1, 1, f, stride=s, padding=p)(torch.zeros(1, 1, h, h)).shape[-1]


# %%
print(" H   F  P  S | formula  {{Track}}")
for h, f, p, s in [(4, 3, 0, 1), (4, 3, 1, 1), (28, 3, 0, 1), (28, 5, 2, 1), (32, 5, 0, 1),
                   (28, 3, 1, 2), (7, 3, 1, 2), (32, 3, 1, 1)]:
    formula, measured = out_size(h, f, p, s), framework_out_size(h, f, p, s)
    print(f"{h:2d} {f:3d} {p:2d} {s:2d} | {formula:5d} {measured:8d}")
    assert formula == measured

# %% [markdown]
# ## 4. Channels and parameters
#
# Real images have several **channels** (RGB: 3), and a conv layer makes several output channels
# (one per filter). Each filter spans *all* input channels — in the channel direction a conv layer
# is fully connected. The course's MNIST network (深層実習):
#
# ```
# conv1 = Conv2d(1, 4, 3)      # 1×28×28 → 4×26×26
# conv2 = Conv2d(4, 4, 3)      # 4×26×26 → 4×24×24
# flatten                      # 4×24×24 → 2304
# fc1   = Linear(4*24*24, 128)
# fc2   = Linear(128, 10)
# ```
#
# Parameters = input channels × filter height × filter width × output channels + one bias per
# output channel; for a dense layer inputs × outputs + biases:
#
# | layer | computation | parameters |
# |---|---|---|
# | conv1 | 1·3·3·4 + 4 | **40** |
# | conv2 | 4·3·3·4 + 4 | **148** |
# | fc1 | 2304·128 + 128 | **295,040** |
# | fc2 | 128·10 + 10 | **1,290** |

# %%
expected = {"conv1": 1 * 3 * 3 * 4 + 4, "conv2": 4 * 3 * 3 * 4 + 4,
            "fc1": 2304 * 128 + 128, "fc2": 128 * 10 + 10}
print(expected, "total", sum(expected.values()))
assert list(expected.values()) == [40, 148, 295_040, 1_290]

# %% tags=["keras"]
net = keras.Sequential([
    keras.Input(shape=(28, 28, 1)),
    keras.layers.Conv2D(4, 3, activation="relu", name="conv1"),  # → 26×26×4
    keras.layers.Conv2D(4, 3, activation="relu", name="conv2"),  # → 24×24×4
    keras.layers.Flatten(name="flatten"),                          # → 2304
    keras.layers.Dense(128, activation="relu", name="fc1"),
    keras.layers.Dense(10, name="fc2"),
])
net.summary()
counted = {name: net.get_layer(name).count_params() for name in expected}
total = net.count_params()

# %% tags=["pytorch"]
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.conv2 = nn.Conv2d(4, 4, 3)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(4 * 24 * 24, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = torch.relu(self.conv1(x))  # 1x28x28 -> 4x26x26
        x = torch.relu(self.conv2(x))  # 4x26x26 -> 4x24x24
        x = self.flatten(x)            # 4x24x24 -> 2304
        x = torch.relu(self.fc1(x))
        return self.fc2(x)


net = Net()
stats = torchinfo.summary(net, input_size=(1, 1, 28, 28))  # batch size included
print(stats)
counted = {name: sum(p.numel() for p in getattr(net, name).parameters()) for name in expected}
total = stats.total_params

# %%
for name in expected:
    print(f"{name}: summary {counted[name]:>7,}   by hand {expected[name]:>7,}")
assert counted == expected
assert total == 296_518

# %% [markdown]
# Note how the two tiny conv layers have 188 parameters, while the first dense layer has 295,040:
# weight sharing (the same 3×3 filter everywhere in the image) makes convolution cheap.
#
# ### Writing a model: where the ReLU goes, what the summary shows, how to flatten (seed 003)
#
# The practical course asks *ReLUを__init__に書くかどうか* — should the ReLU be declared as a
# layer, or called as a function? Its answer: **either**. A layer with weights must be created
# once (in PyTorch: in `__init__`), or its weights would start afresh at every call; ReLU (and
# sigmoid, tanh) has no weights, it is a pure function. The only difference is what the model's
# printout and summary list. The course's tiny example: 1 input → 30 hidden units → 10 outputs has
# $1·30 + 30 = 60$ and $30·10 + 10 = 310$ parameters, **370** in all; with a second hidden layer
# of 30 ($30·30 + 30 = 930$) it has **1,300**.

# %% tags=["keras"]
relu_argument = keras.Sequential([      # ReLU as an argument of the Dense layer
    keras.Input(shape=(1,)), keras.layers.Dense(30, activation="relu"), keras.layers.Dense(10),
], name="relu_as_argument")
relu_layer = keras.Sequential([         # ReLU as a layer of its own
    keras.Input(shape=(1,)), keras.layers.Dense(30), keras.layers.ReLU(), keras.layers.Dense(10),
], name="relu_as_layer")
relu_argument.summary()  # two rows: the ReLU hides inside the first Dense layer
relu_layer.summary()     # three rows: the ReLU has a row of its own, with 0 parameters
two_hidden = keras.Sequential([
    keras.Input(shape=(1,)), keras.layers.Dense(30, activation="relu"),
    keras.layers.Dense(30, activation="relu"), keras.layers.Dense(10),
])
counts = [relu_argument.count_params(), relu_layer.count_params(), two_hidden.count_params()]

# %% tags=["pytorch"]
class ReluInInit(nn.Module):
    """The course's MyModel: the ReLU declared in __init__, as a layer."""

    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(1, 30)
        self.layer2 = nn.ReLU()
        self.layer3 = nn.Linear(30, 10)

    def forward(self, x):
        return self.layer3(self.layer2(self.layer1(x)))


class ReluAsFunction(nn.Module):
    """Two hidden layers; ReLU called as a function in forward (torch.relu = F.relu = nn.ReLU()(x))."""

    def __init__(self):
        super().__init__()
        self.layer1 = nn.Linear(1, 30)
        self.layer3 = nn.Linear(30, 30)
        self.layer5 = nn.Linear(30, 10)

    def forward(self, x):
        x = torch.relu(self.layer1(x))
        x = torch.nn.functional.relu(self.layer3(x))
        return self.layer5(x)


class OneReluTwice(ReluAsFunction):
    """The same network with one ReLU module, declared once and used twice."""

    def __init__(self):
        super().__init__()
        self.relu = nn.ReLU()

    def forward(self, x):
        return self.layer5(self.relu(self.layer3(self.relu(self.layer1(x)))))


for model in (ReluInInit(), ReluAsFunction(), OneReluTwice()):
    print(model)  # lists the modules made in __init__, in that order, each once
    print(torchinfo.summary(model, input_size=(1, 1), verbose=0))  # lists every call in forward
counts = [torchinfo.summary(m(), input_size=(1, 1), verbose=0).total_params
          for m in (ReluInInit, ReluAsFunction, OneReluTwice)]

# %% [markdown] tags=["keras"]
# Read the summaries: with `Dense(30, activation="relu")` the ReLU hides inside the Dense row,
# while `keras.layers.ReLU()` gets a row of its own, with 0 parameters. In Keras `print(model)`
# shows only the model's name; the listing is `model.summary()`. The course's trap has a Keras
# twin: `keras.layers.ReLU(x)` is **not** the ReLU of `x` — it builds a ReLU *layer* with `x` as
# its `max_value` (or fails, when `x` is an array). Call the function (`keras.activations.relu(x)`)
# or a layer (`keras.layers.ReLU()(x)`).

# %% tags=["keras"]
print(relu_layer)  # only the name: Keras lists a model's layers with model.summary()
x = np.array([-1.0, 2.0], dtype="float32")
print("keras.activations.relu(x) =", keras.ops.convert_to_numpy(keras.activations.relu(x)),
      "   keras.layers.ReLU()(x) =", keras.ops.convert_to_numpy(keras.layers.ReLU()(x)))
print("keras.layers.ReLU(2.0) is a", type(keras.layers.ReLU(2.0)).__name__,
      "layer (with max_value=2.0), not a number")

# %% [markdown] tags=["pytorch"]
# Read the printouts: `print(model)` shows the ReLU only where it was declared in `__init__`, and
# the reused one only once; torchinfo follows the forward pass and shows it at every call. A trap
# from the course: `torch.nn.ReLU(x)` is **not** the ReLU of `x` — it builds a ReLU *layer* (with
# `x` as its `inplace` setting). Call the function (`torch.relu(x)`) or a layer (`nn.ReLU()(x)`).

# %% tags=["pytorch"]
x = torch.tensor([-1.0, 2.0])
print("torch.relu(x) =", torch.relu(x), "   nn.ReLU()(x) =", nn.ReLU()(x))
print("nn.ReLU(x) is a", type(nn.ReLU(x)).__name__, "layer, not a tensor")

# %% [markdown]
# The parameter counts are the same however the ReLU is written:

# %%
print("parameters:", counts)
assert counts[-1] == 1_300 and counts[0] == 370

# %% [markdown]
# **Flattening.** Before the first dense layer a stack of feature maps, shape
# (batch, …) with 4×24×24 numbers per image, becomes one row of 2,304 numbers *per image*. The
# batch dimension must stay: flattening it too mixes all images of a batch into one long row.

# %% tags=["keras"]
maps = np.zeros((8, 24, 24, 4), dtype=np.float32)  # a batch of 8 images, 24×24×4 each
print("keras.layers.Flatten():", tuple(keras.layers.Flatten()(maps).shape))   # (8, 2304)
print("keras.ops.reshape(maps, (-1,)):", tuple(keras.ops.reshape(maps, (-1,)).shape),
      "  ← the batch is gone")

# %% tags=["pytorch"]
maps = torch.zeros(8, 4, 24, 24)  # a batch of 8 images, 4×24×24 each
print("nn.Flatten():         ", tuple(nn.Flatten()(maps).shape))       # (8, 2304)
print("torch.flatten(maps, 1):", tuple(torch.flatten(maps, 1).shape))  # the same: from dimension 1 on
print("torch.flatten(maps):   ", tuple(torch.flatten(maps).shape), "  ← the batch is gone")

# %% [markdown]
# ## 5. Filters on a real digit
#
# Let us apply classic 3×3 filters to an MNIST test digit with {{Track}}'s conv layer
# (`padding="same"`, so the pictures keep their 28×28 size).

# %%
mnist = load_mnist(n_train=100, n_test=100)
digit = mnist.x_test[0, :, :, 0].astype(np.float32) / 255.0
print(mnist, "— label of the test digit:", mnist.y_test[0])

filters = {
    "vertical edges": kernel,
    "horizontal edges": kernel.T.copy(),
    "blur": np.full((3, 3), 1 / 9, dtype=np.float32),
    "sharpen": np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=np.float32),
}
fig, axes = plt.subplots(1, len(filters) + 1, figsize=(12, 2.8))
axes[0].imshow(digit, cmap="gray")
axes[0].set_title(f"input ({mnist.y_test[0]})")
for ax, (name, k) in zip(axes[1:], filters.items(), strict=True):
    ax.imshow(framework_conv(digit, k, padding="same"), cmap="RdBu_r")
    ax.set_title(name)
for ax in axes:
    ax.axis("off")
plt.show()

# %% [markdown]
# Red = positive response, blue = negative: the vertical-edge filter lights up on the left and
# right borders of the strokes, with opposite signs.
#
# ### Several pictures in one figure: `subplots` and its pitfall (seed 003)
#
# The figure above comes from `fig, axes = plt.subplots(1, 5)`: one figure (`fig`) and a list of
# sub-plots (`axes[0]` … `axes[4]`; `plt.subplots(2, 2)` gives a 2×2 array `axes[i][j]`), and we
# draw into each through its own object (`ax.imshow`, `ax.set_title`). The short form found in
# many examples, `plt.subplot(121)` then `plt.plot(...)`, draws into the *current* sub-plot, the
# one made last. The course shows the pitfall: create both sub-plots first, then plot twice, and
# both lines land on the right.

# %%
t = np.linspace(0, 2 * np.pi, 50)
plt.figure(figsize=(7, 2))
plt.subplot(121)
plt.subplot(122)            # now the right one is "current"
plt.plot(t, np.sin(t))      # meant for the left one …
plt.plot(t, np.cos(t))      # … but both go to the right
plt.suptitle("pitfall: plt.plot draws into the current sub-plot")
lines_per_axes = [len(ax.lines) for ax in plt.gcf().axes]
plt.show()
print("lines in the left and right sub-plot:", lines_per_axes)
assert lines_per_axes == [0, 2]

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(7, 2))  # the safe way: one object per sub-plot
ax1.plot(t, np.sin(t))
ax1.set(title="sin", xlabel="t [rad]")
ax2.plot(t, np.cos(t))
ax2.set(title="cos", xlabel="t [rad]")
fig.tight_layout()
plt.show()

# %% [markdown]
# ## 6. Playground: your own kernel
#
# Edit the nine numbers (or pick a preset); the filtered digit is redrawn after every change.
# (The picture is computed with the numpy `correlate2d` from section 1, zero-padded to keep 28×28.)

# %%
cells = [[widgets.FloatText(value=float(kernel[i, j]), step=0.5, layout={"width": "60px"})
          for j in range(3)] for i in range(3)]
preset = widgets.Dropdown(options=list(filters), value="vertical edges", description="preset")
picture = widgets.Image(format="png")  # replaced in place on every change: works in Lab, Colab, VS Code
renders = []


def current_kernel():
    return np.array([[cell.value for cell in row] for row in cells], dtype=np.float32)


def render(change=None):
    k = current_kernel()
    result = correlate2d(np.pad(digit, 1), k)  # P = 1 zeros → 28×28 stays 28×28
    fig, (ax_in, ax_out) = plt.subplots(1, 2, figsize=(6, 3))
    ax_in.imshow(digit, cmap="gray")
    ax_in.set_title("input")
    ax_out.imshow(result, cmap="RdBu_r")
    ax_out.set_title(f"kernel sum {k.sum():g}")
    for ax in (ax_in, ax_out):
        ax.axis("off")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)  # the widget shows the picture; no second copy below the cell
    picture.value = buffer.getvalue()
    renders.append(k)


def load_preset(change):
    for i in range(3):
        for j in range(3):
            cells[i][j].value = float(filters[preset.value][i, j])


for row in cells:
    for cell in row:
        cell.observe(render, names="value")
preset.observe(load_preset, names="value")
render()
display(widgets.HBox([widgets.VBox([preset, widgets.GridBox(
    [c for row in cells for c in row], layout={"grid_template_columns": "repeat(3, 65px)"})]), picture]))

# %%
# Check that the playground reacts: change one number as if you had typed it.
before = len(renders)
cells[1][1].value = 1.0
assert len(renders) == before + 1 and renders[-1][1, 1] == 1.0
cells[1][1].value = 0.0  # back to the edge filter
print("the picture was redrawn", len(renders), "times")

# %% [markdown]
# ## Summary
#
# - A conv layer slides a small kernel over the image and sums products (cross-correlation);
#   the lecture's example gives $a=2, b=1, c=2, d=-4$, in numpy and in {{Track}}.
# - Output size: $(H + 2P - F)/S + 1$. `valid` = no padding (shrinks), `same` = pad to keep the size.
# - Parameters of a conv layer: in·F·F·out + out. Conv layers are cheap; dense layers are not.
#
# ## Exercises
#
# 1. In the playground, find a kernel that detects only the *bottom* edges of strokes.
# 2. What does a kernel whose numbers sum to 0 do on a flat (constant) region? And one summing to 1?
# 3. How many parameters does a convolution from 3 to 6 channels with 5×5 filters have (Keras
#    `Conv2D(6, 5)` on colour images, PyTorch `Conv2d(3, 6, 5)`; CIFAR-10, lesson 6)? Check in {{Track}}.
# 4. Compute the output size of a 32×32 image after a 5×5 conv (valid), a 2×2 pooling, another 5×5
#    conv and another pooling. (Answer in lesson 6: 5×5.)
